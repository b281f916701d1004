#include "libs/bus/relay.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "libs/runtime/log.h"

namespace crm::bus {
namespace {

// Delivery outcome per message: kPending until the report arrives, then the
// rd_kafka_resp_err_t value.
constexpr int kPending = -1'000'000;

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void*) {
  *static_cast<int*>(msg->_private) = static_cast<int>(msg->err);
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  absl::Time time = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
}

}  // namespace

Relay::Relay(eventstore::EventStore* store, RelayOptions options)
    : store_(store),
      options_(std::move(options)),
      topic_(TopicFor(options_.service)),
      cursor_key_(absl::StrCat("relay/", topic_, "/cursor")),
      cluster_key_(absl::StrCat("relay/", topic_, "/cluster")) {
  auto stored = store_->GetMeta(cursor_key_);
  int64_t cursor = 0;
  if (stored.ok() && *stored) (void)absl::SimpleAtoi(**stored, &cursor);
  cursor_ = cursor;
}

Relay::~Relay() { Stop(); }

void Relay::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Relay::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  producer_.reset();
}

bool Relay::Connect() {
  producer_.reset();
  const std::string bootstrap = options_.kafka.Resolve();
  if (bootstrap.empty()) return false;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", bootstrap},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "2"},
      {"message.timeout.ms", "60000"},
      {"client.id", absl::StrCat("crm-", options_.service, "-relay")},
      {"log.connection.close", "false"},
  };
  for (const auto& [k, v] : options_.kafka.overrides) props[k] = v;
  UseProjectLog(conf);
  if (absl::Status s = SetAll(conf, props); !s.ok()) {
    LogError("relay config", {{"error", s.ToString()}});
    rd_kafka_conf_destroy(conf);
    return false;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) {
    LogError("relay producer", {{"error", err}});
    rd_kafka_conf_destroy(conf);
    return false;
  }
  producer_.reset(rk);
  const std::string cluster = ClusterIdentity(rk, options_.kafka, 5000);
  if (cluster.empty()) {
    producer_.reset();
    return false;
  }
  auto stored = store_->GetMeta(cluster_key_);
  if (!stored.ok()) return false;
  if (!*stored || **stored != cluster) {
    if (*stored) {
      LogInfo("new kafka cluster: republishing the log from the start",
              {{"topic", topic_}, {"cluster", cluster}, {"previous", **stored}});
      cursor_ = 0;
      if (!store_->PutMeta(cursor_key_, "0").ok()) return false;
    }
    if (!store_->PutMeta(cluster_key_, cluster).ok()) return false;
  }
  connected_bootstrap_ = bootstrap;
  LogInfo("relay connected",
          {{"topic", topic_}, {"bootstrap", bootstrap}, {"cursor", absl::StrCat(cursor_.load())}});
  return true;
}

size_t Relay::Publish(const std::vector<eventstore::StoredEvent>& events) {
  rd_kafka_t* rk = producer_.get();
  std::vector<int> results(events.size(), kPending);
  const std::string source = absl::StrCat("/crm/", options_.service);
  size_t produced = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    rd_kafka_headers_t* h = rd_kafka_headers_new(10);
    auto add = [h](const char* name, const std::string& v) {
      rd_kafka_header_add(h, name, -1, v.data(), static_cast<ssize_t>(v.size()));
    };
    add(kCeSpecVersion, "1.0");
    add(kCeId, e.event_id());
    add(kCeType, e.type());
    add(kCeSource, source);
    add(kCeSubject, e.stream_id());
    add(kCeTime, FormatTime(e.time()));
    add(kContentType, "application/protobuf");
    add(kTenantHeader, e.tenant());
    add(kVersionHeader, absl::StrCat(e.version()));
    add(kPositionHeader, absl::StrCat(e.position()));
    if (!e.actor().empty()) add(kActorHeader, e.actor());
    if (!e.actor_service().empty()) add(kActorServiceHeader, e.actor_service());
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic_.c_str()),
        RD_KAFKA_V_KEY(e.stream_id().data(), e.stream_id().size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(e.payload().data()), e.payload().size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(&results[i]), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(h);
      break;  // queue full or fatal: publish the rest next round
    }
    ++produced;
  }
  // Wait for every delivery report, giving up early when the broker address
  // changed, the producer failed fatally, or the relay is stopping.
  while (rd_kafka_outq_len(rk) > 0) {
    rd_kafka_flush(rk, 200);
    char errstr[256];
    if (stop_ || options_.kafka.Resolve() != connected_bootstrap_ ||
        rd_kafka_fatal_error(rk, errstr, sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      break;
    }
  }
  size_t acked = 0;
  while (acked < produced && results[acked] == static_cast<int>(RD_KAFKA_RESP_ERR_NO_ERROR))
    ++acked;
  if (acked < produced || rd_kafka_outq_len(rk) > 0) {
    // Messages may still reference `results`: drop this producer so no
    // callback outlives them; the unacknowledged ones are published again.
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk, 1000);
    producer_.reset();
  }
  return acked;
}

void Relay::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_) {
    if (!producer_ || options_.kafka.Resolve() != connected_bootstrap_) {
      if (!Connect()) {
        absl::SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(2));
        continue;
      }
      backoff = absl::Milliseconds(100);
    }
    const int64_t cursor = cursor_.load();
    auto events =
        store_->ReadLog(cursor + 1, options_.batch_size, eventstore::EventStore::Payloads::kSealed);
    if (!events.ok()) {
      LogError("relay read log", {{"error", events.status().ToString()}});
      absl::SleepFor(absl::Seconds(1));
      continue;
    }
    if (events->empty()) {
      store_->WaitForPosition(cursor + 1, absl::Milliseconds(200));
      continue;
    }
    const size_t acked = Publish(*events);
    if (acked > 0) {
      const int64_t next = (*events)[acked - 1].position();
      // The cursor may lag the brokers after a crash; that only republishes.
      (void)store_->PutMeta(cursor_key_, absl::StrCat(next));
      cursor_ = next;
      published_ += static_cast<int64_t>(acked);
    }
    if (acked < events->size()) absl::SleepFor(absl::Milliseconds(200));
  }
}

}  // namespace crm::bus
