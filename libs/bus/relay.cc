#include "libs/bus/relay.h"

#include <algorithm>

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

}  // namespace

rd_kafka_headers_t* CloudEventHeaders(const eventstore::StoredEvent& e, absl::string_view source) {
  rd_kafka_headers_t* h = rd_kafka_headers_new(12);
  auto add = [h](const char* name, absl::string_view v) {
    rd_kafka_header_add(h, name, -1, v.data(), static_cast<ssize_t>(v.size()));
  };
  add(kCeSpecVersion, "1.0");
  add(kCeId, e.event_id());
  add(kCeType, e.type());
  add(kCeSource, source);
  add(kCeSubject, e.stream_id());
  char time[kCeTimeSize];
  add(kCeTime, FormatCeTime(e.time(), time));
  add(kContentType, "application/protobuf");
  add(kTenantHeader, e.tenant());
  add(kVersionHeader, absl::AlphaNum(e.version()).Piece());
  add(kPositionHeader, absl::AlphaNum(e.position()).Piece());
  if (!e.actor().empty()) add(kActorHeader, e.actor());
  if (!e.actor_service().empty()) add(kActorServiceHeader, e.actor_service());
  return h;
}

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
  source_ = absl::StrCat("/crm/", options_.service);
  LogInfo("relay connected",
          {{"topic", topic_}, {"bootstrap", bootstrap}, {"cursor", absl::StrCat(cursor_.load())}});
  return true;
}

bool Relay::Produce(const eventstore::StoredEvent& e) {
  rd_kafka_headers_t* h = CloudEventHeaders(e, source_);
  InFlight& slot = in_flight_.emplace_back(InFlight{e.position(), kPending});
  rd_kafka_resp_err_t err =
      rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
                        RD_KAFKA_V_KEY(e.stream_id().data(), e.stream_id().size()),
                        RD_KAFKA_V_VALUE(const_cast<char*>(e.payload().data()), e.payload().size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                        RD_KAFKA_V_OPAQUE(&slot.result), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(h);
    in_flight_.pop_back();
    return false;
  }
  produced_ = e.position();
  return true;
}

bool Relay::ProduceMore() {
  if (store_->LastPosition() <= produced_ || in_flight_.size() >= options_.max_in_flight) {
    return true;
  }
  bool accepted = true;
  absl::Status read = store_->ScanLog(
      produced_ + 1, std::min(options_.batch_size, options_.max_in_flight - in_flight_.size()),
      eventstore::EventStore::Payloads::kSealed,
      [&](eventstore::StoredEvent& e) { return accepted = Produce(e); });
  if (!read.ok()) {
    LogError("relay read log", {{"error", read.ToString()}});
    absl::SleepFor(absl::Seconds(1));
  }
  return accepted;
}

bool Relay::Advance() {
  int64_t next = -1;
  int64_t acked = 0;
  while (!in_flight_.empty() && in_flight_.front().result != kPending) {
    if (in_flight_.front().result != static_cast<int>(RD_KAFKA_RESP_ERR_NO_ERROR)) {
      LogWarn("relay delivery failed",
              {{"topic", topic_},
               {"position", absl::StrCat(in_flight_.front().position)},
               {"error",
                rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(in_flight_.front().result))}});
      break;
    }
    next = in_flight_.front().position;
    in_flight_.pop_front();
    ++acked;
  }
  if (acked > 0) {
    // The stored cursor may lag the brokers after a crash; that only
    // republishes.
    (void)store_->PutMeta(cursor_key_, absl::StrCat(next));
    cursor_ = next;
    published_ += acked;
  }
  return in_flight_.empty() || in_flight_.front().result == kPending;
}

void Relay::Disconnect() {
  if (producer_) {
    // Messages in flight reference in_flight_: purge them and destroy the
    // producer (which serves their callbacks) before forgetting them.
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer_.get(), 1000);
    producer_.reset();
  }
  in_flight_.clear();
  produced_ = cursor_.load();
}

void Relay::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  absl::Time next_check = absl::InfinitePast();
  while (!stop_) {
    const absl::Time now = absl::Now();
    if (producer_ && now >= next_check) {
      // The broker address changed (a restarted local broker) or the
      // producer failed for good: start over from the cursor.
      char errstr[256];
      if (options_.kafka.Resolve() != connected_bootstrap_ ||
          rd_kafka_fatal_error(producer_.get(), errstr, sizeof(errstr)) !=
              RD_KAFKA_RESP_ERR_NO_ERROR) {
        Disconnect();
      }
      next_check = now + absl::Milliseconds(200);
    }
    if (!producer_) {
      if (!Connect()) {
        absl::SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(2));
        continue;
      }
      backoff = absl::Milliseconds(100);
      produced_ = cursor_.load();
    }
    const int64_t before = produced_;
    const bool accepted = ProduceMore();
    rd_kafka_poll(producer_.get(), 0);  // delivery reports
    if (!Advance()) {
      Disconnect();
      absl::SleepFor(absl::Milliseconds(200));
      continue;
    }
    if (!accepted || in_flight_.size() >= options_.max_in_flight) {
      // The producer's queue is full, or enough is in flight: let
      // acknowledgements arrive.
      rd_kafka_poll(producer_.get(), 10);
    } else if (produced_ == before) {
      // Nothing new: wake for the next event, and take acknowledgements at
      // least every 5 ms meanwhile (they only move the cursor).
      store_->WaitForPosition(produced_ + 1, absl::Milliseconds(in_flight_.empty() ? 200 : 5));
    }
  }
  if (producer_) {
    // Stopping: give what is in flight a moment to be acknowledged, so a
    // clean shutdown does not republish it.
    rd_kafka_flush(producer_.get(), 2000);
    Advance();
  }
  Disconnect();
}

}  // namespace crm::bus
