#include "services/lead/domain/policy.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/status/status.h"

namespace crm::lead {

LeadPolicy LeadPolicy::From(const ev::LeadSettings& s) {
  LeadPolicy p;
  if (s.assign_mode() != ev::ASSIGN_MODE_UNSPECIFIED) p.assign_mode = s.assign_mode();
  if (s.strategy() != ev::ASSIGN_STRATEGY_UNSPECIFIED) p.strategy = s.strategy();
  p.teams.assign(s.teams().begin(), s.teams().end());
  if (s.rep_capacity() > 0) p.rep_capacity = s.rep_capacity();
  if (s.work_timeout_seconds() > 0) p.work_timeout = absl::Seconds(s.work_timeout_seconds());
  if (s.grade_a_min() > 0) p.grade_a_min = s.grade_a_min();
  if (s.grade_b_min() > 0) p.grade_b_min = s.grade_b_min();
  if (s.grade_c_min() > 0) p.grade_c_min = s.grade_c_min();
  if (s.engagement_cap() > 0) p.engagement_cap = s.engagement_cap();
  if (s.interest_min_views() > 0) p.interest_min_views = s.interest_min_views();
  if (s.interest_min_seconds() > 0) p.interest_min_seconds = s.interest_min_seconds();
  return p;
}

const ev::Team* LeadPolicy::FindTeam(const std::string& team_id) const {
  for (const ev::Team& t : teams) {
    if (team_id.empty() || t.team_id() == team_id) return &t;
  }
  return nullptr;
}

absl::Status ValidateSettings(const ev::LeadSettings& s) {
  FieldViolations v;
  auto non_negative = [&](const char* field, int64_t value, int64_t max) {
    if (value < 0 || value > max) {
      v.Add(absl::StrCat("settings.", field), absl::StrCat("must be between 0 and ", max));
    }
  };
  non_negative("rep_capacity", s.rep_capacity(), 100000);
  non_negative("work_timeout_seconds", s.work_timeout_seconds(), int64_t{365} * 86400);
  non_negative("grade_a_min", s.grade_a_min(), 100);
  non_negative("grade_b_min", s.grade_b_min(), 100);
  non_negative("grade_c_min", s.grade_c_min(), 100);
  non_negative("engagement_cap", s.engagement_cap(), 100);
  non_negative("interest_min_views", s.interest_min_views(), 10000);
  non_negative("interest_min_seconds", s.interest_min_seconds(), 86400);
  const LeadPolicy p = LeadPolicy::From(s);
  if (!(p.grade_a_min > p.grade_b_min && p.grade_b_min > p.grade_c_min)) {
    v.Add("settings.grade_a_min", "grade thresholds must fall: A above B above C");
  }
  if (!ev::AssignMode_IsValid(s.assign_mode())) {
    v.Add("settings.assign_mode", "is not a known mode");
  }
  if (!ev::AssignStrategy_IsValid(s.strategy())) {
    v.Add("settings.strategy", "is not a known strategy");
  }
  std::set<std::string> team_ids;
  for (int i = 0; i < s.teams_size(); ++i) {
    const ev::Team& t = s.teams(i);
    const std::string at = absl::StrCat("settings.teams[", i, "]");
    if (t.team_id().empty()) v.Add(at + ".team_id", "is required");
    if (!team_ids.insert(t.team_id()).second) v.Add(at + ".team_id", "names a team twice");
    if (t.members().empty()) v.Add(at + ".members", "must name at least one rep");
    std::set<std::string> reps;
    for (int j = 0; j < t.members_size(); ++j) {
      const std::string& rep = t.members(j).rep_id();
      const std::string m = absl::StrCat(at, ".members[", j, "].rep_id");
      if (rep.empty()) v.Add(m, "is required");
      if (!reps.insert(rep).second) v.Add(m, "names a rep twice in the team");
    }
    for (int j = 0; j < t.manager_ids_size(); ++j) {
      const std::string& manager = t.manager_ids(j);
      if (manager.empty() || manager.size() > 64) {
        v.Add(absl::StrCat(at, ".manager_ids[", j, "]"), "must be 1-64 bytes");
      }
    }
  }
  if (p.assign_mode == ev::ASSIGN_MODE_ASSIGN && s.teams().empty()) {
    v.Add("settings.teams", "assign mode needs at least one team");
  }
  return v.ToStatus();
}

absl::StatusOr<ev::LeadSettings> MergeSettings(const ev::LeadSettings& current,
                                               const ev::LeadSettings& update,
                                               const std::vector<std::string>& mask) {
  if (mask.empty()) return update;
  FieldViolations v;
  google::protobuf::FieldMask fm;
  for (const std::string& path : mask) {
    if (!ev::LeadSettings::descriptor()->FindFieldByName(path)) {
      v.Add("update_mask", absl::StrCat("'", path, "' is not a lead settings field"));
    } else {
      fm.add_paths(path);
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  ev::LeadSettings merged = current;
  google::protobuf::util::FieldMaskUtil::MergeOptions replace;
  replace.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(update, fm, replace, &merged);
  return merged;
}

int32_t FitScore(const ev::LeadCreated& lead, const ev::Qualification& q) {
  int32_t score = 0;
  if (q.budget_confirmed()) score += 20;
  if (q.decision_maker()) score += 15;
  if (!q.need().empty()) score += 10;
  const int32_t days = q.purchase_within_days();
  if (days > 0) score += days <= 30 ? 15 : days <= 90 ? 10 : days <= 180 ? 5 : 0;
  if (!lead.email().empty()) score += 3;
  if (!lead.phone().empty()) score += 3;
  if (!lead.legal_entity_id().empty()) score += 2;
  if (!lead.industry().empty()) score += 1;
  if (!lead.region().empty()) score += 1;
  return score;
}

int32_t EngagementPoints(ev::EngagementKind kind, int32_t seconds) {
  switch (kind) {
    case ev::ENGAGEMENT_KIND_CONTENT_VIEWED:
      return 1 + std::min(std::max(seconds, 0) / 30, 4);
    case ev::ENGAGEMENT_KIND_LINK_OPENED:
      return 2;
    case ev::ENGAGEMENT_KIND_FORM_SUBMITTED:
      return 10;
    default:
      return 0;
  }
}

ev::Grade GradeOf(int32_t score, const LeadPolicy& p) {
  if (score >= p.grade_a_min) return ev::GRADE_A;
  if (score >= p.grade_b_min) return ev::GRADE_B;
  if (score >= p.grade_c_min) return ev::GRADE_C;
  return ev::GRADE_D;
}

}  // namespace crm::lead
