#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_RANKING_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_RANKING_H_

// Rankings of reps, teams or channels on any figure the analytics service
// answers: the funnel's, or prefixed, pool health's, the forecast's, the
// forecast accuracy's and the receivables' (see GetRankingRequest.metric).

#include <string>

#include "crm/analytics/v1/analytics_service.pb.h"
#include "libs/readstore/projection_runner.h"
#include "services/analytics/projection/funnel.h"

namespace crm::analytics {

// Groups ranked on `metric`, best first, ties sharing a rank; rows without
// a group (leads nobody took, reps in no team) are left out.
// INVALID_ARGUMENT naming `metric` or `group_by` for what cannot be ranked.
absl::StatusOr<crm::analytics::v1::Ranking> BuildRanking(
    readstore::ReadStore* store, const std::string& tenant, const std::string& metric,
    crm::analytics::v1::GetFunnelRequest::GroupBy group_by, int limit, const Window& w);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_RANKING_H_
