#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_LEAD_COUNTS_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_LEAD_COUNTS_H_

// LeadCountsByChannel: leads created per tenant and channel, fed from
// crm.lead.events.v1. Rows: `<tenant>\0leads_by_channel\0<channel>` -> count.

#include <string>
#include <utility>
#include <vector>

#include "libs/readstore/projection_runner.h"

namespace crm::analytics {

class LeadCountsProjection : public readstore::Projection {
 public:
  std::string name() const override { return "lead_counts_by_channel"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// (channel, count) pairs of `tenant`, ordered by channel.
absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LeadCountsByChannel(
    readstore::ReadStore* store, const std::string& tenant);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_LEAD_COUNTS_H_
