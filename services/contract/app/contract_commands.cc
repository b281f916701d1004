#include "services/contract/app/contract_commands.h"

#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::contract {

absl::StatusOr<Contract> ContractCommandHandler::Get(const std::string& tenant,
                                                     const std::string& contract_id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, contract_id}));
  Contract c;
  c.id = contract_id;
  for (const auto& e : stored) {
    ContractEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    c = Evolve(std::move(c), event);
  }
  if (!c.exists()) return absl::NotFoundError("contract " + contract_id + " does not exist");
  return c;
}

absl::StatusOr<Contract> ContractCommandHandler::Create(const std::string& tenant,
                                                        const std::string& request_id,
                                                        contract::Create cmd) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());
  cmd.now = clock_->Now();
  cmd.contract_id = eventstore::NewTimeOrderedId('k', cmd.now);
  ASSIGN_OR_RETURN(ContractEvent event, Decide(Contract{}, cmd));
  ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(event));
  std::vector<eventstore::NewEvent> events;
  events.push_back(std::move(ne));
  ASSIGN_OR_RETURN(auto receipt, store_->Append({tenant, cmd.contract_id}, eventstore::kNoStream,
                                                std::move(events), request_id));
  // A concurrent retry may have won: the receipt names what it created.
  return Get(tenant, receipt.stream_id());
}

}  // namespace crm::contract
