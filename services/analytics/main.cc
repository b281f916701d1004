// crm-analytics: the analytics service process. Wiring only.

#include <filesystem>

#include "libs/bus/topic_consumer.h"
#include "libs/ops/ops_service.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/lead_counts.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/projection/receivables.h"
#include "services/analytics/rpc/analytics_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "analytics");
  if (!process.ok()) {
    LogError("cannot start", {{"error", process.status().ToString()}});
    return 2;
  }
  const runtime::Config* config = &process->config;
  const std::string& data_dir = process->data_dir;
  // --rebuild-read-models=true: start from empty read models and read every
  // topic from offset zero (watch it with `crmctl ops progress analytics
  // --wait`). Analytics holds nothing the topics do not.
  if (config->Get("rebuild-read-models", "") == "true") {
    std::error_code ec;
    std::filesystem::remove_all(data_dir + "/read", ec);
    if (ec) {
      LogError("cannot remove the read models", {{"error", ec.message()}});
      return 1;
    }
    LogInfo("rebuilding the read models from the topics", {{"dir", data_dir + "/read"}});
  }
  auto read_store = readstore::ReadStore::Open(data_dir + "/read");
  if (!read_store.ok()) {
    LogError("cannot open the read store", {{"error", read_store.status().ToString()}});
    return 1;
  }

  analytics::LeadCountsProjection lead_counts;
  readstore::ProjectionRunner lead_counts_runner(read_store->get(), &lead_counts);
  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::TopicConsumer lead_consumer(&lead_counts_runner,
                                   {bus::TopicFor("lead"), "crm-analytics-lead-counts", kafka});

  analytics::LeadFactsProjection lead_facts;
  readstore::ProjectionRunner lead_facts_runner(read_store->get(), &lead_facts);
  bus::TopicConsumer lead_facts_consumer(
      &lead_facts_runner, {bus::TopicFor("lead"), "crm-analytics-lead-facts", kafka});
  analytics::OpportunityFactsProjection opportunity_facts;
  readstore::ProjectionRunner opportunity_facts_runner(read_store->get(), &opportunity_facts);
  bus::TopicConsumer opportunity_facts_consumer(
      &opportunity_facts_runner,
      {bus::TopicFor("opportunity"), "crm-analytics-opportunity-facts", kafka});
  analytics::PoolHistoryProjection pool_history;
  readstore::ProjectionRunner pool_history_runner(read_store->get(), &pool_history);
  bus::TopicConsumer pool_history_consumer(
      &pool_history_runner, {bus::TopicFor("customer"), "crm-analytics-pool-history", kafka});

  analytics::ContractFactsProjection contract_facts;
  readstore::ProjectionRunner contract_facts_runner(read_store->get(), &contract_facts);
  bus::TopicConsumer contract_facts_consumer(
      &contract_facts_runner, {bus::TopicFor("contract"), "crm-analytics-contract-facts", kafka});

  analytics::AnalyticsServiceImpl service(read_store->get(), process->clock);
  // Parked events apply again at start: deploying a fix replays them.
  ops::OpsServiceImpl ops({&lead_counts_runner, &lead_facts_runner, &opportunity_facts_runner,
                           &pool_history_runner, &contract_facts_runner},
                          {&lead_consumer, &lead_facts_consumer, &opportunity_facts_consumer,
                           &pool_history_consumer, &contract_facts_consumer});
  if (auto left = ops.ReplayParkedAtStart(); !left.ok()) {
    LogError("cannot replay parked events", {{"error", left.status().ToString()}});
    return 1;
  }
  runtime::Server server(*config, "analytics", "127.0.0.1:50055");
  server.AddReadinessCheck([&lead_consumer] { return lead_consumer.caught_up(); });
  server.AddReadinessCheck([&lead_facts_consumer] { return lead_facts_consumer.caught_up(); });
  server.AddReadinessCheck(
      [&opportunity_facts_consumer] { return opportunity_facts_consumer.caught_up(); });
  server.AddReadinessCheck([&pool_history_consumer] { return pool_history_consumer.caught_up(); });
  server.AddReadinessCheck(
      [&contract_facts_consumer] { return contract_facts_consumer.caught_up(); });
  server.AddService(&service);
  server.AddService(&ops);
  server.AddGauge(
      "crm_projection_applied_events", "Events applied to the analytics read models.", [&] {
        return double(lead_counts_runner.stats().applied + lead_facts_runner.stats().applied +
                      opportunity_facts_runner.stats().applied +
                      pool_history_runner.stats().applied + contract_facts_runner.stats().applied);
      });
  server.AddGauge("crm_projection_parked_events", "Events the analytics read models parked.", [&] {
    return double(lead_counts_runner.stats().parked + lead_facts_runner.stats().parked +
                  opportunity_facts_runner.stats().parked + pool_history_runner.stats().parked +
                  contract_facts_runner.stats().parked);
  });
  server.AddGauge("crm_projection_lag_seconds",
                  "Age of the last event applied to lead_counts_by_channel.", [&] {
                    const int64_t last = lead_counts_runner.stats().last_event_micros;
                    return last == 0 ? 0.0
                                     : absl::ToDoubleSeconds(process->clock->Now() -
                                                             absl::FromUnixMicros(last));
                  });

  lead_consumer.Start();
  lead_facts_consumer.Start();
  opportunity_facts_consumer.Start();
  pool_history_consumer.Start();
  contract_facts_consumer.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  contract_facts_consumer.Stop();
  pool_history_consumer.Stop();
  opportunity_facts_consumer.Stop();
  lead_facts_consumer.Stop();
  lead_consumer.Stop();
  return 0;
}
