#ifndef CRM_SERVICES_CONTRACT_DOMAIN_CONTRACT_H_
#define CRM_SERVICES_CONTRACT_DOMAIN_CONTRACT_H_

// The contract aggregate: pure decisions and state changes, no I/O. So far a
// contract is created as a draft, from a won opportunity or directly; its
// approval, confirmation and payments are the contract issue's (#6) next
// steps.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/contract/events/v1/contract_events.pb.h"

namespace crm::contract {

namespace ev = crm::contract::events::v1;
using ContractEvent = ev::ContractEvent;

enum class State { kNone, kDraft };

struct Contract {
  std::string id;
  int64_t version = 0;
  State state = State::kNone;
  ev::ContractCreated created;
  bool exists() const { return version > 0; }
};

Contract Evolve(Contract c, const ContractEvent& event);

struct Create {
  std::string contract_id;
  std::string customer_id;
  std::string owner_id;
  std::string opportunity_id;
  std::vector<ev::ContractLine> lines;  // amounts are recomputed
  std::string user;
  absl::Time now;
};

// INVALID_ARGUMENT names every bad field as `contract.<field>`: customer
// required, 1-200 lines each with a product, quantity 1-1000000, list
// price >= 0, discount 0-10000 basis points. Line amounts are computed.
absl::StatusOr<ContractEvent> Decide(const Contract& c, const Create& cmd);

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_DOMAIN_CONTRACT_H_
