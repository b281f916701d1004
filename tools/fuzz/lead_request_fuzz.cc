// libFuzzer target: requests to the lead service's handlers through token
// check, validation, domain rules, personal-data sealing, a real RocksDB
// event store and the lead and customer read models it matches against
// (tools/fuzz/request_fuzz.h). Conversion meets no customer service here and
// answers UNAVAILABLE, as it does when that service is down.

#include "services/lead/app/lead_commands.h"
#include "services/lead/projection/customer_directory.h"
#include "services/lead/projection/lead_list.h"
#include "services/lead/rpc/lead_service.h"
#include "tools/fuzz/fuzz_dir.h"
#include "tools/fuzz/request_fuzz.h"

namespace {

using S = crm::lead::LeadServiceImpl;

struct Service {
  std::string dir = crm::fuzz::Dir("lead-request");
  std::unique_ptr<crm::pii::Vault> vault =
      *crm::pii::Vault::Open({dir + "/keys", crm::fuzz::kMatchSecret});
  std::unique_ptr<crm::eventstore::EventStore> store =
      *crm::eventstore::EventStore::Open({.path = dir + "/events", .cipher = vault.get()});
  std::unique_ptr<crm::readstore::ReadStore> read = *crm::readstore::ReadStore::Open(dir + "/read");
  crm::lead::LeadCommandHandler commands{store.get(), crm::SystemClock()};
  S service{&commands, read.get()};
  crm::fuzz::Rpcs<S> rpcs{&service, "crm.lead.v1.LeadService"};
  Service() {
    crm::readstore::ReadStore* rs = read.get();
    commands.SetVault(vault.get());
    commands.SetLeadMatcher([rs](const std::string& tenant, const std::vector<std::string>& keys) {
      return crm::lead::FindLeadMatches(rs, tenant, keys);
    });
    commands.SetCustomerMatcher(
        [rs, v = vault.get()](const std::string& tenant, const std::vector<std::string>& keys) {
          return crm::lead::FindCustomer(rs, tenant, crm::lead::TagKeys(*v, tenant, keys));
        });
    commands.SetPriorityLookup([rs](const std::string& tenant, const std::string& rep) {
      return crm::lead::HasLeadPriority(rs, tenant, rep);
    });
    rpcs.Add("CreateLead", &S::CreateLead);
    rpcs.Add("GetLead", &S::GetLead);
    rpcs.Add("ListLeads", &S::ListLeads);
    rpcs.Add("QualifyLead", &S::QualifyLead);
    rpcs.Add("RecordEngagement", &S::RecordEngagement);
    rpcs.Add("ClaimLead", &S::ClaimLead);
    rpcs.Add("ReturnLead", &S::ReturnLead);
    rpcs.Add("RecordFollowUp", &S::RecordFollowUp);
    rpcs.Add("EraseLeadContact", &S::EraseLeadContact);
    rpcs.Add("DisqualifyLead", &S::DisqualifyLead);
    rpcs.Add("ConvertLead", &S::ConvertLead);
    rpcs.Add("MergeLeads", &S::MergeLeads);
    rpcs.Add("CreateChannel", &S::CreateChannel);
    rpcs.Add("UpdateChannel", &S::UpdateChannel);
    rpcs.Add("ListChannels", &S::ListChannels);
    rpcs.Add("GetLeadSettings", &S::GetLeadSettings);
    rpcs.Add("UpdateLeadSettings", &S::UpdateLeadSettings);
    rpcs.Add("GetRepWorkload", &S::GetRepWorkload);
  }
};

}  // namespace

CRM_REQUEST_FUZZ_TARGET(Service)
