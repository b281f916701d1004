// The relay and the topic consumer against the local broker over TCP.

#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "libs/bus/local_broker.h"
#include "libs/bus/log_tailer.h"
#include "libs/bus/relay.h"
#include "libs/bus/topic_consumer.h"
#include "libs/clock/timestamp.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

namespace crm::bus {
namespace {

using eventstore::EventStore;
using eventstore::NewEvent;

// Counts events per stream and remembers every event id it applied.
class RecordingProjection : public readstore::Projection {
 public:
  std::string name() const override { return "recording"; }
  absl::Status Apply(const readstore::StoredEvent& e, readstore::RowWriter& rows) override {
    const std::string key =
        absl::StrCat("applied/", e.tenant(), "/", e.stream_id(), "/", e.version());
    auto prior = rows.Get(key);
    if (!prior.ok()) return prior.status();
    if (*prior) return absl::InternalError("applied twice: " + key);
    rows.Put(key, e.payload());
    auto total = rows.Get("total");
    int64_t n = 0;
    if (*total) (void)absl::SimpleAtoi(**total, &n);
    rows.Put("total", absl::StrCat(n + 1));
    return absl::OkStatus();
  }
};

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *EventStore::Open({.path = dir_.path() + "/events"});
    read_ = *readstore::ReadStore::Open(dir_.path() + "/read");
    runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), &projection_);
    kafka_.bootstrap_file = dir_.path() + "/bootstrap";
    kafka_.overrides = {{"topic.metadata.refresh.interval.ms", "1000"}};
  }
  void TearDown() override {
    if (consumer_) consumer_->Stop();
    if (relay_) relay_->Stop();
  }
  void StartBroker() {
    broker_.reset();
    broker_ = *LocalBroker::Start();
    ASSERT_TRUE(WriteBootstrapFile(kafka_.bootstrap_file, broker_->bootstrap(),
                                   absl::StrCat("instance-", ++instances_))
                    .ok());
  }
  void StartRelayAndConsumer() {
    relay_ = std::make_unique<Relay>(store_.get(), RelayOptions{"lead", kafka_});
    relay_->Start();
    consumer_ = std::make_unique<TopicConsumer>(
        runner_.get(), TopicConsumerOptions{TopicFor("lead"), "crm-test", kafka_});
    consumer_->Start();
  }
  void Append(int streams, int per_stream, const std::string& tag) {
    for (int s = 0; s < streams; ++s) {
      for (int i = 0; i < per_stream; ++i) {
        ASSERT_TRUE(store_
                        ->Append({"t1", absl::StrCat("lead-", s)}, eventstore::kAnyVersion,
                                 {NewEvent{"crm.test.Event", absl::StrCat(tag, s, "-", i)}},
                                 absl::StrCat(tag, s, "-", i))
                        .ok());
      }
    }
  }
  // `per_stream` events on each of `streams` streams, stream after stream,
  // 100 an append; event n of stream s carries payload(s, n).
  void AppendInHundreds(int streams, int per_stream,
                        const std::function<std::string(int, int)>& payload) {
    for (int s = 0; s < streams; ++s) {
      for (int chunk = 0; chunk < per_stream / 100; ++chunk) {
        std::vector<NewEvent> events;
        for (int i = 0; i < 100; ++i) {
          events.push_back({"crm.test.Event", payload(s, chunk * 100 + i)});
        }
        ASSERT_TRUE(store_
                        ->Append({"t1", absl::StrCat("lead-", s)}, eventstore::kAnyVersion,
                                 std::move(events), absl::StrCat("append-", s, "-", chunk))
                        .ok());
      }
    }
  }
  int64_t Total() {
    auto v = read_->Get("total");
    int64_t n = 0;
    if (v.ok() && *v) (void)absl::SimpleAtoi(**v, &n);
    return n;
  }

  test::TempDir dir_;
  int instances_ = 0;
  KafkaOptions kafka_;
  std::unique_ptr<LocalBroker> broker_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<readstore::ReadStore> read_;
  RecordingProjection projection_;
  std::unique_ptr<readstore::ProjectionRunner> runner_;
  std::unique_ptr<Relay> relay_;
  std::unique_ptr<TopicConsumer> consumer_;
};

TEST(CeTime, MatchesTheGeneralFormatterAcrossCenturies) {
  // Every day boundary's neighbourhood and leap days included: 1970 to 2400
  // in steps that walk through every month, plus the edges of the fast path.
  std::vector<int64_t> seconds = {0,
                                  1,
                                  86399,
                                  86400,
                                  951782400 /* 2000-02-29 */,
                                  4107542399 /* 2100-02-28T23:59:59 */,
                                  253402300799};
  for (int64_t s = 0; s < 13'569'465'600; s += 86'400 * 7 + 3'607) seconds.push_back(s);
  for (int64_t s : seconds) {
    for (int32_t nanos : {0, 999, 1'000, 123'456'789, 999'999'999}) {
      google::protobuf::Timestamp t;
      t.set_seconds(s);
      t.set_nanos(nanos);
      char out[kCeTimeSize];
      ASSERT_EQ(std::string(FormatCeTime(t, out)),
                absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", FromTimestamp(t), absl::UTCTimeZone()))
          << s << "s " << nanos << "ns";
    }
  }
  google::protobuf::Timestamp before_1970;
  before_1970.set_seconds(-1);
  char out[kCeTimeSize];
  EXPECT_EQ(FormatCeTime(before_1970, out), "1969-12-31T23:59:59.000000Z");
}

TEST_F(BusTest, RelayPublishesEveryEventWithCloudEventsHeaders) {
  StartBroker();
  Append(5, 4, "a");
  relay_ = std::make_unique<Relay>(store_.get(), RelayOptions{"lead", kafka_});
  relay_->Start();
  ASSERT_TRUE(
      test::Eventually([&] { return relay_->published_position() == 20; }, absl::Seconds(30)));

  // Read the topic with a plain librdkafka consumer.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_TRUE(SetAll(conf, {{"bootstrap.servers", broker_->bootstrap()},
                            {"group.id", "raw"},
                            {"auto.offset.reset", "earliest"}})
                  .ok());
  char err[256];
  RdKafkaPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(kLocalPartitions);
  for (int p = 0; p < kLocalPartitions; ++p) {
    rd_kafka_topic_partition_list_add(list, "crm.lead.events.v1", p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  ASSERT_EQ(rd_kafka_assign(rk.get(), list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  std::map<std::string, google::protobuf::Timestamp> stored_time;  // by event id
  auto stored = store_->ReadLog(1, 100);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 20u);
  for (const auto& e : *stored) stored_time[e.event_id()] = e.time();
  std::set<std::string> payloads;
  std::map<std::string, int32_t> partition_of_key;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (payloads.size() < 20 && absl::Now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      readstore::Envelope e = TopicConsumer::Decode(m);
      EXPECT_EQ(e.decode_error, "");
      EXPECT_EQ(e.event.type(), "crm.test.Event");
      EXPECT_EQ(e.event.tenant(), "t1");
      EXPECT_FALSE(e.event.event_id().empty());
      EXPECT_GT(e.event.time().seconds(), 0);
      const std::string key(static_cast<const char*>(m->key), m->key_len);
      EXPECT_EQ(key, e.event.stream_id());
      // One aggregate, one partition.
      auto [it, inserted] = partition_of_key.emplace(key, m->partition);
      EXPECT_EQ(it->second, m->partition);
      payloads.insert(e.event.payload());
      rd_kafka_headers_t* h = nullptr;
      rd_kafka_message_headers(m, &h);
      const void* v;
      size_t n;
      ASSERT_EQ(rd_kafka_header_get_last(h, kCeSource, &v, &n), RD_KAFKA_RESP_ERR_NO_ERROR);
      EXPECT_EQ(std::string(static_cast<const char*>(v), n), "/crm/lead");
      ASSERT_EQ(rd_kafka_header_get_last(h, kCeSpecVersion, &v, &n), RD_KAFKA_RESP_ERR_NO_ERROR);
      ASSERT_EQ(rd_kafka_header_get_last(h, kCeTime, &v, &n), RD_KAFKA_RESP_ERR_NO_ERROR);
      EXPECT_EQ(
          std::string(static_cast<const char*>(v), n),
          absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", FromTimestamp(stored_time[e.event.event_id()]),
                           absl::UTCTimeZone()));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk.get());
  EXPECT_EQ(payloads.size(), 20u);
}

TEST_F(BusTest, CommandsSucceedWhileTheBrokerIsDownAndTheRelayCatchesUp) {
  StartRelayAndConsumer();  // no bootstrap file yet: no broker
  Append(10, 3, "down");
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(relay_->published_position(), 0);
  EXPECT_EQ(relay_->lag(), 30);
  StartBroker();
  ASSERT_TRUE(test::Eventually([&] { return Total() == 30; }, absl::Seconds(60))) << Total();
  // The consumer may see a message before the relay has its delivery report.
  EXPECT_TRUE(test::Eventually([&] { return relay_->lag() == 0; }, absl::Seconds(30)))
      << relay_->lag();
}

// The local broker is memory-only: after a restart (new cluster, new address)
// the relay republishes the whole log and the projection, which reads the new
// cluster from the start, applies nothing twice and misses nothing.
TEST_F(BusTest, BrokerRestartLosesNothingAndAppliesNothingTwice) {
  StartBroker();
  StartRelayAndConsumer();
  Append(8, 5, "before");
  ASSERT_TRUE(test::Eventually([&] { return Total() == 40; }, absl::Seconds(60))) << Total();
  StartBroker();  // a new, empty cluster
  Append(8, 2, "after");
  ASSERT_TRUE(test::Eventually([&] { return Total() == 56; }, absl::Seconds(60))) << Total();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Total(), 56);
  EXPECT_GE(runner_->stats().duplicates, 40);  // the republished history
  EXPECT_EQ(runner_->stats().parked, 0);
  EXPECT_TRUE(test::Eventually([&] { return relay_->lag() == 0; }, absl::Seconds(30)))
      << relay_->lag();
}

// Broker errors injected through the mock cluster's error API while events
// flow: produce requests fail with retriable errors and dropped connections,
// fetches fail, partition leadership moves between brokers. The relay and
// the consumer ride it out: every event is applied exactly once (the
// recording projection parks any second application), none is missing.
TEST_F(BusTest, InjectedBrokerErrorsLoseNothingAndApplyNothingTwice) {
  StartBroker();
  StartRelayAndConsumer();
  Append(6, 5, "calm");
  ASSERT_TRUE(test::Eventually([&] { return Total() == 30; }, absl::Seconds(60))) << Total();

  constexpr int16_t kProduce = 0, kFetch = 1;
  const rd_kafka_resp_err_t produce_errors[] = {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                                RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                                RD_KAFKA_RESP_ERR__TRANSPORT,
                                                RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                                RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                                RD_KAFKA_RESP_ERR__TRANSPORT};
  const rd_kafka_resp_err_t fetch_errors[] = {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                              RD_KAFKA_RESP_ERR__TRANSPORT,
                                              RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART};
  for (int round = 0; round < 3; ++round) {
    rd_kafka_mock_push_request_errors_array(broker_->mock(), kProduce, std::size(produce_errors),
                                            produce_errors);
    rd_kafka_mock_push_request_errors_array(broker_->mock(), kFetch, std::size(fetch_errors),
                                            fetch_errors);
    for (int32_t partition = 0; partition < kLocalPartitions; ++partition) {
      rd_kafka_mock_partition_set_leader(broker_->mock(), TopicFor("lead").c_str(), partition,
                                         1 + (partition + round) % 3);
    }
    Append(6, 5, absl::StrCat("storm", round, "-"));
  }
  ASSERT_TRUE(test::Eventually([&] { return Total() == 120; }, absl::Seconds(90))) << Total();
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Total(), 120);
  EXPECT_EQ(runner_->stats().parked, 0);
  EXPECT_TRUE(test::Eventually([&] { return relay_->lag() == 0; }, absl::Seconds(30)))
      << relay_->lag();
}

// Readiness: a consumer that starts behind says it caught up only once it
// applied everything the topic held when it connected.
TEST_F(BusTest, AConsumerCatchesUpWithWhatTheTopicHeldAtStart) {
  StartBroker();
  relay_ = std::make_unique<Relay>(store_.get(), RelayOptions{"lead", kafka_});
  relay_->Start();
  Append(8, 5, "history");
  ASSERT_TRUE(test::Eventually([&] { return relay_->lag() == 0; }, absl::Seconds(60)));
  consumer_ = std::make_unique<TopicConsumer>(
      runner_.get(), TopicConsumerOptions{TopicFor("lead"), "crm-test", kafka_});
  EXPECT_FALSE(consumer_->caught_up());
  EXPECT_EQ(consumer_->progress().catch_up_events, 0);  // not measured yet
  consumer_->Start();
  ASSERT_TRUE(test::Eventually([&] { return consumer_->caught_up(); }, absl::Seconds(60)));
  EXPECT_EQ(Total(), 40);
  // Its progress: the 40 events the topic held, all read.
  const ConsumerProgress p = consumer_->progress();
  EXPECT_EQ(p.topic, TopicFor("lead"));
  EXPECT_EQ(p.projection, runner_->name());
  EXPECT_TRUE(p.caught_up);
  EXPECT_EQ(p.catch_up_events, 40);
  EXPECT_EQ(p.catch_up_left, 0);
  EXPECT_EQ(p.consumed, 40);
  EXPECT_GT(p.events_per_second, 0);
  EXPECT_EQ(p.eta_seconds, 0);
}

// A message without the required headers is parked; the projection goes on.
TEST_F(BusTest, UndecodableMessageIsParked) {
  StartBroker();
  StartRelayAndConsumer();
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_TRUE(SetAll(conf, {{"bootstrap.servers", broker_->bootstrap()}}).ok());
  char err[256];
  RdKafkaPtr producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)));
  ASSERT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("crm.lead.events.v1"),
                              RD_KAFKA_V_VALUE(const_cast<char*>("junk"), 4),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_flush(producer.get(), 10000);
  Append(2, 2, "good");
  ASSERT_TRUE(test::Eventually([&] { return Total() == 4 && runner_->stats().parked == 1; },
                               absl::Seconds(60)));
  auto parked = runner_->Parked(10);
  ASSERT_EQ(parked->size(), 1u);
  EXPECT_NE((*parked)[0].error().find("ce_type"), std::string::npos);
  EXPECT_EQ((*parked)[0].raw(), "junk");
}

// The log tailer parses each batch into the previous batch's messages and
// ends a batch at its limit of events (5,000, or 20,000 once full batches
// have taken that many) or 4 MiB of payloads: every event must still arrive
// once, with its own payload, whichever bound ended its batch.
TEST_F(BusTest, TheLogTailerAppliesEveryEventOnceWithItsOwnPayload) {
  auto payload = [](int stream, int n) {
    return n % 3 == 0 ? std::string(2000 + stream, static_cast<char>('a' + stream))
                      : absl::StrCat("short-", stream, "-", n);
  };
  constexpr int kStreams = 12, kPerStream = 1000;
  AppendInHundreds(kStreams, kPerStream, payload);
  LogTailer tailer(store_.get(), runner_.get());
  ASSERT_TRUE(tailer.CatchUp().ok());
  EXPECT_EQ(tailer.position(), kStreams * kPerStream);
  EXPECT_EQ(runner_->stats().applied, kStreams * kPerStream);
  EXPECT_EQ(runner_->stats().parked, 0);
  for (int s = 0; s < kStreams; ++s) {
    for (int n = 0; n < kPerStream; ++n) {
      auto row = read_->Get(absl::StrCat("applied/t1/lead-", s, "/", n + 1));
      ASSERT_TRUE(row.ok() && *row) << s << "/" << n;
      ASSERT_EQ(**row, payload(s, n)) << s << "/" << n;
    }
  }
  // Caught up, then more: applied once more each, after the released batch.
  Append(2, 3, "later-");
  ASSERT_TRUE(tailer.CatchUp().ok());
  EXPECT_EQ(runner_->stats().applied, kStreams * kPerStream + 6);
  EXPECT_EQ(**read_->Get("applied/t1/lead-1/1003"), "later-1-2");
}

// A log long behind: full batches of 5,000 until 20,000 events are taken,
// then batches of 20,000 (one full, one not): each event still once.
TEST_F(BusTest, TheLogTailerCatchesUpALongLogInLongerBatches) {
  constexpr int kStreams = 50, kPerStream = 1000;
  auto payload = [](int stream, int n) { return absl::StrCat("e-", stream, "-", n); };
  AppendInHundreds(kStreams, kPerStream, payload);
  LogTailer tailer(store_.get(), runner_.get());
  ASSERT_TRUE(tailer.CatchUp().ok());
  EXPECT_EQ(tailer.position(), kStreams * kPerStream);
  EXPECT_EQ(runner_->stats().applied, kStreams * kPerStream);
  for (int s : {0, 20, 21, 40, 49}) {
    for (int n : {0, 999}) {
      auto row = read_->Get(absl::StrCat("applied/t1/lead-", s, "/", n + 1));
      ASSERT_TRUE(row.ok() && *row) << s << "/" << n;
      EXPECT_EQ(**row, payload(s, n));
    }
  }
}

}  // namespace
}  // namespace crm::bus
