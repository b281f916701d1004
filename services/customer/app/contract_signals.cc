#include "services/customer/app/contract_signals.h"

#include "crm/contract/events/v1/contract_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::customer {

absl::Status ContractSignals::Apply(const readstore::StoredEvent& event, readstore::RowWriter&) {
  crm::contract::events::v1::ContractEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  if (!e.has_contract_signed()) return absl::OkStatus();
  const auto& contract = e.contract_signed();
  return commands_
      ->NoteContract(
          event.tenant(), contract.customer_id(),
          {contract.contract_id(), contract.amount(), FromTimestamp(contract.sign_time())})
      .status();
}

}  // namespace crm::customer
