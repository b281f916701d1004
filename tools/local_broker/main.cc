// crm-local-broker: a Kafka-protocol broker for local runs and tests, hosting
// librdkafka's mock cluster (memory only) with every service topic created.
//
//   crm-local-broker [--brokers=3] [--partitions=4] [--bootstrap-file=PATH]
//
// Prints `bootstrap.servers=<list>` on stdout and writes the list plus a token
// unique to this instance to --bootstrap-file, which the services watch: when
// the broker restarts, they reconnect, the relays republish their logs and the
// projections re-read the topics, applying nothing twice. Runs until SIGTERM.

#include <cstdio>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "libs/bus/local_broker.h"
#include "libs/runtime/config.h"
#include "libs/runtime/log.h"
#include "libs/runtime/server.h"

int main(int argc, char** argv) {
  using namespace crm;
  runtime::BlockTerminationSignals();
  SetLogService("local-broker");
  auto config = runtime::Config::FromArgs(argc, argv);
  if (!config.ok()) {
    LogError("bad arguments", {{"error", config.status().ToString()}});
    return 2;
  }
  auto brokers = config->GetInt("brokers", 3);
  auto partitions = config->GetInt("partitions", bus::kLocalPartitions);
  if (!brokers.ok() || !partitions.ok() || *brokers < 1 || *partitions < 1) {
    LogError("--brokers and --partitions must be positive integers");
    return 2;
  }
  auto broker = bus::LocalBroker::Start(int(*brokers), {}, int(*partitions));
  if (!broker.ok()) {
    LogError("cannot start the mock cluster", {{"error", broker.status().ToString()}});
    return 1;
  }
  const std::string bootstrap = (*broker)->bootstrap();
  absl::BitGen gen;
  const std::string instance = absl::StrFormat("%d-%016x", getpid(), absl::Uniform<uint64_t>(gen));
  if (const std::string file = config->Get("bootstrap-file", ""); !file.empty()) {
    if (absl::Status s = bus::WriteBootstrapFile(file, bootstrap, instance); !s.ok()) {
      LogError("cannot write the bootstrap file", {{"error", s.ToString()}});
      return 1;
    }
  }
  std::printf("bootstrap.servers=%s\n", bootstrap.c_str());
  std::fflush(stdout);
  LogInfo("local broker up", {{"bootstrap", bootstrap}, {"instance", instance}});

  runtime::WaitForTerminationSignal();
  LogInfo("local broker stopping");
  return 0;
}
