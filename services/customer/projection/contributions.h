#ifndef CRM_SERVICES_CUSTOMER_PROJECTION_CONTRIBUTIONS_H_
#define CRM_SERVICES_CUSTOMER_PROJECTION_CONTRIBUTIONS_H_

// The contribution ledger: who set which customer fields when, per rep and
// per customer, fed from the service's own log (creation, profile updates,
// sales facts). Completeness rewards and penalties answer to it.
// Rows: `<tenant>\0contrib-by\0<rep>\0<time>\0<customer>\0<version>` and
//       `<tenant>\0contrib-of\0<customer>\0<version>` -> v1::Contribution.

#include <string>
#include <vector>

#include "crm/customer/v1/customer_service.pb.h"
#include "libs/readstore/projection_runner.h"

namespace crm::customer {

class ContributionProjection : public readstore::Projection {
 public:
  std::string name() const override { return "contributions"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

struct ContributionPage {
  std::vector<crm::customer::v1::Contribution> contributions;
  std::string next;  // resume key; empty when there are no more
};

// Oldest first, up to `page_size` after `after`: `rep`'s contributions, or
// the contributions to `customer_id` when `rep` is empty.
absl::StatusOr<ContributionPage> ListContributions(readstore::ReadStore* store,
                                                   const std::string& tenant,
                                                   const std::string& rep,
                                                   const std::string& customer_id, int page_size,
                                                   const std::string& after);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_PROJECTION_CONTRIBUTIONS_H_
