// libFuzzer target: queries to the analytics service's handlers through
// token check, validation (periods, as-of moments, groupings, ranking
// figures) and the read models, which inputs also fill: some inputs are
// events of the lead, opportunity and customer topics applied to the
// analytics projections, so the queries meet the data they produce
// (tools/fuzz/request_fuzz.h).

#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/lead_counts.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/rpc/analytics_service.h"
#include "tools/fuzz/fuzz_dir.h"
#include "tools/fuzz/request_fuzz.h"

namespace {

using S = crm::analytics::AnalyticsServiceImpl;

constexpr const char* kTypes[] = {
    "crm.lead.events.v1.LeadCreated",
    "crm.lead.events.v1.LeadAssigned",
    "crm.lead.events.v1.LeadConverted",
    "crm.opportunity.events.v1.OpportunityCreated",
    "crm.opportunity.events.v1.StageChanged",
    "crm.opportunity.events.v1.OpportunityWon",
    "crm.customer.events.v1.CustomerCreated",
    "crm.customer.events.v1.CustomerClaimed",
    "crm.customer.events.v1.CustomerReleased",
    "crm.opportunity.events.v1.CloseLostApproved",
    "crm.opportunity.events.v1.LinesChanged",
    "crm.opportunity.events.v1.CloseTimeChanged",
    "crm.opportunity.events.v1.OpportunitySettingsChanged",
    "crm.customer.events.v1.TouchRecorded",
    "crm.customer.events.v1.ContractSignedNoted",
    "crm.customer.events.v1.TenantPolicySet",
};

struct Service {
  std::string dir = crm::fuzz::Dir("analytics-request");
  std::unique_ptr<crm::readstore::ReadStore> read = *crm::readstore::ReadStore::Open(dir + "/read");
  crm::analytics::LeadCountsProjection lead_counts;
  crm::analytics::LeadFactsProjection lead_facts;
  crm::analytics::OpportunityFactsProjection opportunity_facts;
  crm::analytics::PoolHistoryProjection pool_history;
  std::vector<std::unique_ptr<crm::readstore::ProjectionRunner>> runners;
  int64_t offset = 0;
  S service{read.get()};
  crm::fuzz::Rpcs<S> rpcs{&service, "crm.analytics.v1.AnalyticsService"};

  // An event of a topic: its first byte picks the type, the rest is the
  // payload; stream, version and time from the input's position.
  void Apply(const std::string& bytes) {
    if (bytes.empty()) return;
    crm::readstore::Envelope e;
    e.source = "crm.fuzz.events.v1";
    e.offset = ++offset;
    e.event.set_type(kTypes[static_cast<uint8_t>(bytes[0]) % (sizeof(kTypes) / sizeof(kTypes[0]))]);
    e.event.set_payload(bytes.substr(1));
    e.event.set_tenant("fuzz");
    e.event.set_stream_id("s" + std::to_string(offset % 7));
    e.event.set_version(offset);
    e.event.mutable_time()->set_seconds(1'800'000'000 + offset * 3600);
    for (auto& runner : runners) {
      if (!runner->ApplyBatch({e}).ok()) __builtin_trap();  // the store itself failed
    }
  }

  Service() {
    for (crm::readstore::Projection* p : std::vector<crm::readstore::Projection*>{
             &lead_counts, &lead_facts, &opportunity_facts, &pool_history}) {
      runners.push_back(std::make_unique<crm::readstore::ProjectionRunner>(read.get(), p));
    }
    rpcs.Add("GetLeadCountsByChannel", &S::GetLeadCountsByChannel);
    rpcs.Add("GetFunnel", &S::GetFunnel);
    rpcs.Add("GetChannelValue", &S::GetChannelValue);
    rpcs.Add("GetOwnership", &S::GetOwnership);
    rpcs.Add("GetRepPoolAsOf", &S::GetRepPoolAsOf);
    rpcs.Add("GetPoolHealth", &S::GetPoolHealth);
    rpcs.Add("GetRanking", &S::GetRanking);
    rpcs.Add("GetForecast", &S::GetForecast);
    rpcs.Add("GetForecastAccuracy", &S::GetForecastAccuracy);
    rpcs.Add("GetReceivables", &S::GetReceivables);
    rpcs.Add("BacktestPoolRules", &S::BacktestPoolRules);
    rpcs.AddRaw([this](const std::string& bytes) { Apply(bytes); });
  }
};

}  // namespace

CRM_REQUEST_FUZZ_TARGET(Service)
