#ifndef CRM_SERVICES_CUSTOMER_DOMAIN_CONFLICT_H_
#define CRM_SERVICES_CUSTOMER_DOMAIN_CONFLICT_H_

// Conflict judgement: two reps hold records of the same company (matching
// normalised name, legal entity id or a key person's phone or email). The rep
// who does not own the disputed customer files a claim with their own record
// as evidence; the policy judges at once from the events of every record of
// the company (the two filed and the others matching the disputed one), only
// each rep's own touches counting for them:
//
// - a rep without a valid follow-up on their record loses to one with;
// - SMB (rule smb-first-valid-follow-up/1): the earlier first valid
//   follow-up wins;
// - KA (rule ka-more-progress/2): more progress wins (key person reached
//   counts 10, plus the win probability of the rep's most advanced
//   opportunity with the company, from the opportunity topic), then the
//   earlier first valid follow-up;
// - a full tie leaves the customer with its owner.
//
// The loser's filed record moves to the winner. The verdict names every
// record and version it read and the events that decided it, so the same
// inputs always give the same verdict.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/customer/domain/customer.h"

namespace crm::customer {

using ConflictEvent = ev::ConflictEvent;

inline constexpr char kSmbRule[] = "smb-first-valid-follow-up/1";
inline constexpr char kKaRule[] = "ka-more-progress/2";

std::string ConflictStreamId(const std::string& conflict_id);

// The verdict on `disputed` (owned by the incumbent) against `claimant`
// (the claimant's record), each given as its whole event stream; `related`
// are the company's other records, whose touches by either rep count too.
ev::ConflictJudged Judge(const std::vector<CustomerEvent>& disputed,
                         const std::vector<CustomerEvent>& claimant,
                         const std::vector<std::vector<CustomerEvent>>& related = {});

struct FileConflict {
  std::string conflict_id;
  std::string user;  // the claimant
  std::string note;
  absl::Time now;
};

struct ConflictDecision {
  ev::ConflictJudged verdict;
  CustomerEvent on_disputed, on_claimant;
  // The loser's record leaves the loser's pool for the winner's.
  std::string loser_record;
  RepPoolEvent loser_pool, winner_pool;
};

// NOT_FOUND when a record does not exist; FAILED_PRECONDITION
// CUSTOMER_NOT_DISPUTABLE when the disputed customer is public or already
// the user's, NOT_CUSTOMER_OWNER when the claimant record is not theirs,
// CONFLICT_NO_MATCH when the records share no key.
absl::StatusOr<ConflictDecision> Decide(
    const std::vector<CustomerEvent>& disputed, const std::vector<CustomerEvent>& claimant,
    const FileConflict& cmd, const std::vector<std::vector<CustomerEvent>>& related = {});

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_DOMAIN_CONFLICT_H_
