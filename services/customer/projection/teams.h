#ifndef CRM_SERVICES_CUSTOMER_PROJECTION_TEAMS_H_
#define CRM_SERVICES_CUSTOMER_PROJECTION_TEAMS_H_

// Who manages whom, learned from the lead service's topic
// (crm.lead.events.v1): the tenant's teams in its lead settings, each with
// its members and managers. A manager (with the `manager` role) sees the
// customers of their teams' members in full.
// Rows: `<tenant>\0manages\0<manager>\0<rep>` -> "",
//       `<tenant>\0managed-rows` -> the current rows' keys, '\n'-separated.

#include <set>
#include <string>

#include "libs/readstore/projection_runner.h"

namespace crm::customer {

class TeamsProjection : public readstore::Projection {
 public:
  std::string name() const override { return "teams"; }
  // Leads and other events on the topic are skipped, not parked.
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// The reps `manager` manages in `tenant` (members of the teams they manage).
absl::StatusOr<std::set<std::string>> ManagedReps(readstore::ReadStore* store,
                                                  const std::string& tenant,
                                                  const std::string& manager);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_PROJECTION_TEAMS_H_
