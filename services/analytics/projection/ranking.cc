#include "services/analytics/projection/ranking.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "libs/status/status.h"
#include "services/analytics/projection/forecast.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/projection/receivables.h"

namespace crm::analytics {
namespace {

namespace pb = google::protobuf;
using Req = v1::GetFunnelRequest;

// The figure a metric's prefix names: the message its rows are.
const pb::Descriptor* FigureOf(absl::string_view prefix) {
  if (prefix.empty()) return v1::FunnelRow::descriptor();
  if (prefix == "pool") return v1::PoolHealth::descriptor();
  if (prefix == "forecast") return v1::ForecastRow::descriptor();
  if (prefix == "forecast_accuracy") return v1::ForecastAccuracyRow::descriptor();
  if (prefix == "receivables") return v1::ReceivablesRow::descriptor();
  return nullptr;
}

// Lower is better for these; biases rank by their size.
bool Ascending(absl::string_view prefix, absl::string_view name) {
  static const std::set<std::pair<std::string, std::string>> kLowerIsBetter = {
      {"pool", "releases_by_drop_protection"},
      {"pool", "reservations_lapsed"},
      {"forecast_accuracy", "error"},
      {"forecast_accuracy", "stage_default_error"},
      {"forecast_accuracy", "bias"},
      {"receivables", "days_0_30"},
      {"receivables", "days_31_60"},
      {"receivables", "days_61_90"},
      {"receivables", "over_90"},
      {"receivables", "overdue_amount"},
      {"receivables", "overdue_installments"},
      {"receivables", "prediction_error_days"},
      {"receivables", "prediction_bias_days"},
  };
  if (prefix.empty()) return absl::StartsWith(name, "days_");
  return kLowerIsBetter.count({std::string(prefix), std::string(name)}) > 0;
}

bool Numeric(const pb::FieldDescriptor* f) {
  if (f == nullptr || f->is_repeated() || f->name() == "group") return false;
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
    case pb::FieldDescriptor::CPPTYPE_INT64:
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      return true;
    default:
      return false;
  }
}

double ValueOf(const pb::Message& row, const pb::FieldDescriptor* f) {
  const pb::Reflection* r = row.GetReflection();
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      return r->GetInt32(row, f);
    case pb::FieldDescriptor::CPPTYPE_INT64:
      return static_cast<double>(r->GetInt64(row, f));
    default:
      return r->GetDouble(row, f);
  }
}

}  // namespace

absl::StatusOr<v1::Ranking> BuildRanking(readstore::ReadStore* store, const std::string& tenant,
                                         const std::string& metric, Req::GroupBy group_by,
                                         int limit, const Window& w) {
  const size_t dot = metric.find('.');
  const absl::string_view prefix =
      dot == std::string::npos ? absl::string_view() : absl::string_view(metric).substr(0, dot);
  const absl::string_view name = dot == std::string::npos
                                     ? absl::string_view(metric)
                                     : absl::string_view(metric).substr(dot + 1);
  FieldViolations v;
  const pb::Descriptor* figure = FigureOf(prefix);
  const pb::FieldDescriptor* field =
      figure == nullptr ? nullptr : figure->FindFieldByName(std::string(name));
  if (!Numeric(field)) {
    v.Add("metric",
          "must be a funnel figure (e.g. won_amount) or a number of pool health, the forecast, "
          "forecast accuracy or receivables prefixed pool., forecast., forecast_accuracy. or "
          "receivables. (e.g. pool.claims)");
  }
  if (group_by == Req::GROUP_BY_UNSPECIFIED) group_by = Req::GROUP_BY_REP;
  if (group_by != Req::GROUP_BY_REP && group_by != Req::GROUP_BY_TEAM &&
      (group_by != Req::GROUP_BY_CHANNEL || !prefix.empty())) {
    v.Add("group_by", prefix.empty() ? "ranks reps, teams or channels" : "ranks reps or teams");
  }
  RETURN_IF_ERROR(v.ToStatus());

  // The figure's rows, one per group.
  std::vector<std::pair<std::string, const pb::Message*>> rows;
  v1::Funnel funnel;
  v1::PoolHealth pool;
  v1::Forecast forecast;
  v1::ForecastAccuracy accuracy;
  v1::ReceivablesAging receivables;
  if (prefix.empty()) {
    ASSIGN_OR_RETURN(funnel, BuildFunnel(store, tenant, group_by, w));
    for (const auto& r : funnel.rows()) rows.emplace_back(r.group(), &r);
  } else if (prefix == "pool") {
    ASSIGN_OR_RETURN(pool, BuildPoolHealth(store, tenant, w,
                                           group_by == Req::GROUP_BY_TEAM
                                               ? v1::GetPoolHealthRequest::GROUP_BY_TEAM
                                               : v1::GetPoolHealthRequest::GROUP_BY_REP));
    for (const auto& r : pool.groups()) rows.emplace_back(r.group(), &r);
  } else if (prefix == "forecast") {
    ASSIGN_OR_RETURN(forecast, BuildForecast(store, tenant, group_by, w.as_of));
    const std::string month =
        absl::FormatCivilTime(absl::ToCivilMonth(w.as_of, absl::UTCTimeZone()));
    for (const auto& r : forecast.rows()) {
      if (r.period() == month) rows.emplace_back(r.group(), &r);
    }
  } else if (prefix == "forecast_accuracy") {
    ASSIGN_OR_RETURN(accuracy, BuildForecastAccuracy(store, tenant, group_by, 6, w.as_of));
    for (const auto& r : accuracy.rows()) rows.emplace_back(r.group(), &r);
  } else {
    ASSIGN_OR_RETURN(receivables, BuildReceivables(store, tenant, group_by, w.as_of));
    for (const auto& r : receivables.rows()) rows.emplace_back(r.group(), &r);
  }

  const bool ascending = Ascending(prefix, name);
  const bool by_size = absl::EndsWith(name, "bias") || absl::EndsWith(name, "bias_days");
  std::vector<std::pair<double, std::string>> values;
  for (const auto& [group, row] : rows) {
    if (group.empty()) continue;
    const double value = ValueOf(*row, field);
    values.emplace_back(by_size ? std::abs(value) : value, group);
  }
  std::sort(values.begin(), values.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return ascending ? a.first < b.first : a.first > b.first;
    return a.second < b.second;
  });
  v1::Ranking out;
  out.set_metric(metric);
  out.set_ascending(ascending);
  for (size_t i = 0; i < values.size() && static_cast<int>(i) < limit; ++i) {
    v1::RankingRow* r = out.add_rows();
    r->set_rank(i > 0 && values[i].first == values[i - 1].first
                    ? out.rows(static_cast<int>(i) - 1).rank()
                    : static_cast<int32_t>(i) + 1);
    r->set_group(values[i].second);
    r->set_value(values[i].first);
  }
  return out;
}

}  // namespace crm::analytics
