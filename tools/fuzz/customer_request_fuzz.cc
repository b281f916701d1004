// libFuzzer target: requests to the customer service's handlers through
// token check, validation, domain rules, personal-data sealing and a real
// RocksDB event store (tools/fuzz/request_fuzz.h).

#include "services/customer/app/customer_commands.h"
#include "services/customer/rpc/customer_service.h"
#include "tools/fuzz/fuzz_dir.h"
#include "tools/fuzz/request_fuzz.h"

namespace {

using S = crm::customer::CustomerServiceImpl;

struct Service {
  std::string dir = crm::fuzz::Dir("customer-request");
  std::unique_ptr<crm::pii::Vault> vault =
      *crm::pii::Vault::Open({dir + "/keys", crm::fuzz::kMatchSecret});
  std::unique_ptr<crm::eventstore::EventStore> store =
      *crm::eventstore::EventStore::Open({.path = dir + "/events", .cipher = vault.get()});
  std::unique_ptr<crm::readstore::ReadStore> read = *crm::readstore::ReadStore::Open(dir + "/read");
  crm::customer::CustomerCommandHandler commands{store.get(), crm::SystemClock(),
                                                 crm::customer::Policy{}};
  S service{&commands, read.get()};
  crm::fuzz::Rpcs<S> rpcs{&service, "crm.customer.v1.CustomerService"};
  Service() {
    commands.SetVault(vault.get());
    rpcs.Add("CreateCustomer", &S::CreateCustomer);
    rpcs.Add("UpdateCustomer", &S::UpdateCustomer);
    rpcs.Add("EraseContact", &S::EraseContact);
    rpcs.Add("ClaimCustomer", &S::ClaimCustomer);
    rpcs.Add("ReleaseCustomer", &S::ReleaseCustomer);
    rpcs.Add("RecordTouch", &S::RecordTouch);
    rpcs.Add("RecordAnnualSales", &S::RecordAnnualSales);
    rpcs.Add("FileConflict", &S::FileConflict);
    rpcs.Add("CreateSegment", &S::CreateSegment);
    rpcs.Add("ListCustomers", &S::ListCustomers);
    rpcs.Add("GetCustomer", &S::GetCustomer);
    rpcs.Add("UpdateTenantPolicy", &S::UpdateTenantPolicy);
    rpcs.Add("ReserveCustomer", &S::ReserveCustomer);
  }
};

}  // namespace

CRM_REQUEST_FUZZ_TARGET(Service)
