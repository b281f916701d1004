// crm-contract: the contract service process. Wiring only.

#include "libs/bus/relay.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"
#include "services/contract/rpc/contract_service.h"

int main(int argc, char** argv) {
  using namespace crm;
  auto process = runtime::StartProcess(argc, argv, "contract");
  if (!process.ok()) {
    LogError("cannot start", {{"error", process.status().ToString()}});
    return 2;
  }
  const runtime::Config* config = &process->config;
  auto store = eventstore::EventStore::Open({.path = process->data_dir + "/events"});
  if (!store.ok()) {
    LogError("cannot open the event store", {{"error", store.status().ToString()}});
    return 1;
  }
  eventstore::EventStore* es = store->get();
  bus::KafkaOptions kafka{
      config->Get("kafka-bootstrap", ""), config->Get("kafka-bootstrap-file", ""), {}};
  bus::Relay relay(es, {"contract", kafka});
  contract::ContractCommandHandler commands(es, SystemClock());
  contract::ContractServiceImpl service(&commands);
  runtime::Server server(*config, "contract", "127.0.0.1:50054");
  server.AddService(&service);
  server.AddGauge("crm_eventstore_appends", "Appends acknowledged since start.",
                  [es] { return double(es->stats().appends); });
  server.AddGauge("crm_relay_lag_events", "Events appended but not yet acknowledged by Kafka.",
                  [&relay] { return double(relay.lag()); });
  relay.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.ToString()}});
    return 1;
  }
  server.WaitForTermination();
  relay.Stop();
  return 0;
}
