// crm-analytics: the analytics service process. Wiring only.

#include "libs/bus/topic_consumer.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "services/analytics/projection/lead_counts.h"
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

  analytics::AnalyticsServiceImpl service(read_store->get());
  runtime::Server server(*config, "analytics", "127.0.0.1:50055");
  server.AddService(&service);
  server.AddGauge("crm_projection_applied_events", "Events applied to lead_counts_by_channel.",
                  [&] { return double(lead_counts_runner.stats().applied); });
  server.AddGauge("crm_projection_parked_events", "Events lead_counts_by_channel parked.",
                  [&] { return double(lead_counts_runner.stats().parked); });
  server.AddGauge(
      "crm_projection_lag_seconds", "Age of the last event applied to lead_counts_by_channel.",
      [&] {
        const int64_t last = lead_counts_runner.stats().last_event_micros;
        return last == 0 ? 0.0 : absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMicros(last));
      });

  lead_consumer.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  lead_consumer.Stop();
  return 0;
}
