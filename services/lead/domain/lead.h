#ifndef CRM_SERVICES_LEAD_DOMAIN_LEAD_H_
#define CRM_SERVICES_LEAD_DOMAIN_LEAD_H_

// The lead aggregate and its companions (a rep's open leads, a team's round
// robin, a channel): pure decisions and state changes, no I/O.
//
// A lead is in the queue (nobody owns it), assigned (owned, not yet worked:
// it returns to the queue at its work deadline), working (its owner recorded
// a follow-up), or closed: converted, disqualified, merged into another lead,
// or routed (it matched an existing customer and went to that customer's
// owner instead of the queue). Refusals by a rule are FAILED_PRECONDITION
// with a reason: LEAD_CLOSED, LEAD_NOT_IN_QUEUE, NOT_LEAD_OWNER,
// LEAD_CAPACITY_REACHED, LEADS_ARE_ASSIGNED, LEAD_NOT_ASSIGNED.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "libs/normalize/normalize.h"
#include "services/lead/domain/policy.h"

namespace crm::lead {

using LeadEvent = ev::LeadEvent;
using LeadCreated = ev::LeadCreated;

enum class LeadState {
  kNone,
  kQueued,
  kAssigned,
  kWorking,
  kConverted,
  kDisqualified,
  kMerged,
  kRouted
};

// A lead as its events leave it.
struct Lead {
  std::string id;
  int64_t version = 0;  // 0: does not exist
  LeadState state = LeadState::kNone;
  LeadCreated profile;
  ev::Qualification qualification;
  std::string owner;
  std::string team;
  absl::Time work_deadline = absl::InfinitePast();
  int32_t engagement_points = 0;
  int32_t score = 0;
  ev::Grade grade = ev::GRADE_UNSPECIFIED;
  std::vector<std::string> tags;  // interest tags, in the order added
  struct Interest {
    int32_t views = 0;
    int32_t seconds = 0;
  };
  std::map<std::string, Interest> interests;  // by topic
  std::string customer_id;                    // converted or routed to
  std::string opportunity_id;                 // opened with the conversion
  std::string survivor_id;                    // merged into
  std::vector<std::string> merged_ids;        // merged into this one
  ev::DisqualifyReason disqualify_reason = ev::DISQUALIFY_REASON_UNSPECIFIED;
  int32_t follow_ups = 0;
  absl::Time create_time = absl::InfinitePast();
  bool contact_erased = false;

  bool exists() const { return version > 0; }
  bool open() const {
    return state == LeadState::kQueued || state == LeadState::kAssigned ||
           state == LeadState::kWorking;
  }
};

// The lead after `event`.
Lead Evolve(Lead lead, const LeadEvent& event);

// A rep's open leads (what capacity counts).
struct RepLoad {
  std::string rep;
  int64_t version = 0;
  std::set<std::string> open;
};
RepLoad Evolve(RepLoad load, const ev::RepLoadEvent& event);
// Stream ids of the companions in the lead service's log.
std::string RepStreamId(const std::string& rep);
std::string TeamStreamId(const std::string& team);
std::string ChannelStreamId(const std::string& channel);
inline constexpr char kPolicyStreamId[] = "lead-policy";
// Whether a stream of the log is a lead's (not a companion's).
bool IsLeadStream(absl::string_view stream_id);

// A team's round robin: who had the last turn.
struct TeamTurns {
  int64_t version = 0;
  std::string last_rep;
};
TeamTurns Evolve(TeamTurns turns, const ev::TeamEvent& event);

// What a decision appends: to the lead, and to reps' loads and a team.
struct Decision {
  std::vector<LeadEvent> lead;
  std::map<std::string, std::vector<ev::RepLoadEvent>> reps;  // by rep
  std::vector<ev::TeamEvent> team;
};

struct CreateLead {
  std::string lead_id;
  std::string channel_id;
  std::string company_name;
  std::string contact_name;
  std::string contact_title;
  std::string email;
  std::string phone;
  std::string legal_entity_id;
  std::string industry;
  std::string region;
  ev::Qualification qualification;
  std::string user;
  absl::Time now;
  std::string import_id;
  int32_t import_row = 0;
};

// Validates and normalises `cmd` into the LeadCreated it would record
// (score and grade set; duplicates not). INVALID_ARGUMENT names every bad
// field as `<prefix><field>` ("lead." for the API).
absl::StatusOr<LeadCreated> Clean(const CreateLead& cmd, const LeadPolicy& policy,
                                  absl::string_view prefix = "lead.");

// Keys that identify the company behind a lead, as "<kind>:<value>" with kind
// company_name, legal_entity_id, phone or email (sorted, unique).
std::vector<std::string> MatchKeys(const LeadCreated& lead);

// An existing customer a new lead matched.
struct CustomerMatch {
  std::string customer_id;
  std::string owner_id;
  std::vector<std::string> keys;  // kinds
};

// Creating a cleaned lead: LeadRouted when it matches `customer`, else
// LeadCreated recording `duplicates` (other open leads of the company).
// ALREADY_EXISTS when the lead exists.
absl::StatusOr<Decision> Decide(const Lead& lead, LeadCreated cleaned,
                                const std::optional<CustomerMatch>& customer,
                                std::vector<ev::LeadMatch> duplicates);

// Replaces the lead's qualification; recomputes score and grade. Only the
// owner may, or anyone while it is in the queue.
absl::StatusOr<Decision> Qualify(const Lead& lead, const ev::Qualification& q,
                                 const std::string& user, absl::Time now, const LeadPolicy& policy);

struct RecordEngagement {
  std::string engagement_id;
  ev::EngagementKind kind = ev::ENGAGEMENT_KIND_UNSPECIFIED;
  std::string content_id;
  std::vector<std::string> topics;
  int32_t seconds = 0;
  absl::Time now;
};
// Adds the engagement's points (up to the cap), recomputes the grade and
// adds an "interest:<topic>" tag for each topic that reaches the tenant's
// views or seconds.
absl::StatusOr<Decision> Engage(const Lead& lead, const RecordEngagement& cmd,
                                const LeadPolicy& policy);

// `rep` takes a queued lead; LEAD_CAPACITY_REACHED at the cap.
absl::StatusOr<Decision> Claim(const Lead& lead, const RepLoad& load, absl::Time now,
                               const LeadPolicy& policy);

// Who of `team` gets `lead` next under `strategy`: the first member after
// `turns.last_rep` in team order who fits the strategy, is under capacity
// and is not `exclude`; members in `priority` (complete data earned them
// priority for channel leads) before the others. nullopt when nobody is.
std::optional<std::string> PickAssignee(const Lead& lead, const ev::Team& team,
                                        const TeamTurns& turns,
                                        const std::map<std::string, RepLoad>& loads,
                                        ev::AssignStrategy strategy, int32_t capacity,
                                        const std::string& exclude,
                                        const std::set<std::string>& priority = {});

// Assigns a queued lead to `rep` of `team` (chosen by PickAssignee), moving
// the team's turn on.
absl::StatusOr<Decision> Assign(const Lead& lead, const RepLoad& load, const ev::Team& team,
                                ev::AssignStrategy strategy, const std::string& by, absl::Time now,
                                const LeadPolicy& policy);

// Back to the queue: by its owner, or (reason NOT_WORKED) when an assigned
// lead's work deadline has passed; nothing to do before it.
absl::StatusOr<Decision> Return(const Lead& lead, ev::ReturnReason reason, const std::string& user,
                                absl::Time now);

struct FollowUp {
  std::string follow_up_id;
  std::string note;
  std::string next_step;
  absl::Time next_step_time = absl::InfinitePast();
  std::string user;
  absl::Time now;
};
// The owner worked the lead; it no longer returns to the queue by itself.
absl::StatusOr<Decision> RecordFollowUp(const Lead& lead, const FollowUp& cmd);

// Closes an open lead with a reason (OTHER needs a note). The owner, or
// anyone while it is queued.
absl::StatusOr<Decision> Disqualify(const Lead& lead, ev::DisqualifyReason reason,
                                    const std::string& note, const std::string& user,
                                    absl::Time now);

// Records that the lead's contact was erased (the caller deletes the key
// first); nothing to decide when it was before. Any state: erasure is a
// right of the person, not a step of the sale.
absl::StatusOr<Decision> EraseContact(const Lead& lead, const std::string& user, absl::Time now);

// Whether `user` may convert the lead (its owner, the lead open); the
// customer is created only after this holds.
absl::Status CheckConvertible(const Lead& lead, const std::string& user);
// Records the conversion into `customer_id` (and `opportunity_id`, if one
// was opened).
absl::StatusOr<Decision> Convert(const Lead& lead, const std::string& customer_id,
                                 const std::string& opportunity_id, const std::string& user,
                                 absl::Time now);

// Merges open lead `merged` into open lead `survivor`: events for both
// streams, the merged one's owner letting it go.
struct MergeDecision {
  Decision survivor;
  Decision merged;
};
absl::StatusOr<MergeDecision> Merge(const Lead& survivor, const Lead& merged,
                                    const std::string& user, absl::Time now);

// The channel definition to save; INVALID_ARGUMENT names bad fields as
// `channel.<field>`.
absl::Status ValidateChannel(const ev::ChannelSaved& channel);

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_DOMAIN_LEAD_H_
