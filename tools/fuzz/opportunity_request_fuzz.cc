// libFuzzer target: requests to the opportunity service's handlers through
// token check, validation, domain rules, a real RocksDB event store and the
// customer facts read model its stage conditions read (tools/fuzz/
// request_fuzz.h). Closing as won meets no contract service here and answers
// UNAVAILABLE, as it does when that service is down.

#include "services/opportunity/app/opportunity_commands.h"
#include "services/opportunity/projection/customer_facts.h"
#include "services/opportunity/rpc/opportunity_service.h"
#include "tools/fuzz/fuzz_dir.h"
#include "tools/fuzz/request_fuzz.h"

namespace {

using S = crm::opportunity::OpportunityServiceImpl;

struct Service {
  std::string dir = crm::fuzz::Dir("opportunity-request");
  std::unique_ptr<crm::eventstore::EventStore> store =
      *crm::eventstore::EventStore::Open({.path = dir + "/events"});
  std::unique_ptr<crm::readstore::ReadStore> read = *crm::readstore::ReadStore::Open(dir + "/read");
  crm::opportunity::OpportunityCommandHandler commands{store.get(), crm::SystemClock()};
  S service{&commands, read.get()};
  crm::fuzz::Rpcs<S> rpcs{&service, "crm.opportunity.v1.OpportunityService"};
  Service() {
    crm::readstore::ReadStore* rs = read.get();
    commands.SetCustomerFacts([rs](const std::string& tenant, const std::string& id) {
      return crm::opportunity::FindCustomerFacts(rs, tenant, id);
    });
    rpcs.Add("CreateOpportunity", &S::CreateOpportunity);
    rpcs.Add("GetOpportunity", &S::GetOpportunity);
    rpcs.Add("ListOpportunities", &S::ListOpportunities);
    rpcs.Add("SetLines", &S::SetLines);
    rpcs.Add("RecordNeed", &S::RecordNeed);
    rpcs.Add("SendQuote", &S::SendQuote);
    rpcs.Add("UpdateForecast", &S::UpdateForecast);
    rpcs.Add("AdvanceStage", &S::AdvanceStage);
    rpcs.Add("RequestCloseLost", &S::RequestCloseLost);
    rpcs.Add("DecideCloseLost", &S::DecideCloseLost);
    rpcs.Add("CloseWon", &S::CloseWon);
    rpcs.Add("GetForecast", &S::GetForecast);
    rpcs.Add("SaveProduct", &S::SaveProduct);
    rpcs.Add("ListProducts", &S::ListProducts);
    rpcs.Add("GetOpportunitySettings", &S::GetOpportunitySettings);
    rpcs.Add("UpdateOpportunitySettings", &S::UpdateOpportunitySettings);
  }
};

}  // namespace

CRM_REQUEST_FUZZ_TARGET(Service)
