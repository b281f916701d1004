#ifndef CRM_SERVICES_OPPORTUNITY_APP_CONTRACT_CLIENT_H_
#define CRM_SERVICES_OPPORTUNITY_APP_CONTRACT_CLIENT_H_

// The opportunity service's client of the contract service: creates the
// contract of a won deal over gRPC, acting for the owner, lines copied.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "libs/rpc/rpc.h"
#include "services/opportunity/domain/opportunity.h"

namespace crm::opportunity {

class ContractClient {
 public:
  // Calls carry `tokens`' service identity acting for the user.
  ContractClient(std::shared_ptr<grpc::Channel> channel, rpc::ServiceTokens* tokens,
                 absl::Duration timeout = absl::Seconds(5));
  // The contract id; the contract service's error as it is.
  absl::StatusOr<std::string> Create(const std::string& tenant, const std::string& user,
                                     const std::string& request_id, const Opportunity& o);

 private:
  std::unique_ptr<crm::contract::v1::ContractService::Stub> stub_;
  rpc::ServiceTokens* tokens_;
  absl::Duration timeout_;
};

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_APP_CONTRACT_CLIENT_H_
