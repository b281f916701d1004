#ifndef CRM_SERVICES_LEAD_APP_LEAD_COMMANDS_H_
#define CRM_SERVICES_LEAD_APP_LEAD_COMMANDS_H_

// Command handlers of the lead service: load the aggregate from the event
// store, decide, append. Thread-safe.

#include <string>

#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

class LeadCommandHandler {
 public:
  LeadCommandHandler(eventstore::EventStore* store, Clock* clock) : store_(store), clock_(clock) {}

  // Creates a lead with a new id (cmd.lead_id and cmd.now are set here).
  // A request id seen before returns the lead that request created.
  absl::StatusOr<Lead> Create(const std::string& tenant, const std::string& request_id,
                              CreateLead cmd);

  // The lead as its stream stands now; NOT_FOUND when there is none.
  absl::StatusOr<Lead> Get(const std::string& tenant, const std::string& lead_id);

 private:
  absl::StatusOr<Lead> Load(const std::string& tenant, const std::string& lead_id);

  eventstore::EventStore* store_;
  Clock* clock_;
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_APP_LEAD_COMMANDS_H_
