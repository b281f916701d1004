#include "services/lead/app/lead_commands.h"

#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::lead {

absl::StatusOr<Lead> LeadCommandHandler::Load(const std::string& tenant,
                                              const std::string& lead_id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, lead_id}));
  Lead lead;
  lead.id = lead_id;
  for (const auto& e : stored) {
    LeadEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    lead = Evolve(std::move(lead), event);
  }
  return lead;
}

absl::StatusOr<Lead> LeadCommandHandler::Get(const std::string& tenant,
                                             const std::string& lead_id) {
  ASSIGN_OR_RETURN(Lead lead, Load(tenant, lead_id));
  if (!lead.exists()) return absl::NotFoundError("lead " + lead_id + " does not exist");
  return lead;
}

absl::StatusOr<Lead> LeadCommandHandler::Create(const std::string& tenant,
                                                const std::string& request_id, CreateLead cmd) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());

  cmd.lead_id = eventstore::NewTimeOrderedId('l', clock_->Now());
  cmd.now = clock_->Now();
  ASSIGN_OR_RETURN(auto events, Decide(Lead{}, cmd));
  std::vector<eventstore::NewEvent> to_append;
  for (const auto& e : events) {
    ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(e));
    to_append.push_back(std::move(ne));
  }
  ASSIGN_OR_RETURN(auto receipt, store_->Append({tenant, cmd.lead_id}, eventstore::kNoStream,
                                                std::move(to_append), request_id));
  // A concurrent retry may have won: the receipt names the lead it created.
  return Get(tenant, receipt.stream_id());
}

}  // namespace crm::lead
