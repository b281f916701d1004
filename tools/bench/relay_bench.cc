// P3: the relay publishing a log to the local broker (librdkafka's mock
// cluster over TCP, in this process) against a bare librdkafka idempotent
// producer sending the same events (read from the same log beforehand) to
// the same broker with the relay's settings (acks=all, linger.ms=2), without
// headers and with the relay's CloudEvents headers. The relay reads
// the log in batches, adds the CloudEvents headers and advances its cursor
// only past acknowledged events; the bare producer only produces and
// flushes once. Items are events (messages) per second (docs/benchmarks.md).
//
// P4 and P3's added latency: events appended durably at a steady rate, one
// per aggregate, relayed to the broker and applied by a TopicConsumer to a
// read store in this process; each event's lag is from its append being
// acknowledged to its row being readable. The same consumer fed by a bare
// producer at the same rate (from the produce call to the row) is the
// baseline: the difference is what the relay adds.

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "libs/bus/kafka.h"
#include "libs/bus/local_broker.h"
#include "libs/bus/relay.h"
#include "libs/bus/topic_consumer.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/projection_runner.h"
#include "libs/readstore/read_store.h"
#include "libs/testing/temp_dir.h"

namespace {

constexpr int kPerStream = 100;        // events per aggregate (and key)
const std::string kPayload(200, 'x');  // about a customer event's size
const std::string kBareTopic = "bench.bare";
const std::string kBareLagTopic = "bench.bare-lag";

crm::bus::LocalBroker& Broker() {
  static auto* broker = [] {
    auto b = crm::bus::LocalBroker::Start(
        3, {crm::bus::TopicFor("bench"), kBareTopic, crm::bus::TopicFor("lag"), kBareLagTopic});
    if (!b.ok()) std::abort();
    return b->release();
  }();
  return *broker;
}

crm::bus::RdKafkaPtr BareProducer() {
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
  return producer;
}

// A log of `events` events, kPerStream per aggregate, as the relay reads it.
std::unique_ptr<crm::eventstore::EventStore> StoreOf(const std::string& path, int events) {
  auto store = crm::eventstore::EventStore::Open({.path = path, .sync = false});
  if (!store.ok()) std::abort();
  for (int s = 0; s < events / kPerStream; ++s) {
    std::vector<crm::eventstore::NewEvent> batch(kPerStream, {"bench.Event", kPayload});
    if (!(*store)
             ->Append({"bench", absl::StrCat("s", s)}, 0, std::move(batch), absl::StrCat(s))
             .ok()) {
      std::abort();
    }
  }
  return std::move(*store);
}

// Sends the events of the relay's log: their keys and payloads, and with
// range(1) = 1 the relay's CloudEvents headers too, so the two send the same
// records and the difference is the relay's own work.
void BM_BareIdempotentProducer(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  const bool headers = state.range(1) != 0;
  std::vector<crm::eventstore::StoredEvent> log;
  {
    crm::test::TempDir dir;
    auto read = StoreOf(dir.path() + "/events", events)->ReadLog(0, events);
    if (!read.ok()) std::abort();
    log = std::move(*read);
  }
  for (auto _ : state) {
    state.PauseTiming();
    crm::bus::RdKafkaPtr producer = BareProducer();
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
      const crm::eventstore::StoredEvent& event = log[i];
      rd_kafka_headers_t* h = headers ? crm::bus::CloudEventHeaders(event, "/crm/bench") : nullptr;
      rd_kafka_resp_err_t e = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(kBareTopic.c_str()),
          RD_KAFKA_V_KEY(event.stream_id().data(), event.stream_id().size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(event.payload().data()), event.payload().size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && h != nullptr) rd_kafka_headers_destroy(h);
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
    auto store = StoreOf(dir->path() + "/events", events);
    auto relay = std::make_unique<crm::bus::Relay>(
        store.get(), crm::bus::RelayOptions{"bench", {Broker().bootstrap(), "", {}}});
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

// One row per aggregate: an event is visible once its row is readable.
class RowPerStream : public crm::readstore::Projection {
 public:
  std::string name() const override { return "lag"; }
  absl::Status Apply(const crm::readstore::StoredEvent& e,
                     crm::readstore::RowWriter& rows) override {
    rows.Put(e.stream_id(), "1");
    return absl::OkStatus();
  }
};

// Sends one event of aggregate `key` by the path measured; returns false
// when it could not.
using Sender = std::function<bool(const std::string& key)>;

// Paces `events` sends at `rate` per second and returns each one's lag (ms)
// from send() returning to its row being readable in `read`.
std::vector<double> MeasureLag(crm::readstore::ReadStore& read, const Sender& send,
                               const std::string& run, int rate, int events,
                               benchmark::State& state) {
  std::vector<std::atomic<int64_t>> sent(events);
  std::vector<double> lags(events, 0);
  std::atomic<bool> failed{false};
  std::thread watcher([&] {
    for (int i = 0; i < events && !failed; ++i) {
      while (sent[i].load() == 0 && !failed) absl::SleepFor(absl::Microseconds(20));
      const std::string key = absl::StrCat(run, "-", i);
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      while (!failed) {
        auto row = read.Get(key);
        if (row.ok() && *row) break;
        if (absl::Now() > give_up) failed = true;
        absl::SleepFor(absl::Microseconds(20));
      }
      lags[i] = static_cast<double>(absl::GetCurrentTimeNanos() / 1000 - sent[i].load()) / 1000;
    }
  });
  const absl::Time start = absl::Now();
  for (int i = 0; i < events && !failed; ++i) {
    absl::SleepFor(start + absl::Seconds(1) * i / rate - absl::Now());
    if (!send(absl::StrCat(run, "-", i))) failed = true;
    sent[i] = absl::GetCurrentTimeNanos() / 1000;
  }
  watcher.join();
  if (failed) state.SkipWithError("an event did not become visible within 30 s");
  return lags;
}

void ReportLag(benchmark::State& state, std::vector<double> lags) {
  if (lags.empty()) return;
  std::sort(lags.begin(), lags.end());
  auto at = [&](double q) { return lags[static_cast<size_t>(q * (lags.size() - 1))]; };
  state.counters["p50_ms"] = at(0.5);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = lags.back();
}

// range(0): 1 = events appended and relayed, 0 = a bare producer;
// range(1): events per second; range(2): events per run.
void BM_ProjectionLag(benchmark::State& state) {
  const bool relayed = state.range(0) == 1;
  const int rate = static_cast<int>(state.range(1));
  const int events = static_cast<int>(state.range(2));
  static int runs = 0;  // keys unique across runs: the topics keep earlier runs' events
  std::vector<double> lags;
  for (auto _ : state) {
    const std::string run = absl::StrCat("r", ++runs);
    crm::test::TempDir dir;
    auto read = crm::readstore::ReadStore::Open(dir.path() + "/read");
    if (!read.ok()) std::abort();
    RowPerStream projection;
    crm::readstore::ProjectionRunner runner(read->get(), &projection);
    crm::bus::TopicConsumer consumer(&runner, {relayed ? crm::bus::TopicFor("lag") : kBareLagTopic,
                                               "bench",
                                               {Broker().bootstrap(), "", {}}});
    consumer.Start();
    std::unique_ptr<crm::eventstore::EventStore> store;
    std::unique_ptr<crm::bus::Relay> relay;
    crm::bus::RdKafkaPtr producer;
    Sender send;
    if (relayed) {
      auto opened = crm::eventstore::EventStore::Open({.path = dir.path() + "/events"});
      if (!opened.ok()) std::abort();
      store = std::move(*opened);
      relay = std::make_unique<crm::bus::Relay>(
          store.get(), crm::bus::RelayOptions{"lag", {Broker().bootstrap(), "", {}}});
      relay->Start();
      send = [&](const std::string& key) {
        return store->Append({"bench", key}, 0, {{"bench.Event", kPayload}}, key).ok();
      };
    } else {
      producer = BareProducer();
      send = [&](const std::string& key) {
        crm::eventstore::StoredEvent event;
        event.set_event_id(key);
        event.set_tenant("bench");
        event.set_stream_id(key);
        event.set_version(1);
        event.set_type("bench.Event");
        event.mutable_time()->set_seconds(absl::ToUnixSeconds(absl::Now()));
        rd_kafka_headers_t* h = crm::bus::CloudEventHeaders(event, "/crm/bench");
        rd_kafka_resp_err_t e = rd_kafka_producev(
            producer.get(), RD_KAFKA_V_TOPIC(kBareLagTopic.c_str()),
            RD_KAFKA_V_KEY(key.data(), key.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(kPayload.data()), kPayload.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(h);
        rd_kafka_poll(producer.get(), 0);
        return e == RD_KAFKA_RESP_ERR_NO_ERROR;
      };
    }
    // Warm up (connected, producer ids, earlier runs' events consumed) with
    // one event timed like the rest and then dropped.
    MeasureLag(**read, send, run + "w", rate, 1, state);
    if (!state.error_occurred()) lags = MeasureLag(**read, send, run, rate, events, state);
    consumer.Stop();
    if (relay) relay->Stop();
  }
  ReportLag(state, std::move(lags));
}

// range(0): events (messages) per run; range(1): 1 = with the relay's headers.
BENCHMARK(BM_BareIdempotentProducer)
    ->ArgNames({"events", "headers"})
    ->Args({20'000, 0})
    ->Args({100'000, 0})
    ->Args({20'000, 1})
    ->Args({100'000, 1})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Relay)
    ->Arg(20'000)
    ->Arg(100'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime();
// 1,600 events/s is half the customer service's most durable commands per
// second (P1); 500/s a calmer load.
BENCHMARK(BM_ProjectionLag)
    ->ArgNames({"relayed", "per_s", "events"})
    ->Args({0, 500, 3000})
    ->Args({1, 500, 3000})
    ->Args({0, 1600, 8000})
    ->Args({1, 1600, 8000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
