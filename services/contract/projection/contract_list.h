#ifndef CRM_SERVICES_CONTRACT_PROJECTION_CONTRACT_LIST_H_
#define CRM_SERVICES_CONTRACT_PROJECTION_CONTRACT_LIST_H_

// The contract read model, fed from the service's own log: each contract's
// row (`<tenant>\0contract\0<id>` -> v1::Contract) rebuilt from its stream.
// Lists and receivables are read from here.

#include <string>
#include <vector>

#include "crm/contract/v1/contract_service.pb.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/projection_runner.h"
#include "services/contract/domain/contract.h"

namespace crm::contract {

namespace v1 = crm::contract::v1;

void ToProto(const Contract& c, v1::Contract* out);

class ContractListProjection : public readstore::Projection {
 public:
  explicit ContractListProjection(eventstore::EventStore* store) : store_(store) {}
  std::string name() const override { return "contract_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  eventstore::EventStore* store_;
};

absl::StatusOr<std::vector<v1::Contract>> ListContracts(readstore::ReadStore* store,
                                                        const std::string& tenant,
                                                        const std::string& owner,
                                                        const std::string& customer);

// Open amounts of signed contracts by aging bucket at `now`, grouped, and
// every overdue installment oldest first.
absl::StatusOr<v1::Receivables> BuildReceivables(readstore::ReadStore* store,
                                                 const std::string& tenant,
                                                 v1::GetReceivablesRequest::GroupBy group_by,
                                                 absl::Time now);

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_PROJECTION_CONTRACT_LIST_H_
