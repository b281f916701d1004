#ifndef CRM_SERVICES_LEAD_DOMAIN_LEAD_H_
#define CRM_SERVICES_LEAD_DOMAIN_LEAD_H_

// The lead aggregate: pure decisions and state changes, no I/O.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "libs/normalize/normalize.h"

namespace crm::lead {

using LeadEvent = crm::lead::events::v1::LeadEvent;
using LeadCreated = crm::lead::events::v1::LeadCreated;

// A lead as its events leave it.
struct Lead {
  std::string id;
  int64_t version = 0;  // 0: does not exist
  LeadCreated profile;
  bool exists() const { return version > 0; }
};

struct CreateLead {
  std::string lead_id;
  std::string channel_id;
  std::string company_name;
  std::string contact_name;
  std::string email;
  std::string phone;
  std::string user;
  absl::Time now;
};

// Decides the events creating `cmd.lead_id` produces: input is validated and
// normalised (email lower case, phone digits, company name for duplicate
// matching). INVALID_ARGUMENT names every bad field (as `lead.<field>`);
// ALREADY_EXISTS when the lead exists.
absl::StatusOr<std::vector<LeadEvent>> Decide(const Lead& lead, const CreateLead& cmd);

// The lead after `event`.
Lead Evolve(Lead lead, const LeadEvent& event);

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_DOMAIN_LEAD_H_
