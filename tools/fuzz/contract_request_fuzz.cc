// libFuzzer target: requests to the contract service's handlers through
// token check, validation, domain rules (approvals, payment plans, money
// arithmetic) and a real RocksDB event store (tools/fuzz/request_fuzz.h).

#include "services/contract/app/contract_commands.h"
#include "services/contract/rpc/contract_service.h"
#include "tools/fuzz/fuzz_dir.h"
#include "tools/fuzz/request_fuzz.h"

namespace {

using S = crm::contract::ContractServiceImpl;

struct Service {
  std::string dir = crm::fuzz::Dir("contract-request");
  std::unique_ptr<crm::eventstore::EventStore> store =
      *crm::eventstore::EventStore::Open({.path = dir + "/events"});
  std::unique_ptr<crm::readstore::ReadStore> read = *crm::readstore::ReadStore::Open(dir + "/read");
  crm::contract::ContractCommandHandler commands{store.get(), crm::SystemClock()};
  S service{&commands, read.get()};
  crm::fuzz::Rpcs<S> rpcs{&service, "crm.contract.v1.ContractService"};
  Service() {
    rpcs.Add("CreateContract", &S::CreateContract);
    rpcs.Add("GetContract", &S::GetContract);
    rpcs.Add("ListContracts", &S::ListContracts);
    rpcs.Add("ChangeContract", &S::ChangeContract);
    rpcs.Add("SubmitContract", &S::SubmitContract);
    rpcs.Add("ApproveContract", &S::ApproveContract);
    rpcs.Add("RejectContract", &S::RejectContract);
    rpcs.Add("SendContract", &S::SendContract);
    rpcs.Add("ConfirmContract", &S::ConfirmContract);
    rpcs.Add("EndContract", &S::EndContract);
    rpcs.Add("SetPaymentPlan", &S::SetPaymentPlan);
    rpcs.Add("RecordPayment", &S::RecordPayment);
    rpcs.Add("GetReceivables", &S::GetReceivables);
    rpcs.Add("AddMilestone", &S::AddMilestone);
    rpcs.Add("CompleteMilestone", &S::CompleteMilestone);
    rpcs.Add("ListContractReminders", &S::ListContractReminders);
    rpcs.Add("SaveTemplate", &S::SaveTemplate);
    rpcs.Add("GetApprovalRules", &S::GetApprovalRules);
    rpcs.Add("UpdateApprovalRules", &S::UpdateApprovalRules);
  }
};

}  // namespace

CRM_REQUEST_FUZZ_TARGET(Service)
