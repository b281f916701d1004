#include "services/customer/domain/tiering.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

int64_t SalesIn(const SalesHistory& h, int32_t year) {
  auto it = h.by_year.find(year);
  return it == h.by_year.end() ? 0 : it->second;
}

// `to` is at least 10% above a positive `from`.
bool GrewTenPercent(int64_t from, int64_t to) { return from > 0 && to * 10 >= from * 11; }

}  // namespace

std::map<std::string, ev::Tier> AssignTiers(const std::vector<SalesHistory>& histories,
                                            int64_t customer_count) {
  std::map<std::string, ev::Tier> tiers;
  int32_t year = 0;
  bool any = false;
  for (const auto& h : histories) {
    if (!h.by_year.empty()) {
      year = any ? std::max(year, h.by_year.rbegin()->first) : h.by_year.rbegin()->first;
      any = true;
    }
  }
  if (!any) return tiers;
  std::vector<const SalesHistory*> ranked;
  for (const auto& h : histories) {
    if (SalesIn(h, year) > 0) ranked.push_back(&h);
  }
  std::sort(ranked.begin(), ranked.end(), [&](const SalesHistory* a, const SalesHistory* b) {
    const int64_t sa = SalesIn(*a, year), sb = SalesIn(*b, year);
    return sa != sb ? sa > sb : a->customer_id < b->customer_id;
  });
  const int64_t top = (std::max<int64_t>(customer_count, 0) * 20 + 99) / 100;
  for (size_t i = 0; i < ranked.size() && static_cast<int64_t>(i) < top; ++i) {
    tiers[ranked[i]->customer_id] = ev::TIER_A;
  }
  for (const auto& h : histories) {
    if (tiers.count(h.customer_id)) continue;
    if (GrewTenPercent(SalesIn(h, year - 2), SalesIn(h, year - 1)) &&
        GrewTenPercent(SalesIn(h, year - 1), SalesIn(h, year))) {
      tiers[h.customer_id] = ev::TIER_B;
    }
  }
  return tiers;
}

int32_t CustomerScore(int32_t completeness, ev::Tier tier, absl::Time last_valid_touch,
                      absl::Time now) {
  int32_t score = (std::clamp(completeness, 0, 100) + 1) / 2;
  score += tier == ev::TIER_A ? 30 : tier == ev::TIER_B ? 20 : 0;
  const absl::Duration since = now - last_valid_touch;
  score += since <= absl::Hours(24 * 30) ? 20 : since <= absl::Hours(24 * 90) ? 10 : 0;
  return std::min(score, 100);
}

std::optional<absl::Time> ATierFollowUpDue(ev::Tier tier, absl::Time claim_time,
                                           absl::Time last_valid_touch, absl::Duration gap) {
  if (tier != ev::TIER_A) return std::nullopt;
  return std::max(claim_time, last_valid_touch) + gap;
}

bool InSegment(const ev::SegmentRule& rule, const SegmentCandidate& c) {
  for (const auto& tag : rule.tags()) {
    if (std::find(c.tags.begin(), c.tags.end(), tag) == c.tags.end()) return false;
  }
  if (rule.tiers_size() > 0 &&
      std::find(rule.tiers().begin(), rule.tiers().end(), c.tier) == rule.tiers().end()) {
    return false;
  }
  if (!rule.region().empty() && !absl::EqualsIgnoreCase(rule.region(), c.region)) return false;
  if (rule.has_last_touch_before() &&
      c.last_valid_touch >= FromTimestamp(rule.last_touch_before())) {
    return false;
  }
  if (rule.has_score_above() && c.score <= rule.score_above()) return false;
  return true;
}

absl::StatusOr<ev::SegmentSaved> Decide(const SaveSegment& cmd) {
  FieldViolations v;
  const std::string name(absl::StripAsciiWhitespace(cmd.display_name));
  if (name.empty() || name.size() > 100) v.Add("segment.display_name", "must be 1-100 bytes");
  const ev::SegmentRule& r = cmd.rule;
  if (r.tags_size() == 0 && r.tiers_size() == 0 && r.region().empty() &&
      !r.has_last_touch_before() && !r.has_score_above()) {
    v.Add("segment.rule", "must set at least one condition");
  }
  if (r.tags_size() > 20) v.Add("segment.rule.tags", "at most 20");
  for (int i = 0; i < r.tiers_size(); ++i) {
    if (r.tiers(i) == ev::TIER_UNSPECIFIED || !ev::Tier_IsValid(r.tiers(i))) {
      v.Add(absl::StrCat("segment.rule.tiers[", i, "]"), "must be A, B or C");
    }
  }
  if (r.has_score_above() && (r.score_above() < 0 || r.score_above() > 100)) {
    v.Add("segment.rule.score_above", "must be 0-100");
  }
  RETURN_IF_ERROR(v.ToStatus());
  ev::SegmentSaved e;
  e.set_segment_id(cmd.segment_id);
  e.set_display_name(name);
  *e.mutable_rule() = cmd.rule;
  e.set_saved_by(cmd.user);
  *e.mutable_save_time() = ToTimestamp(cmd.now);
  return e;
}

std::string SegmentStreamId(const std::string& segment_id) { return "segment:" + segment_id; }

}  // namespace crm::customer
