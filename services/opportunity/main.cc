// crm-opportunity: the opportunity service process. Wiring only.

#include "grpcpp/create_channel.h"
#include "libs/bus/log_gauges.h"
#include "libs/bus/log_tailer.h"
#include "libs/bus/relay.h"
#include "libs/bus/topic_consumer.h"
#include "libs/ops/ops_service.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "libs/runtime/stores.h"
#include "services/opportunity/app/contract_client.h"
#include "services/opportunity/projection/customer_facts.h"
#include "services/opportunity/projection/opportunity_list.h"
#include "services/opportunity/rpc/opportunity_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "opportunity");
  if (!process.ok()) {
    LogError("cannot start", {{"error", process.status().ToString()}});
    return 2;
  }
  const runtime::Config* config = &process->config;
  auto stores = runtime::OpenStores(*process);
  if (!stores.ok()) {
    LogError("cannot open the stores", {{"error", stores.status().ToString()}});
    return 1;
  }
  eventstore::EventStore* es = stores->events.get();
  readstore::ReadStore* rs = stores->read.get();
  if (absl::Status s = opportunity::IndexStoredOpportunities(rs); !s.ok()) {
    LogError("cannot index the stored opportunities", {{"error", s.ToString()}});
    return 1;
  }

  opportunity::OpportunityListProjection list(es);
  readstore::ProjectionRunner list_runner(rs, &list);
  bus::LogTailer tailer(es, &list_runner);
  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::Relay relay(es, {"opportunity", kafka});
  opportunity::CustomerFactsProjection facts;
  readstore::ProjectionRunner facts_runner(rs, &facts);
  bus::TopicConsumer customer_consumer(
      &facts_runner, {bus::TopicFor("customer"), "crm-opportunity-customer-facts", kafka});

  opportunity::OpportunityCommandHandler commands(es, process->clock);
  commands.SetCustomerFacts([rs](const std::string& tenant, const std::string& customer_id) {
    return opportunity::FindCustomerFacts(rs, tenant, customer_id);
  });
  if (process->tokens == nullptr) {
    LogError("cannot start", {{"error",
                               "calls to the contract service need a key that signs "
                               "(--auth-signing-key)"}});
    return 2;
  }
  opportunity::ContractClient contracts(
      grpc::CreateChannel(config->Get("contract-endpoint", "127.0.0.1:50054"),
                          process->channel_credentials),
      process->tokens.get());
  commands.SetContractCreator([&contracts](const std::string& tenant, const std::string& user,
                                           const std::string& request_id,
                                           const opportunity::Opportunity& o) {
    return contracts.Create(tenant, user, request_id, o);
  });

  opportunity::OpportunityServiceImpl service(&commands, rs);
  // Parked events apply again at start: deploying a fix replays them.
  ops::OpsServiceImpl ops({&list_runner, &facts_runner}, {&customer_consumer});
  if (auto left = ops.ReplayParkedAtStart(); !left.ok()) {
    LogError("cannot replay parked events", {{"error", left.status().ToString()}});
    return 1;
  }
  runtime::Server server(*config, "opportunity", "127.0.0.1:50053");
  server.AddReadinessCheck([&customer_consumer] { return customer_consumer.caught_up(); });
  server.AddService(&service);
  server.AddService(&ops);
  bus::AddLogGauges(server, es, relay);
  server.AddGauge("crm_projection_lag_events", "Log events not yet applied to opportunity_list.",
                  [es, &tailer] { return double(es->LastPosition() - tailer.position()); });
  server.AddGauge("crm_projection_parked_events", "Events the opportunity projections parked.",
                  [&] { return double(list_runner.stats().parked + facts_runner.stats().parked); });

  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    LogError("cannot catch up the opportunity list", {{"error", s.ToString()}});
    return 1;
  }
  tailer.Start();
  relay.Start();
  customer_consumer.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  customer_consumer.Stop();
  relay.Stop();
  tailer.Stop();
  return 0;
}
