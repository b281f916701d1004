#ifndef CRM_SERVICES_OPPORTUNITY_PROJECTION_CUSTOMER_FACTS_H_
#define CRM_SERVICES_OPPORTUNITY_PROJECTION_CUSTOMER_FACTS_H_

// What the opportunity service knows of customers, from the customer
// service's topic (crm.customer.events.v1): the owner, whether a contact is
// marked key person, and whether a valid meeting whose outcome or note
// mentions a demo was logged. Row: `<tenant>\0cust\0<customer>` ->
// "<owner>\n<key person 0|1><demo 0|1>".

#include <string>

#include "libs/readstore/projection_runner.h"
#include "services/opportunity/domain/opportunity.h"

namespace crm::opportunity {

class CustomerFactsProjection : public readstore::Projection {
 public:
  std::string name() const override { return "customer_facts"; }
  // Events of other aggregates on the topic are skipped, not parked.
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

absl::StatusOr<CustomerFacts> FindCustomerFacts(readstore::ReadStore* store,
                                                const std::string& tenant,
                                                const std::string& customer_id);

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_PROJECTION_CUSTOMER_FACTS_H_
