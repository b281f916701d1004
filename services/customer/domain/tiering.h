#ifndef CRM_SERVICES_CUSTOMER_DOMAIN_TIERING_H_
#define CRM_SERVICES_CUSTOMER_DOMAIN_TIERING_H_

// ABC tiering, the customer score and saved segments: pure functions over
// the facts the read model holds.
//
// Tiers (DOMAIN.md defaults) are relative to the tenant's other customers, so
// they are computed when asked, never stored: the reference year is the
// latest year any customer has a sales fact for;
// - A: the top 20% of all the tenant's customers (rounded up) by sales in
//   the reference year, among those with sales that year (ties broken by
//   customer id);
// - B: not A, and sales grew at least 10% a year over the two years up to
//   the reference year;
// - C: the rest.
//
// Score (0-100): half the completeness, plus 30 for tier A or 20 for B, plus
// 20 for a valid follow-up within 30 days or 10 within 90.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/customer/events/v1/customer_events.pb.h"

namespace crm::customer {

namespace ev = crm::customer::events::v1;

struct SalesHistory {
  std::string customer_id;
  std::map<int32_t, int64_t> by_year;
};

// Tier of every customer in `histories` that is not C; others are C.
// `customer_count` is the tenant's number of customers.
std::map<std::string, ev::Tier> AssignTiers(const std::vector<SalesHistory>& histories,
                                            int64_t customer_count);

int32_t CustomerScore(int32_t completeness, ev::Tier tier, absl::Time last_valid_touch,
                      absl::Time now);

// What a segment rule is checked against.
struct SegmentCandidate {
  std::vector<std::string> tags;
  ev::Tier tier = ev::TIER_C;
  std::string region;
  absl::Time last_valid_touch = absl::InfinitePast();
  int32_t score = 0;
};
bool InSegment(const ev::SegmentRule& rule, const SegmentCandidate& c);

// Moment of truth "mot:a-tier-no-touch": when an A-tier customer's owner
// is due to follow up (`gap` after the last valid follow-up, or after the
// claim when there was none); nullopt for other tiers.
inline constexpr char kMotATierNoTouch[] = "mot:a-tier-no-touch";
std::optional<absl::Time> ATierFollowUpDue(ev::Tier tier, absl::Time claim_time,
                                           absl::Time last_valid_touch, absl::Duration gap);

struct SaveSegment {
  std::string segment_id;
  std::string display_name;
  ev::SegmentRule rule;
  std::string user;
  absl::Time now;
};
// INVALID_ARGUMENT names each bad field (`segment.<field>`).
absl::StatusOr<ev::SegmentSaved> Decide(const SaveSegment& cmd);

std::string SegmentStreamId(const std::string& segment_id);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_DOMAIN_TIERING_H_
