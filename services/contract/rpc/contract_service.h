#ifndef CRM_SERVICES_CONTRACT_RPC_CONTRACT_SERVICE_H_
#define CRM_SERVICES_CONTRACT_RPC_CONTRACT_SERVICE_H_

// gRPC edge of the contract service: proto <-> domain mapping only.

#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "libs/readstore/read_store.h"
#include "services/contract/app/contract_commands.h"

namespace crm::contract {


class ContractServiceImpl final : public v1::ContractService::Service {
 public:
  ContractServiceImpl(ContractCommandHandler* commands, readstore::ReadStore* read_store)
      : commands_(commands), read_store_(read_store) {}

  grpc::Status CreateContract(grpc::ServerContext* ctx, const v1::CreateContractRequest* req,
                              v1::Contract* resp) override;
  grpc::Status GetContract(grpc::ServerContext* ctx, const v1::GetContractRequest* req,
                           v1::Contract* resp) override;
  grpc::Status ListContracts(grpc::ServerContext* ctx, const v1::ListContractsRequest* req,
                             v1::ListContractsResponse* resp) override;
  grpc::Status ChangeContract(grpc::ServerContext* ctx, const v1::ChangeContractRequest* req,
                              v1::Contract* resp) override;
  grpc::Status SubmitContract(grpc::ServerContext* ctx, const v1::SubmitContractRequest* req,
                              v1::Contract* resp) override;
  grpc::Status ApproveContract(grpc::ServerContext* ctx, const v1::DecideContractRequest* req,
                               v1::Contract* resp) override;
  grpc::Status RejectContract(grpc::ServerContext* ctx, const v1::DecideContractRequest* req,
                              v1::Contract* resp) override;
  grpc::Status SendContract(grpc::ServerContext* ctx, const v1::ContractActionRequest* req,
                            v1::Contract* resp) override;
  grpc::Status ConfirmContract(grpc::ServerContext* ctx, const v1::ContractActionRequest* req,
                               v1::Contract* resp) override;
  grpc::Status EndContract(grpc::ServerContext* ctx, const v1::EndContractRequest* req,
                           v1::Contract* resp) override;
  grpc::Status SetPaymentPlan(grpc::ServerContext* ctx, const v1::SetPaymentPlanRequest* req,
                              v1::Contract* resp) override;
  grpc::Status RecordPayment(grpc::ServerContext* ctx, const v1::RecordPaymentRequest* req,
                             v1::Contract* resp) override;
  grpc::Status GetReceivables(grpc::ServerContext* ctx, const v1::GetReceivablesRequest* req,
                              v1::Receivables* resp) override;
  grpc::Status AddMilestone(grpc::ServerContext* ctx, const v1::AddMilestoneRequest* req,
                            v1::Contract* resp) override;
  grpc::Status CompleteMilestone(grpc::ServerContext* ctx, const v1::CompleteMilestoneRequest* req,
                                 v1::Contract* resp) override;
  grpc::Status ListContractReminders(grpc::ServerContext* ctx,
                                     const v1::ListContractRemindersRequest* req,
                                     v1::ListContractRemindersResponse* resp) override;
  grpc::Status SaveTemplate(grpc::ServerContext* ctx, const v1::SaveTemplateRequest* req,
                            crm::contract::events::v1::ContractTemplate* resp) override;
  grpc::Status GetApprovalRules(grpc::ServerContext* ctx, const v1::GetApprovalRulesRequest* req,
                                crm::contract::events::v1::ApprovalRules* resp) override;
  grpc::Status UpdateApprovalRules(grpc::ServerContext* ctx,
                                   const v1::UpdateApprovalRulesRequest* req,
                                   crm::contract::events::v1::ApprovalRules* resp) override;

 private:
  ContractCommandHandler* commands_;
  readstore::ReadStore* read_store_;
};

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_RPC_CONTRACT_SERVICE_H_
