#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_BACKTEST_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_BACKTEST_H_

// Backtesting the pool rules: the customers' recorded history (the
// drop-fact, held and policy rows of PoolHistoryProjection) replayed under
// a proposed policy with the customer service's own rule code
// (services/customer/domain), read-only.

#include <string>

#include "absl/time/time.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "libs/readstore/projection_runner.h"

namespace crm::analytics {

// See AnalyticsService.BacktestPoolRules. INVALID_ARGUMENT names `to` for
// an empty window, and `policy.<field>` / `update_mask` for a proposal the
// customer service would refuse.
absl::StatusOr<crm::analytics::v1::PoolRulesBacktest> BacktestPoolRules(
    readstore::ReadStore* store, const std::string& tenant,
    const crm::analytics::v1::BacktestPoolRulesRequest& request, absl::Time now);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_BACKTEST_H_
