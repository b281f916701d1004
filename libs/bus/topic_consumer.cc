#include "libs/bus/topic_consumer.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "libs/runtime/log.h"

namespace crm::bus {
namespace {

bool Header(rd_kafka_headers_t* h, const char* name, std::string* out) {
  const void* v = nullptr;
  size_t size = 0;
  if (!h || rd_kafka_header_get_last(h, name, &v, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return false;
  }
  out->assign(static_cast<const char*>(v), size);
  return true;
}

}  // namespace

TopicConsumer::TopicConsumer(readstore::ProjectionRunner* runner, TopicConsumerOptions options)
    : runner_(runner), options_(std::move(options)) {}

TopicConsumer::~TopicConsumer() { Stop(); }

void TopicConsumer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void TopicConsumer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (queue_) rd_kafka_queue_destroy(queue_);
  queue_ = nullptr;
  consumer_.reset();
}

readstore::Envelope TopicConsumer::Decode(const rd_kafka_message_t* msg) {
  readstore::Envelope e;
  e.source = rd_kafka_topic_name(msg->rkt);
  e.partition = msg->partition;
  e.offset = msg->offset;
  rd_kafka_headers_t* h = nullptr;
  rd_kafka_message_headers(msg, &h);
  std::string type, id, subject, tenant, version, position, time;
  std::vector<std::string> missing;
  if (!Header(h, kCeType, &type)) missing.push_back(kCeType);
  if (!Header(h, kCeId, &id)) missing.push_back(kCeId);
  if (!Header(h, kCeSubject, &subject)) missing.push_back(kCeSubject);
  if (!Header(h, kTenantHeader, &tenant)) missing.push_back(kTenantHeader);
  if (!Header(h, kVersionHeader, &version)) missing.push_back(kVersionHeader);
  Header(h, kPositionHeader, &position);
  Header(h, kCeTime, &time);
  std::string actor, actor_service;
  Header(h, kActorHeader, &actor);
  Header(h, kActorServiceHeader, &actor_service);
  int64_t v = 0, p = 0;
  if (!version.empty() && (!absl::SimpleAtoi(version, &v) || v < 1)) {
    missing.push_back(absl::StrCat(kVersionHeader, " (not a positive integer)"));
  }
  (void)absl::SimpleAtoi(position, &p);
  const std::string payload(static_cast<const char*>(msg->payload), msg->len);
  if (!missing.empty()) {
    e.decode_error = absl::StrCat("missing or invalid headers: ", absl::StrJoin(missing, ", "));
    e.raw = payload;
    return e;
  }
  e.event.set_type(type);
  e.event.set_event_id(id);
  e.event.set_stream_id(subject);
  e.event.set_tenant(tenant);
  e.event.set_version(v);
  e.event.set_position(p);
  e.event.set_actor(actor);
  e.event.set_actor_service(actor_service);
  e.event.set_payload(payload);
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, time, &t, &err)) {
    e.event.mutable_time()->set_seconds(absl::ToUnixSeconds(t));
    e.event.mutable_time()->set_nanos(static_cast<int32_t>(
        (t - absl::FromUnixSeconds(absl::ToUnixSeconds(t))) / absl::Nanoseconds(1)));
  }
  return e;
}

bool TopicConsumer::Connect() {
  if (queue_) rd_kafka_queue_destroy(queue_);
  queue_ = nullptr;
  consumer_.reset();
  const std::string bootstrap = options_.kafka.Resolve();
  if (bootstrap.empty()) return false;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", bootstrap},  {"group.id", options_.group_id},
      {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"}, {"fetch.wait.max.ms", "20"},
      {"log.connection.close", "false"},
  };
  for (const auto& [k, v] : options_.kafka.overrides) props[k] = v;
  UseProjectLog(conf);
  if (absl::Status s = SetAll(conf, props); !s.ok()) {
    LogError("consumer config", {{"error", s.ToString()}});
    rd_kafka_conf_destroy(conf);
    return false;
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    LogError("consumer create", {{"error", err}});
    return false;
  }
  consumer_.reset(rk);
  const std::string cluster = ClusterIdentity(rk, options_.kafka, 5000);
  if (cluster.empty()) return false;
  auto rebound = runner_->BindCluster(options_.topic, cluster);
  if (!rebound.ok()) return false;
  if (*rebound) {
    LogInfo("new kafka cluster: reading the topic from the start",
            {{"topic", options_.topic}, {"cluster", cluster}});
  }

  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, options_.topic.c_str(), nullptr);
  rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
  rd_kafka_topic_destroy(rkt);
  if (merr == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
      md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    caught_up_ = true;  // nothing was ever published: nothing to catch up on
  }
  if (merr != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
      md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt == 0) {
    if (md) rd_kafka_metadata_destroy(md);
    return false;
  }
  const int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);

  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  const bool measure = !caught_up_ && target_.empty();
  std::vector<int64_t> next(partitions, 0), target(partitions, 0);
  for (int p = 0; p < partitions; ++p) {
    auto offset = runner_->Offset(options_.topic, p);
    if (!offset.ok()) {
      rd_kafka_topic_partition_list_destroy(list);
      return false;
    }
    rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), p)->offset =
        *offset < 0 ? RD_KAFKA_OFFSET_BEGINNING : *offset + 1;
    int64_t low = 0, high = 0;
    if (measure && rd_kafka_query_watermark_offsets(rk, options_.topic.c_str(), p, &low, &high,
                                                    5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(list);
      return false;
    }
    next[p] = *offset < 0 ? low : *offset + 1;
    target[p] = high;
  }
  if (measure) {
    next_ = std::move(next);
    target_ = std::move(target);
    int64_t events = 0;
    for (int p = 0; p < partitions; ++p) events += std::max<int64_t>(0, target_[p] - next_[p]);
    catch_up_events_ = events;
    catch_up_left_ = events;
    catch_up_start_micros_ = absl::ToUnixMicros(absl::Now());
    NoteApplied(-1, 0);
  }
  rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  queue_ = rd_kafka_queue_get_consumer(rk);
  connected_bootstrap_ = bootstrap;
  LogInfo("consumer assigned", {{"topic", options_.topic},
                                {"partitions", absl::StrCat(partitions)},
                                {"projection", runner_->name()}});
  return true;
}

void TopicConsumer::Run() {
  std::vector<rd_kafka_message_t*> msgs(options_.max_batch);
  absl::Time last_check = absl::Now();
  while (!stop_) {
    if (!consumer_ || !queue_) {
      if (!Connect()) {
        absl::SleepFor(absl::Milliseconds(500));
      }
      continue;
    }
    if (absl::Now() - last_check > absl::Seconds(1)) {
      last_check = absl::Now();
      if (options_.kafka.Resolve() != connected_bootstrap_) {
        consumer_.reset();
        continue;
      }
    }
    // Up to 100 ms for the first message, then what else is already there:
    // rd_kafka_consume_batch_queue waits until its batch is full or its
    // timeout passes, which would add the timeout to a quiet topic's lag.
    msgs[0] = rd_kafka_consume_queue(queue_, 100);
    if (msgs[0] == nullptr) continue;
    const ssize_t more = rd_kafka_consume_batch_queue(queue_, 0, msgs.data() + 1, msgs.size() - 1);
    const ssize_t n = 1 + std::max<ssize_t>(more, 0);
    std::vector<readstore::Envelope> batch;
    batch.reserve(n);
    for (ssize_t i = 0; i < n; ++i) {
      if (msgs[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        batch.push_back(Decode(msgs[i]));
      } else if (msgs[i]->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        LogWarn("consume",
                {{"topic", options_.topic}, {"error", rd_kafka_message_errstr(msgs[i])}});
      }
      rd_kafka_message_destroy(msgs[i]);
    }
    if (batch.empty()) continue;
    if (absl::Status s = runner_->ApplyBatch(batch); !s.ok()) {
      // Nothing of the batch was recorded: reconnect and read it again.
      LogError("projection write failed",
               {{"projection", runner_->name()}, {"error", s.ToString()}});
      if (queue_) rd_kafka_queue_destroy(queue_);
      queue_ = nullptr;
      consumer_.reset();
      absl::SleepFor(absl::Seconds(1));
      continue;
    }
    consumed_ += static_cast<int64_t>(batch.size());
    if (!caught_up_) {
      for (const auto& e : batch) NoteApplied(e.partition, e.offset);
    }
  }
}

void TopicConsumer::NoteApplied(int32_t partition, int64_t offset) {
  if (partition >= 0 && partition < static_cast<int32_t>(next_.size())) {
    next_[partition] = std::max(next_[partition], offset + 1);
  }
  if (target_.empty()) return;
  int64_t left = 0;
  for (size_t p = 0; p < target_.size(); ++p) left += std::max<int64_t>(0, target_[p] - next_[p]);
  catch_up_left_ = left;
  if (left > 0) {
    LogProgress(false);
    return;
  }
  catch_up_end_micros_ = absl::ToUnixMicros(absl::Now());
  caught_up_ = true;
  LogProgress(true);
}

ConsumerProgress TopicConsumer::progress() const {
  ConsumerProgress p;
  p.topic = options_.topic;
  p.projection = runner_->name();
  p.caught_up = caught_up_.load();
  p.consumed = consumed_.load();
  p.catch_up_events = catch_up_events_.load();
  p.catch_up_left = p.caught_up ? 0 : catch_up_left_.load();
  const int64_t start = catch_up_start_micros_.load();
  if (start == 0) return p;
  const int64_t end = catch_up_end_micros_.load();
  const double seconds =
      static_cast<double>((end != 0 ? end : absl::ToUnixMicros(absl::Now())) - start) / 1e6;
  const int64_t done = p.catch_up_events - p.catch_up_left;
  if (seconds > 0) p.events_per_second = static_cast<double>(done) / seconds;
  if (!p.caught_up && p.events_per_second > 0) {
    p.eta_seconds = static_cast<double>(p.catch_up_left) / p.events_per_second;
  }
  return p;
}

void TopicConsumer::LogProgress(bool done) {
  const absl::Time now = absl::Now();
  if (!done && now - last_progress_log_ < absl::Seconds(5)) return;
  if (last_progress_log_ == absl::InfinitePast() && !done) {
    last_progress_log_ = now;  // the first lines come after 5 s: short catch-ups stay quiet
    return;
  }
  last_progress_log_ = now;
  const ConsumerProgress p = progress();
  if (p.catch_up_events == 0) return;
  LogInfo(done ? "caught up" : "catching up",
          {{"projection", p.projection},
           {"topic", p.topic},
           {"events", absl::StrCat(p.catch_up_events - p.catch_up_left, "/", p.catch_up_events)},
           {"events_per_second", absl::StrCat(static_cast<int64_t>(p.events_per_second))},
           {"eta_seconds", absl::StrCat(static_cast<int64_t>(p.eta_seconds + 0.5))}});
}

}  // namespace crm::bus
