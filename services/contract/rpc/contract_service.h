#ifndef CRM_SERVICES_CONTRACT_RPC_CONTRACT_SERVICE_H_
#define CRM_SERVICES_CONTRACT_RPC_CONTRACT_SERVICE_H_

// gRPC edge of the contract service: proto <-> domain mapping only.

#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "services/contract/app/contract_commands.h"

namespace crm::contract {

namespace v1 = crm::contract::v1;

class ContractServiceImpl final : public v1::ContractService::Service {
 public:
  explicit ContractServiceImpl(ContractCommandHandler* commands) : commands_(commands) {}

  grpc::Status CreateContract(grpc::ServerContext* ctx, const v1::CreateContractRequest* req,
                              v1::Contract* resp) override;
  grpc::Status GetContract(grpc::ServerContext* ctx, const v1::GetContractRequest* req,
                           v1::Contract* resp) override;

 private:
  ContractCommandHandler* commands_;
};

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_RPC_CONTRACT_SERVICE_H_
