// crm-lead: the lead service process. Wiring only.

#include "libs/bus/log_tailer.h"
#include "libs/bus/relay.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "services/lead/projection/lead_list.h"
#include "services/lead/rpc/lead_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "lead");
  if (!process.ok()) {
    LogError("cannot start", {{"error", process.status().ToString()}});
    return 2;
  }
  const runtime::Config* config = &process->config;
  const std::string& data_dir = process->data_dir;

  auto store = eventstore::EventStore::Open({.path = data_dir + "/events"});
  if (!store.ok()) {
    LogError("cannot open the event store", {{"error", store.status().ToString()}});
    return 1;
  }
  auto read_store = readstore::ReadStore::Open(data_dir + "/read");
  if (!read_store.ok()) {
    LogError("cannot open the read store", {{"error", read_store.status().ToString()}});
    return 1;
  }
  lead::LeadListProjection lead_list;
  readstore::ProjectionRunner lead_list_runner(read_store->get(), &lead_list);
  bus::LogTailer tailer(store->get(), &lead_list_runner);

  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::Relay relay(store->get(), {"lead", kafka});

  lead::LeadCommandHandler commands(store->get(), SystemClock());
  lead::LeadServiceImpl service(&commands, read_store->get());
  runtime::Server server(*config, "lead", "127.0.0.1:50051");
  server.AddService(&service);
  eventstore::EventStore* es = store->get();
  server.AddGauge("crm_eventstore_appends", "Appends acknowledged since start.",
                  [es] { return double(es->stats().appends); });
  server.AddGauge("crm_eventstore_syncs", "Durable group writes since start.",
                  [es] { return double(es->stats().syncs); });
  server.AddGauge("crm_eventstore_last_position", "Position of the last durable event.",
                  [es] { return double(es->LastPosition()); });
  server.AddGauge("crm_relay_lag_events", "Events appended but not yet acknowledged by Kafka.",
                  [&relay] { return double(relay.lag()); });
  server.AddGauge("crm_projection_lag_events", "Log events not yet applied to lead_list.",
                  [es, &tailer] { return double(es->LastPosition() - tailer.position()); });
  server.AddGauge("crm_projection_parked_events", "Events lead_list parked since start.",
                  [&lead_list_runner] { return double(lead_list_runner.stats().parked); });

  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    LogError("cannot catch up the lead list", {{"error", s.ToString()}});
    return 1;
  }
  tailer.Start();
  relay.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  relay.Stop();
  tailer.Stop();
  return 0;
}
