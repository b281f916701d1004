#ifndef CRM_SERVICES_CONTRACT_APP_CONTRACT_COMMANDS_H_
#define CRM_SERVICES_CONTRACT_APP_CONTRACT_COMMANDS_H_

// Command handlers of the contract service. Thread-safe; every command is
// idempotent on its request id.

#include <string>

#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "services/contract/domain/contract.h"

namespace crm::contract {

class ContractCommandHandler {
 public:
  ContractCommandHandler(eventstore::EventStore* store, Clock* clock)
      : store_(store), clock_(clock) {}

  // cmd.contract_id and cmd.now are set here. A request id seen before
  // returns the contract that request created.
  absl::StatusOr<Contract> Create(const std::string& tenant, const std::string& request_id,
                                  contract::Create cmd);
  // NOT_FOUND when there is none.
  absl::StatusOr<Contract> Get(const std::string& tenant, const std::string& contract_id);

 private:
  eventstore::EventStore* store_;
  Clock* clock_;
};

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_APP_CONTRACT_COMMANDS_H_
