#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_FORECAST_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_FORECAST_H_

// The forecast and its accuracy, as of any moment, from the opportunity
// facts (OpportunityFactsProjection): each opportunity's forecast states
// with their times, its close, the stages it passed, and the tenant's
// calibration setting over time (`<tenant>\0opp-settings\0<time>`).

#include <string>

#include "absl/time/time.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "libs/readstore/projection_runner.h"

namespace crm::analytics {

// See AnalyticsService.GetForecast. `group_by` tenant (or unspecified), rep
// or team; INVALID_ARGUMENT naming `group_by` otherwise.
absl::StatusOr<crm::analytics::v1::Forecast> BuildForecast(
    readstore::ReadStore* store, const std::string& tenant,
    crm::analytics::v1::GetFunnelRequest::GroupBy group_by, absl::Time as_of);

// See AnalyticsService.GetForecastAccuracy; `months` in [1, 36].
absl::StatusOr<crm::analytics::v1::ForecastAccuracy> BuildForecastAccuracy(
    readstore::ReadStore* store, const std::string& tenant,
    crm::analytics::v1::GetFunnelRequest::GroupBy group_by, int months, absl::Time as_of);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_FORECAST_H_
