#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_POOL_HISTORY_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_POOL_HISTORY_H_

// The history of customers and pools, from crm.customer.events.v1, each fact
// with its time, so that ownership, pools and pool health are answered as
// of any moment. Keys order facts by (event time, stream version):
//   `<tenant>\0own\0<customer>\0<when>`       -> "<owner>\n<how>"
//   `<tenant>\0held\0<rep>\0<customer>\0<when>` -> "1" entered / "0" left
//   `<tenant>\0compl\0<customer>\0<when>`     -> completeness 0-100
//   `<tenant>\0profile\0<customer>\0<when>` -> "<region>\n<industry>"
//   `<tenant>\0pool-event\0<when>\0<stream>`  -> "<kind>\n<rep>\n<amount>":
//       claim, release-owner, release-drop (rep: the previous owner),
//       conflict, reserve, secure, reservation-end, lapse (rep: the
//       reserving rep), reservation-signing (rep: the owner who had
//       reserved it, amount: the contract's)
//   `<tenant>\0reserved-by\0<customer>\0<rep>` -> "1" once reserved
// and for backtesting the pool rules (backtest.h):
//   `<tenant>\0drop-fact\0<customer>\0<when>` -> the customer event as drop
//       protection reads it (crm.customer.events.v1.CustomerEvent: owners,
//       segment, valid follow-ups, signed contracts; no personal data)
//   `<tenant>\0policy\0<when>` -> the tenant's PolicySettings from then on

#include <map>
#include <string>

#include "crm/analytics/v1/analytics_service.pb.h"
#include "libs/readstore/projection_runner.h"
#include "services/analytics/projection/funnel.h"

namespace crm::analytics {

class PoolHistoryProjection : public readstore::Projection {
 public:
  std::string name() const override { return "pool_history"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// NOT_FOUND when the customer did not exist at `as_of`.
absl::StatusOr<crm::analytics::v1::Ownership> BuildOwnership(readstore::ReadStore* store,
                                                             const std::string& tenant,
                                                             const std::string& customer_id,
                                                             absl::Time as_of);

absl::StatusOr<crm::analytics::v1::RepPoolAsOf> BuildRepPool(readstore::ReadStore* store,
                                                             const std::string& tenant,
                                                             const std::string& rep_id,
                                                             absl::Time as_of);

absl::StatusOr<crm::analytics::v1::PoolHealth> BuildPoolHealth(
    readstore::ReadStore* store, const std::string& tenant, const Window& w,
    crm::analytics::v1::GetPoolHealthRequest::GroupBy group_by =
        crm::analytics::v1::GetPoolHealthRequest::GROUP_BY_UNSPECIFIED);

// `customer`'s region (or industry) at `as_of`; "" when unknown.
absl::StatusOr<std::string> ProfileAsOf(readstore::ReadStore* store, const std::string& tenant,
                                        const std::string& customer, absl::Time as_of,
                                        bool industry);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_POOL_HISTORY_H_
