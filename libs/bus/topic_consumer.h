#ifndef CRM_LIBS_BUS_TOPIC_CONSUMER_H_
#define CRM_LIBS_BUS_TOPIC_CONSUMER_H_

// TopicConsumer feeds one projection from one Kafka topic. It reads every
// partition of the topic (manual assignment; each replica of a read model
// consumes all of it), starting after the offsets the projection stored with
// its rows, and hands micro-batches to the ProjectionRunner. Offsets are never
// committed to Kafka: the read store is the only record of progress.
//
// A message without the CloudEvents/crm headers is parked, not dropped. When
// the cluster id changes (a recreated local broker) the projection's offsets
// for the topic are dropped and the topic is read again from the beginning.
//
// Runs one background thread between Start() and Stop().

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "libs/bus/kafka.h"
#include "libs/readstore/projection_runner.h"

namespace crm::bus {

// How far a consumer has got with what the topic held when it connected:
// a rebuild from offset zero, or the catch-up after a restart.
struct ConsumerProgress {
  std::string topic;
  std::string projection;
  bool caught_up = false;
  int64_t consumed = 0;         // messages handed to the runner since start
  int64_t catch_up_events = 0;  // to read at connect (0 until measured)
  int64_t catch_up_left = 0;
  double events_per_second = 0;  // over the catch-up so far
  double eta_seconds = 0;        // at that rate; 0 when caught up or unknown
};

struct TopicConsumerOptions {
  std::string topic;
  std::string group_id;  // client identity only; no offsets are committed
  KafkaOptions kafka;
  int max_batch = 500;
};

class TopicConsumer {
 public:
  TopicConsumer(readstore::ProjectionRunner* runner, TopicConsumerOptions options);
  ~TopicConsumer();
  void Start();
  void Stop();

  // Messages handed to the runner since start.
  int64_t consumed() const { return consumed_.load(); }
  // True once the projection has applied everything the topic held when the
  // consumer first connected (at once when the topic does not exist yet);
  // it stays true. Readiness waits for it.
  bool caught_up() const { return caught_up_.load(); }
  ConsumerProgress progress() const;

  // Decodes a Kafka message into an envelope; sets decode_error when the
  // message lacks a required header.
  static readstore::Envelope Decode(const rd_kafka_message_t* msg);

 private:
  void Run();
  bool Connect();

  readstore::ProjectionRunner* runner_;
  TopicConsumerOptions options_;
  RdKafkaPtr consumer_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::string connected_bootstrap_;
  void NoteApplied(int32_t partition, int64_t offset);
  // Logs the catch-up's progress at most every 5 s, and once when done.
  void LogProgress(bool done);

  std::atomic<int64_t> consumed_{0};
  std::atomic<bool> caught_up_{false};
  // Next offset to apply and the high watermark at first connect, per
  // partition; the consumer thread's own until caught up.
  std::vector<int64_t> next_, target_;
  std::atomic<int64_t> catch_up_events_{0}, catch_up_left_{0};
  std::atomic<int64_t> catch_up_start_micros_{0}, catch_up_end_micros_{0};
  absl::Time last_progress_log_ = absl::InfinitePast();
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace crm::bus

#endif  // CRM_LIBS_BUS_TOPIC_CONSUMER_H_
