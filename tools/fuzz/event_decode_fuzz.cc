// libFuzzer target: events off the topics, as any producer could write them,
// through every projection that reads another service's topic (and the
// customer list). An input is a StoredEvent; bytes that do not parse as one
// become the payload of a known event type chosen by the first byte.
// Whatever arrives must be applied or parked, never crash a projection.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "libs/readstore/projection_runner.h"
#include "libs/readstore/read_store.h"
#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/lead_counts.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/projection/receivables.h"
#include "services/contract/projection/contract_list.h"
#include "services/customer/projection/contributions.h"
#include "services/customer/projection/customer_list.h"
#include "services/customer/projection/teams.h"
#include "services/lead/projection/customer_directory.h"
#include "services/opportunity/projection/customer_facts.h"
#include "tools/fuzz/fuzz_dir.h"

namespace {

const char* const kTypes[] = {
    "crm.lead.events.v1.LeadEvent",
    "crm.customer.events.v1.CustomerEvent",
    "crm.opportunity.events.v1.OpportunityEvent",
    "crm.contract.events.v1.ContractEvent",
    "crm.lead.events.v1.LeadCreated",
    "crm.customer.events.v1.CustomerCreated",
};

struct Projections {
  std::unique_ptr<crm::readstore::ReadStore> store =
      *crm::readstore::ReadStore::Open(crm::fuzz::Dir("event-decode"));
  crm::customer::CustomerListProjection customer_list;
  crm::customer::ContributionProjection contributions;
  crm::customer::TeamsProjection teams;
  std::unique_ptr<crm::pii::Vault> vault = *crm::pii::Vault::Open(
      {crm::fuzz::Dir("event-decode-keys"), "fuzz-match-secret-of-at-least-32-bytes"});
  crm::lead::CustomerDirectoryProjection directory{vault.get()};
  crm::opportunity::CustomerFactsProjection facts;
  crm::contract::CustomerIndustryProjection industry;
  crm::analytics::LeadCountsProjection lead_counts;
  crm::analytics::LeadFactsProjection lead_facts;
  crm::analytics::OpportunityFactsProjection opportunity_facts;
  crm::analytics::PoolHistoryProjection pool_history;
  crm::analytics::ContractFactsProjection contract_facts;
  std::vector<std::unique_ptr<crm::readstore::ProjectionRunner>> runners;
  Projections() {
    for (crm::readstore::Projection* p : std::vector<crm::readstore::Projection*>{
             &customer_list, &contributions, &teams, &directory, &facts, &industry, &lead_counts,
             &lead_facts, &opportunity_facts, &pool_history, &contract_facts}) {
      runners.push_back(std::make_unique<crm::readstore::ProjectionRunner>(store.get(), p));
    }
  }
};

}  // namespace

// Protobuf logs every string with invalid UTF-8 it refuses; that is the
// expected answer here, not news.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Projections* projections = new Projections();
  static int64_t offset = 0;
  const std::string input(reinterpret_cast<const char*>(data), size);
  crm::readstore::Envelope e;
  e.source = "crm.fuzz.events.v1";
  e.offset = ++offset;
  if (!e.event.ParseFromString(input) || e.event.type().empty()) {
    e.event.Clear();
    e.event.set_type(kTypes[size == 0 ? 0 : data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))]);
    e.event.set_payload(size == 0 ? "" : input.substr(1));
  }
  if (e.event.tenant().empty()) e.event.set_tenant("fuzz");
  if (e.event.stream_id().empty()) e.event.set_stream_id("s1");
  e.event.set_version(offset);  // always new, so each input is applied
  for (auto& runner : projections->runners) {
    if (!runner->ApplyBatch({e}).ok()) __builtin_trap();  // the store itself failed
  }
  return 0;
}
