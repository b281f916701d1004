#include "services/customer/domain/policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

int32_t Days(absl::Duration d) { return static_cast<int32_t>(absl::ToInt64Hours(d) / 24); }
absl::Duration Days(int32_t d) { return absl::Hours(24 * int64_t{d}); }

const char* const kFields[] = {"company_name", "legal_entity_id", "industry", "region",
                               "size",         "annual_revenue",  "contacts", "tags",
                               "key_person",   "contact_reach"};

void InRange(FieldViolations& v, const char* field, int32_t value, int32_t lo, int32_t hi) {
  if (value < lo || value > hi) {
    v.Add(absl::StrCat("policy.", field), absl::StrCat("must be ", lo, "-", hi));
  }
}

void KnownFields(FieldViolations& v, const char* field,
                 const google::protobuf::RepeatedPtrField<std::string>& values) {
  for (int i = 0; i < values.size(); ++i) {
    if (std::find(std::begin(kFields), std::end(kFields), values[i]) == std::end(kFields)) {
      v.Add(absl::StrCat("policy.", field, "[", i, "]"),
            absl::StrCat("'", values[i], "' is not a profile field"));
    }
  }
}

}  // namespace

ev::PolicySettings ToSettings(const Policy& p) {
  ev::PolicySettings s;
  s.set_default_capacity(p.default_capacity);
  s.set_cool_down_days(Days(p.cool_down));
  s.set_smb_no_follow_up_days(Days(p.smb_no_follow_up));
  s.set_smb_no_contract_days(Days(p.smb_no_contract));
  s.set_ka_no_follow_up_days(Days(p.ka_no_follow_up));
  s.set_ka_no_contract_days(Days(p.ka_no_contract));
  s.set_warn_before_days(Days(p.warn_before));
  s.set_min_note_chars(static_cast<int32_t>(p.min_note_chars));
  for (const auto& b : p.banned_phrases) s.add_banned_phrases(b);
  for (const auto& f : p.mandatory_fields) s.add_mandatory_fields(f);
  for (const auto& f : p.scored_fields) s.add_scored_fields(f);
  s.set_reservation_multiple(p.reservation_multiple);
  s.set_reservation_window_days(Days(p.reservation_window));
  s.set_reservation_completeness_target(p.reservation_completeness_target);
  s.set_a_tier_follow_up_gap_days(Days(p.a_tier_follow_up_gap));
  s.set_losses_for_penalty(p.losses_for_penalty);
  s.set_loss_window_days(Days(p.loss_window));
  s.set_review_period_days(Days(p.review_period));
  s.set_review_min_customers(p.review_min_customers);
  s.set_low_completeness(p.low_completeness);
  s.set_high_completeness(p.high_completeness);
  s.set_penalty_percent(p.penalty_percent);
  s.set_drop_back_to_previous_owner(p.drop_back_to_previous_owner);
  s.set_engagement_spike_count(p.engagement_spike_count);
  s.set_engagement_spike_hours(static_cast<int32_t>(absl::ToInt64Hours(p.engagement_spike_window)));
  return s;
}

Policy FromSettings(const ev::PolicySettings& s) {
  Policy p;
  p.default_capacity = s.default_capacity();
  p.cool_down = Days(s.cool_down_days());
  p.smb_no_follow_up = Days(s.smb_no_follow_up_days());
  p.smb_no_contract = Days(s.smb_no_contract_days());
  p.ka_no_follow_up = Days(s.ka_no_follow_up_days());
  p.ka_no_contract = Days(s.ka_no_contract_days());
  p.warn_before = Days(s.warn_before_days());
  p.min_note_chars = static_cast<size_t>(s.min_note_chars());
  p.banned_phrases.assign(s.banned_phrases().begin(), s.banned_phrases().end());
  p.mandatory_fields.assign(s.mandatory_fields().begin(), s.mandatory_fields().end());
  p.scored_fields.assign(s.scored_fields().begin(), s.scored_fields().end());
  p.reservation_multiple = s.reservation_multiple();
  p.reservation_window = Days(s.reservation_window_days());
  p.reservation_completeness_target = s.reservation_completeness_target();
  p.a_tier_follow_up_gap = Days(s.a_tier_follow_up_gap_days());
  p.losses_for_penalty = s.losses_for_penalty();
  p.loss_window = Days(s.loss_window_days());
  p.review_period = Days(s.review_period_days());
  p.review_min_customers = s.review_min_customers();
  p.low_completeness = s.low_completeness();
  p.high_completeness = s.high_completeness();
  p.penalty_percent = s.penalty_percent();
  p.drop_back_to_previous_owner = s.drop_back_to_previous_owner();
  // Settings stored before these fields existed carry zeros: the defaults.
  if (s.engagement_spike_count() > 0) p.engagement_spike_count = s.engagement_spike_count();
  if (s.engagement_spike_hours() > 0) {
    p.engagement_spike_window = absl::Hours(s.engagement_spike_hours());
  }
  return p;
}

absl::StatusOr<ev::TenantPolicySet> Decide(const Policy& current, const UpdatePolicy& cmd) {
  FieldViolations v;
  if (cmd.paths.empty()) v.Add("update_mask", "names no field to update");
  google::protobuf::FieldMask mask;
  for (const std::string& path : cmd.paths) {
    if (!ev::PolicySettings::descriptor()->FindFieldByName(path)) {
      v.Add("update_mask", absl::StrCat("'", path, "' is not a policy field"));
    } else {
      mask.add_paths(path);
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  ev::PolicySettings s = ToSettings(current);
  google::protobuf::util::FieldMaskUtil::MergeOptions replace;
  replace.set_replace_repeated_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(cmd.settings, mask, replace, &s);

  constexpr int32_t kTenYears = 3650;
  InRange(v, "default_capacity", s.default_capacity(), 1, 10000);
  InRange(v, "cool_down_days", s.cool_down_days(), 0, kTenYears);
  InRange(v, "smb_no_follow_up_days", s.smb_no_follow_up_days(), 1, kTenYears);
  InRange(v, "smb_no_contract_days", s.smb_no_contract_days(), 1, kTenYears);
  InRange(v, "ka_no_follow_up_days", s.ka_no_follow_up_days(), 1, kTenYears);
  InRange(v, "ka_no_contract_days", s.ka_no_contract_days(), 1, kTenYears);
  InRange(v, "warn_before_days", s.warn_before_days(), 0, kTenYears);
  InRange(v, "min_note_chars", s.min_note_chars(), 0, 1000);
  if (s.banned_phrases_size() > 50) v.Add("policy.banned_phrases", "at most 50");
  for (int i = 0; i < s.banned_phrases_size(); ++i) {
    std::string phrase = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.banned_phrases(i)));
    if (phrase.empty() || phrase.size() > 100) {
      v.Add(absl::StrCat("policy.banned_phrases[", i, "]"), "must be 1-100 bytes");
    }
    s.set_banned_phrases(i, std::move(phrase));
  }
  KnownFields(v, "mandatory_fields", s.mandatory_fields());
  KnownFields(v, "scored_fields", s.scored_fields());
  if (std::find(s.mandatory_fields().begin(), s.mandatory_fields().end(), "company_name") ==
      s.mandatory_fields().end()) {
    v.Add("policy.mandatory_fields", "must include company_name: it identifies the customer");
  }
  InRange(v, "reservation_multiple", s.reservation_multiple(), 0, 100);
  InRange(v, "reservation_window_days", s.reservation_window_days(), 1, kTenYears);
  InRange(v, "reservation_completeness_target", s.reservation_completeness_target(), 0, 100);
  InRange(v, "a_tier_follow_up_gap_days", s.a_tier_follow_up_gap_days(), 1, kTenYears);
  InRange(v, "losses_for_penalty", s.losses_for_penalty(), 0, 1000);
  InRange(v, "loss_window_days", s.loss_window_days(), 1, kTenYears);
  InRange(v, "review_period_days", s.review_period_days(), 1, kTenYears);
  InRange(v, "review_min_customers", s.review_min_customers(), 0, 10000);
  InRange(v, "low_completeness", s.low_completeness(), 0, 100);
  InRange(v, "high_completeness", s.high_completeness(), 0, 100);
  InRange(v, "penalty_percent", s.penalty_percent(), 0, 100);
  InRange(v, "engagement_spike_count", s.engagement_spike_count(), 1, 1000);
  InRange(v, "engagement_spike_hours", s.engagement_spike_hours(), 1, 24 * 90);
  if (s.low_completeness() > s.high_completeness()) {
    v.Add("policy.low_completeness", "must not be above high_completeness");
  }
  RETURN_IF_ERROR(v.ToStatus());
  ev::TenantPolicySet e;
  *e.mutable_settings() = std::move(s);
  for (const auto& p : cmd.paths) e.add_paths(p);
  e.set_set_by(cmd.user);
  *e.mutable_set_time() = ToTimestamp(cmd.now);
  return e;
}

}  // namespace crm::customer
