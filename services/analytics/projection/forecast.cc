#include "services/analytics/projection/forecast.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "crm/analytics/model/v1/facts.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"
#include "services/analytics/projection/rows.h"
#include "services/opportunity/domain/catalog.h"

namespace crm::analytics {
namespace {

namespace facts = crm::analytics::model::v1;
namespace oev = crm::opportunity::events::v1;
using GroupBy = v1::GetFunnelRequest::GroupBy;

// The opportunity service's default for calibration_min_closed.
constexpr int32_t kDefaultMinClosed = 20;

// A calendar period in UTC: [start, end).
struct Span {
  std::string label;
  absl::Time start, end;
  bool Holds(absl::Time t) const { return t >= start && t < end; }
};

Span MonthSpan(absl::CivilMonth m) {
  return {absl::FormatCivilTime(m), absl::FromCivil(m, absl::UTCTimeZone()),
          absl::FromCivil(m + 1, absl::UTCTimeZone())};
}

// The quarter `ahead` quarters after the one holding `m`.
Span QuarterSpan(absl::CivilMonth m, int ahead) {
  const absl::CivilMonth q = absl::CivilMonth(m.year(), (m.month() - 1) / 3 * 3 + 1) + 3 * ahead;
  return {absl::StrCat(q.year(), "-Q", (q.month() - 1) / 3 + 1),
          absl::FromCivil(q, absl::UTCTimeZone()), absl::FromCivil(q + 3, absl::UTCTimeZone())};
}

// The tenant's calibration settings over time, oldest first.
using MinClosedHistory = std::vector<std::pair<absl::Time, int32_t>>;

absl::StatusOr<MinClosedHistory> LoadMinClosed(readstore::ReadStore* store,
                                               const std::string& tenant) {
  MinClosedHistory out;
  const std::string prefix = RowKey(tenant, "opp-settings");
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    int32_t n = 0;
    (void)absl::SimpleAtoi(value, &n);
    out.emplace_back(absl::FromUnixMicros(readstore::DecodeBigEndian64(key.substr(prefix.size()))),
                     n > 0 ? n : kDefaultMinClosed);
    return true;
  }));
  return out;
}

// Every opportunity fact of the tenant, one at a time: a query reads them
// twice (the calibration from the closed ones, then the figures) rather
// than holding them all.
absl::Status EachOpportunity(readstore::ReadStore* store, const std::string& tenant,
                             const std::function<void(facts::OpportunityFact&&)>& each) {
  return ScanRows<facts::OpportunityFact>(store, RowKey(tenant, "opp"), each);
}

// The forecast state the opportunity stood in at `t`; null before it
// existed.
const facts::ForecastState* StateAt(const facts::OpportunityFact& o, absl::Time t) {
  const facts::ForecastState* at = nullptr;
  for (const auto& s : o.states()) {
    if (FromTimestamp(s.time()) > t) break;
    at = &s;
  }
  return at;
}

bool ClosedBy(const facts::OpportunityFact& o, absl::Time t) {
  return HappenedBy(o.won_time(), t) || HappenedBy(o.lost_time(), t);
}

// The stages' win probabilities as they were calibrated at `t`, from
// every opportunity fact Add()ed.
class Probabilities {
 public:
  Probabilities(const MinClosedHistory& min_closed, absl::Time t) : t_(t) {
    for (const auto& [since, n] : min_closed) {
      if (since <= t) min_closed_ = n;
    }
  }

  void Add(const facts::OpportunityFact& o) {
    if (!ClosedBy(o, t_)) return;
    const bool won = HappenedBy(o.won_time(), t_);
    for (const auto& stage : o.stages_reached()) {
      auto& [closed, wins] = stats_[{o.pipeline_id(), stage}];
      ++closed;
      wins += won ? 1 : 0;
    }
  }

  // Percent, for an open deal in `stage` whose default is `stage_default`.
  int32_t Of(const std::string& pipeline, const facts::ForecastState& s) {
    const auto key = std::make_pair(pipeline, s.stage_id());
    const auto [closed, wins] = stats_[key];
    const opportunity::Calibration c =
        opportunity::Calibrate(s.probability(), closed, wins, min_closed_);
    auto& used = used_[key];
    used.set_pipeline_id(pipeline);
    used.set_stage_id(s.stage_id());
    used.set_default_probability(s.probability());
    used.set_probability(c.probability);
    used.set_closed(closed);
    used.set_won(wins);
    used.set_calibrated(c.calibrated);
    return c.probability;
  }

  // The probabilities Of() handed out, by pipeline and stage.
  const std::map<std::pair<std::string, std::string>, v1::StageProbability>& used() const {
    return used_;
  }

 private:
  absl::Time t_;
  int32_t min_closed_ = kDefaultMinClosed;
  std::map<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>> stats_;
  std::map<std::pair<std::string, std::string>, v1::StageProbability> used_;
};

absl::StatusOr<std::string (*)(const facts::OpportunityFact&)> Grouping(GroupBy group_by) {
  switch (group_by) {
    case v1::GetFunnelRequest::GROUP_BY_UNSPECIFIED:
    case v1::GetFunnelRequest::GROUP_BY_TENANT:
      return [](const facts::OpportunityFact&) { return std::string(); };
    case v1::GetFunnelRequest::GROUP_BY_REP:
      return [](const facts::OpportunityFact& o) { return o.owner_id(); };
    case v1::GetFunnelRequest::GROUP_BY_TEAM:
      return [](const facts::OpportunityFact& o) { return o.team_id(); };
    default: {
      FieldViolations v;
      v.Add("group_by", "forecasts group by rep, team or tenant");
      return v.ToStatus();
    }
  }
}

// Percent-weighted sums, rounded once at the end.
int64_t Rounded(__int128 percent_sum) { return static_cast<int64_t>((percent_sum + 50) / 100); }

}  // namespace

absl::StatusOr<v1::Forecast> BuildForecast(readstore::ReadStore* store, const std::string& tenant,
                                           GroupBy group_by, absl::Time as_of) {
  ASSIGN_OR_RETURN(auto group_of, Grouping(group_by));
  ASSIGN_OR_RETURN(const MinClosedHistory min_closed, LoadMinClosed(store, tenant));
  const absl::CivilMonth month = absl::ToCivilMonth(as_of, absl::UTCTimeZone());
  const std::vector<Span> spans = {MonthSpan(month), MonthSpan(month + 1), QuarterSpan(month, 0),
                                   QuarterSpan(month, 1)};
  struct Acc {
    v1::ForecastRow row;
    __int128 weighted = 0, calibrated = 0;
  };
  std::map<std::string, std::vector<Acc>> groups;
  Probabilities probabilities(min_closed, as_of);
  RETURN_IF_ERROR(
      EachOpportunity(store, tenant, [&](facts::OpportunityFact&& o) { probabilities.Add(o); }));
  RETURN_IF_ERROR(EachOpportunity(store, tenant, [&](facts::OpportunityFact&& o) {
    const facts::ForecastState* s = StateAt(o, as_of);
    if (s == nullptr || HappenedBy(o.lost_time(), as_of)) return;
    const bool won = HappenedBy(o.won_time(), as_of);
    if (!won && !IsSet(s->expected_close_time())) return;  // not scheduled
    // An open deal whose expected close has passed is expected now.
    const absl::Time when = won ? FromTimestamp(o.won_time())
                                : std::max(FromTimestamp(s->expected_close_time()), as_of);
    const int32_t probability = won ? 100 : probabilities.Of(o.pipeline_id(), *s);
    auto& accs = groups[group_of(o)];
    accs.resize(spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      if (!spans[i].Holds(when)) continue;
      v1::ForecastRow& r = accs[i].row;
      if (won) {
        r.set_won(r.won() + 1);
        r.set_won_amount(r.won_amount() + o.won_amount());
        continue;
      }
      r.set_open(r.open() + 1);
      r.set_open_amount(r.open_amount() + s->amount());
      if (s->category() == oev::FORECAST_CATEGORY_COMMIT) {
        r.set_commit_amount(r.commit_amount() + s->amount());
      } else if (s->category() == oev::FORECAST_CATEGORY_BEST_CASE) {
        r.set_best_case_amount(r.best_case_amount() + s->amount());
      }
      accs[i].weighted += static_cast<__int128>(s->amount()) * s->probability();
      accs[i].calibrated += static_cast<__int128>(s->amount()) * probability;
    }
  }));
  v1::Forecast out;
  *out.mutable_as_of() = ToTimestamp(as_of);
  for (auto& [group, accs] : groups) {
    for (size_t i = 0; i < spans.size(); ++i) {
      v1::ForecastRow& r = accs[i].row;
      r.set_group(group);
      r.set_period(spans[i].label);
      r.set_weighted_amount(Rounded(accs[i].weighted));
      r.set_calibrated_amount(Rounded(accs[i].calibrated));
      r.set_forecast_amount(r.won_amount() + r.calibrated_amount());
      *out.add_rows() = std::move(r);
    }
  }
  for (const auto& [key, p] : probabilities.used()) *out.add_probabilities() = p;
  return out;
}

absl::StatusOr<v1::ForecastAccuracy> BuildForecastAccuracy(readstore::ReadStore* store,
                                                           const std::string& tenant,
                                                           GroupBy group_by, int months,
                                                           absl::Time as_of) {
  if (group_by == v1::GetFunnelRequest::GROUP_BY_UNSPECIFIED) {
    group_by = v1::GetFunnelRequest::GROUP_BY_REP;
  }
  ASSIGN_OR_RETURN(auto group_of, Grouping(group_by));
  ASSIGN_OR_RETURN(const MinClosedHistory min_closed, LoadMinClosed(store, tenant));
  const absl::CivilMonth current = absl::ToCivilMonth(as_of, absl::UTCTimeZone());
  struct Month {
    __int128 forecast = 0, stage_default = 0;
    int64_t actual = 0;
  };
  std::map<std::string, std::vector<Month>> groups;
  // Each month's calibration at its first moment, from one pass.
  std::vector<Span> spans;
  std::vector<Probabilities> probabilities;
  for (int i = 0; i < months; ++i) {
    spans.push_back(MonthSpan(current - months + i));
    probabilities.emplace_back(min_closed, spans.back().start);
  }
  RETURN_IF_ERROR(EachOpportunity(store, tenant, [&](facts::OpportunityFact&& o) {
    for (Probabilities& p : probabilities) p.Add(o);
  }));
  RETURN_IF_ERROR(EachOpportunity(store, tenant, [&](facts::OpportunityFact&& o) {
    for (int i = 0; i < months; ++i) {
      const Span& span = spans[static_cast<size_t>(i)];
      Month* m = nullptr;
      auto month = [&]() {
        if (m == nullptr) {
          auto& row = groups[group_of(o)];
          row.resize(static_cast<size_t>(months));
          m = &row[static_cast<size_t>(i)];
        }
        return m;
      };
      // Won in the month (it ended before as_of's month began).
      if (IsSet(o.won_time()) && span.Holds(FromTimestamp(o.won_time()))) {
        month()->actual += o.won_amount();
      }
      // Forecast for the month at its first moment.
      const facts::ForecastState* s = StateAt(o, span.start);
      if (s == nullptr || ClosedBy(o, span.start) || !IsSet(s->expected_close_time())) continue;
      if (FromTimestamp(s->expected_close_time()) >= span.end) continue;
      month()->forecast += static_cast<__int128>(s->amount()) *
                           probabilities[static_cast<size_t>(i)].Of(o.pipeline_id(), *s);
      month()->stage_default += static_cast<__int128>(s->amount()) * s->probability();
    }
  }));
  // Sum |forecast - actual| / sum actual; 1 when only the forecast is non-zero.
  auto error = [](int64_t off, int64_t actual) {
    if (actual == 0) return off == 0 ? 0.0 : 1.0;
    return static_cast<double>(off) / static_cast<double>(actual);
  };
  v1::ForecastAccuracy out;
  for (const auto& [group, ms] : groups) {
    v1::ForecastAccuracyRow* r = out.add_rows();
    r->set_group(group);
    int64_t off = 0, default_off = 0;
    for (int i = 0; i < months; ++i) {
      const Month& m = ms[static_cast<size_t>(i)];
      v1::ForecastAccuracyMonth* am = r->add_months();
      am->set_period(absl::FormatCivilTime(current - months + i));
      am->set_forecast_amount(Rounded(m.forecast));
      am->set_stage_default_amount(Rounded(m.stage_default));
      am->set_actual_amount(m.actual);
      r->set_forecast_total(r->forecast_total() + am->forecast_amount());
      r->set_actual_total(r->actual_total() + m.actual);
      off += std::abs(am->forecast_amount() - m.actual);
      default_off += std::abs(am->stage_default_amount() - m.actual);
    }
    r->set_error(error(off, r->actual_total()));
    r->set_accuracy(std::max(0.0, 1.0 - r->error()));
    if (r->actual_total() > 0) {
      r->set_bias(static_cast<double>(r->forecast_total() - r->actual_total()) /
                  static_cast<double>(r->actual_total()));
    }
    r->set_stage_default_error(error(default_off, r->actual_total()));
  }
  return out;
}

}  // namespace crm::analytics
