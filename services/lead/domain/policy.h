#ifndef CRM_SERVICES_LEAD_DOMAIN_POLICY_H_
#define CRM_SERVICES_LEAD_DOMAIN_POLICY_H_

// A tenant's lead rules (assignment, capacity, work timeout, grading,
// engagement) and the scoring they drive. Pure functions, no I/O.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/lead/events/v1/lead_events.pb.h"

namespace crm::lead {

namespace ev = crm::lead::events::v1;

struct LeadPolicy {
  ev::AssignMode assign_mode = ev::ASSIGN_MODE_CLAIM;
  ev::AssignStrategy strategy = ev::ASSIGN_STRATEGY_ROUND_ROBIN;
  std::vector<ev::Team> teams;
  int32_t rep_capacity = 30;
  absl::Duration work_timeout = absl::Hours(48);
  int32_t grade_a_min = 70;
  int32_t grade_b_min = 45;
  int32_t grade_c_min = 20;
  int32_t engagement_cap = 30;
  int32_t interest_min_views = 2;
  int32_t interest_min_seconds = 120;

  // The shipped defaults with `settings`' non-zero values over them.
  static LeadPolicy From(const ev::LeadSettings& settings);
  // The team `team_id` names; the first team for ""; nullptr when none.
  const ev::Team* FindTeam(const std::string& team_id) const;
};

// INVALID_ARGUMENT naming each bad field (as `settings.<field>`): negative
// numbers, thresholds out of order, teams without an id or members, a rep
// twice in a team.
absl::Status ValidateSettings(const ev::LeadSettings& settings);

// The settings `mask` (paths of LeadSettings; empty: every field) takes from
// `update` over `current`; INVALID_ARGUMENT for an unknown path.
absl::StatusOr<ev::LeadSettings> MergeSettings(const ev::LeadSettings& current,
                                               const ev::LeadSettings& update,
                                               const std::vector<std::string>& mask);

// Points from what is known of the lead (0-70): budget 20, decision maker
// 15, a need 10, purchase within 30/90/180 days 15/10/5, email 3, phone 3,
// legal entity id 2, industry 1, region 1.
int32_t FitScore(const ev::LeadCreated& lead, const ev::Qualification& q);

// Points one engagement earns before the cap: a view 1 plus 1 per 30 s
// (at most 5), an opened link 2, a submitted form 10.
int32_t EngagementPoints(ev::EngagementKind kind, int32_t seconds);

ev::Grade GradeOf(int32_t score, const LeadPolicy& policy);

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_DOMAIN_POLICY_H_
