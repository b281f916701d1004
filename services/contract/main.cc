// crm-contract: the contract service process. Wiring only.

#include "libs/bus/log_gauges.h"
#include "libs/bus/log_tailer.h"
#include "libs/bus/relay.h"
#include "libs/bus/topic_consumer.h"
#include "libs/ops/ops_service.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "libs/runtime/stores.h"
#include "services/contract/app/notice_scheduler.h"
#include "services/contract/projection/contract_list.h"
#include "services/contract/rpc/contract_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "contract");
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
  if (absl::Status s = contract::IndexStoredContracts(rs); !s.ok()) {
    LogError("cannot index the stored contracts", {{"error", s.ToString()}});
    return 1;
  }
  contract::ContractListProjection list(es);
  readstore::ProjectionRunner list_runner(rs, &list);
  bus::LogTailer tailer(es, &list_runner);
  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::Relay relay(es, {"contract", kafka});
  contract::CustomerIndustryProjection industry;
  readstore::ProjectionRunner industry_runner(rs, &industry);
  bus::TopicConsumer customer_consumer(
      &industry_runner, {bus::TopicFor("customer"), "crm-contract-customer-industry", kafka});
  contract::ContractCommandHandler commands(es, process->clock);
  contract::NoticeScheduler notices(rs, &commands);
  contract::ContractServiceImpl service(&commands, rs);
  // Parked events apply again at start: deploying a fix replays them.
  ops::OpsServiceImpl ops({&list_runner, &industry_runner}, {&customer_consumer});
  if (auto left = ops.ReplayParkedAtStart(); !left.ok()) {
    LogError("cannot replay parked events", {{"error", left.status().ToString()}});
    return 1;
  }
  runtime::Server server(*config, "contract", "127.0.0.1:50054");
  server.AddReadinessCheck([&customer_consumer] { return customer_consumer.caught_up(); });
  server.AddService(&service);
  server.AddService(&ops);
  bus::AddLogGauges(server, es, relay);
  server.AddGauge("crm_projection_lag_events", "Log events not yet applied to contract_list.",
                  [es, &tailer] { return double(es->LastPosition() - tailer.position()); });
  server.AddGauge("crm_projection_parked_events", "Events the contract projections parked.",
                  [&list_runner, &industry_runner] {
                    return double(list_runner.stats().parked + industry_runner.stats().parked);
                  });
  server.AddGauge("crm_contract_notices", "Contract notices given since start.",
                  [&notices] { return double(notices.notices()); });
  auto notice_period = config->GetInt("notice-check-seconds", 60);
  if (!notice_period.ok()) {
    LogError("bad flag", {{"error", notice_period.status().ToString()}});
    return 2;
  }
  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    LogError("cannot catch up the contract list", {{"error", s.ToString()}});
    return 1;
  }
  tailer.Start();
  relay.Start();
  customer_consumer.Start();
  notices.Start(absl::Seconds(*notice_period));
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  notices.Stop();
  customer_consumer.Stop();
  relay.Stop();
  tailer.Stop();
  return 0;
}
