#ifndef CRM_SERVICES_LEAD_PROJECTION_LEAD_LIST_H_
#define CRM_SERVICES_LEAD_PROJECTION_LEAD_LIST_H_

// LeadList: every lead of a tenant, oldest first, fed from the service's own
// log. Rows: `<tenant>\0lead\0<lead_id>` -> LeadCreated.

#include <string>
#include <vector>

#include "libs/readstore/projection_runner.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

class LeadListProjection : public readstore::Projection {
 public:
  std::string name() const override { return "lead_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

struct LeadPage {
  std::vector<LeadCreated> leads;
  std::string last_id;  // empty when the list has no more
};

// Up to `page_size` leads after `after_id` (empty: from the start).
absl::StatusOr<LeadPage> ListLeads(readstore::ReadStore* store, const std::string& tenant,
                                   int page_size, const std::string& after_id);

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_PROJECTION_LEAD_LIST_H_
