#ifndef CRM_SERVICES_CUSTOMER_PROJECTION_CUSTOMER_LIST_H_
#define CRM_SERVICES_CUSTOMER_PROJECTION_CUSTOMER_LIST_H_

// CustomerList: every customer of a tenant as a crm.customer.v1.Customer row,
// plus a pool index to list the public pool or one rep's private pool, fed
// from the service's own log.
// Rows: `<tenant>\0customer\0<id>` -> Customer;
//       `<tenant>\0pool\0<owner, empty for public>\0<id>` -> "".

#include <optional>
#include <string>
#include <vector>

#include "crm/customer/v1/customer_service.pb.h"
#include "libs/readstore/projection_runner.h"

namespace crm::customer {

class CustomerListProjection : public readstore::Projection {
 public:
  std::string name() const override { return "customer_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

struct CustomerPage {
  std::vector<crm::customer::v1::Customer> customers;
  std::string last_id;  // empty when there are no more
};

// Up to `page_size` customers after `after_id`: all of the tenant's when
// `owner` is nullopt, else those in `owner`'s private pool ("" = public pool).
absl::StatusOr<CustomerPage> ListCustomers(readstore::ReadStore* store, const std::string& tenant,
                                           std::optional<std::string> owner, int page_size,
                                           const std::string& after_id);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_PROJECTION_CUSTOMER_LIST_H_
