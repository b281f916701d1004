// P3: the relay publishing a log to the local broker (librdkafka's mock
// cluster over TCP, in this process) against a bare librdkafka idempotent
// producer sending as many messages of the same size and keys to the same
// broker with the relay's settings (acks=all, linger.ms=2). The relay reads
// the log in batches, adds the CloudEvents headers and advances its cursor
// only past acknowledged events; the bare producer only produces and
// flushes once. Items are events (messages) per second (docs/benchmarks.md).

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "libs/bus/kafka.h"
#include "libs/bus/local_broker.h"
#include "libs/bus/relay.h"
#include "libs/eventstore/event_store.h"
#include "libs/testing/temp_dir.h"

namespace {

constexpr int kPerStream = 100;        // events per aggregate (and key)
const std::string kPayload(200, 'x');  // about a customer event's size
const std::string kBareTopic = "bench.bare";

crm::bus::LocalBroker& Broker() {
  static auto* broker = [] {
    auto b = crm::bus::LocalBroker::Start(3, {crm::bus::TopicFor("bench"), kBareTopic});
    if (!b.ok()) std::abort();
    return b->release();
  }();
  return *broker;
}

void BM_BareIdempotentProducer(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    crm::bus::UseProjectLog(conf);
    if (!crm::bus::SetAll(conf, {{"bootstrap.servers", Broker().bootstrap()},
                                 {"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"partitioner", "murmur2_random"},
                                 {"linger.ms", "2"}})
             .ok()) {
      std::abort();
    }
    char err[512];
    crm::bus::RdKafkaPtr producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)));
    if (!producer) std::abort();
    // Connected, with its producer id, before the timing (the relay's rate
    // below is likewise taken from its first acknowledgement on).
    if (rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(kBareTopic.c_str()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(kPayload.data()), kPayload.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0 ||
        rd_kafka_flush(producer.get(), 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::abort();
    }
    state.ResumeTiming();
    for (int i = 0; i < events;) {
      const std::string key = absl::StrCat("s", i / kPerStream);
      rd_kafka_resp_err_t e =
          rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(kBareTopic.c_str()),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(kPayload.data()), kPayload.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer.get(), 10);
        continue;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        state.SkipWithError(rd_kafka_err2str(e));
        break;
      }
      ++i;
    }
    if (rd_kafka_flush(producer.get(), 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      state.SkipWithError("messages still unacknowledged after 60 s");
    }
    state.PauseTiming();
    producer.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * events);
}

// Timed from the relay's first acknowledged batch (connected, with its
// producer id) to the last; items are the events acknowledged in between.
void BM_Relay(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  int64_t timed_events = 0;
  for (auto _ : state) {
    auto dir = std::make_unique<crm::test::TempDir>();
    auto store =
        crm::eventstore::EventStore::Open({.path = dir->path() + "/events", .sync = false});
    if (!store.ok()) std::abort();
    for (int s = 0; s < events / kPerStream; ++s) {
      std::vector<crm::eventstore::NewEvent> batch(kPerStream, {"bench.Event", kPayload});
      if (!(*store)
               ->Append({"bench", absl::StrCat("s", s)}, 0, std::move(batch), absl::StrCat(s))
               .ok()) {
        std::abort();
      }
    }
    auto relay = std::make_unique<crm::bus::Relay>(
        store->get(), crm::bus::RelayOptions{"bench", {Broker().bootstrap(), "", {}}});
    relay->Start();
    const absl::Time give_up = absl::Now() + absl::Seconds(120);
    while (relay->published_position() == 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Microseconds(200));
    }
    const absl::Time first = absl::Now();
    const int64_t first_position = relay->published_position();
    while (relay->published_position() < events && absl::Now() < give_up) {
      absl::SleepFor(absl::Microseconds(200));
    }
    if (relay->published_position() < events) {
      state.SkipWithError("the relay fell behind");
      break;
    }
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - first));
    timed_events += events - first_position;
  }
  state.SetItemsProcessed(timed_events);
}

// range(0): events (messages) per run.
BENCHMARK(BM_BareIdempotentProducer)
    ->Arg(20'000)
    ->Arg(100'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Relay)
    ->Arg(20'000)
    ->Arg(100'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
