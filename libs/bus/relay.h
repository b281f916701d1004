#ifndef CRM_LIBS_BUS_RELAY_H_
#define CRM_LIBS_BUS_RELAY_H_

// Relay publishes a service's event log to its Kafka topic, in log order, at
// least once. It tails the log from a cursor stored in the event store's
// metadata and advances the cursor only past events the brokers acknowledged
// (idempotent producer, acks=all): it keeps producing what the log gains
// while earlier events wait for their acknowledgements, and the cursor moves
// over the acknowledged front of what is in flight. Key = aggregate id, so one aggregate's
// events stay ordered in one partition; the value is the protobuf event and
// the CloudEvents binary-mode headers describe it.
//
// Commands never wait for the relay: while the brokers are down the log grows
// and the relay catches up when they return. When the cluster id changes (the
// memory-only local broker restarted) the relay republishes from the start.
//
// Runs one background thread between Start() and Stop().

#include <atomic>
#include <deque>
#include <string>
#include <thread>

#include "libs/bus/kafka.h"
#include "libs/eventstore/event_store.h"

namespace crm::bus {

// The CloudEvents binary-mode headers (docs/events.md) of a stored event
// published from `source` ("/crm/<service>"); the caller owns them until
// rd_kafka_producev takes them.
rd_kafka_headers_t* CloudEventHeaders(const eventstore::StoredEvent& e, absl::string_view source);

struct RelayOptions {
  std::string service;  // topic is TopicFor(service); ce_source is "/crm/<service>"
  KafkaOptions kafka;
  // Events read from the log at a time.
  size_t batch_size = 5000;
  // Events produced and not yet acknowledged, at most; the relay waits for
  // acknowledgements beyond that (docs/benchmarks.md, P3).
  size_t max_in_flight = 20000;
};

class Relay {
 public:
  Relay(eventstore::EventStore* store, RelayOptions options);
  ~Relay();
  void Start();
  void Stop();

  // Last log position the brokers acknowledged.
  int64_t published_position() const { return cursor_.load(); }
  // Events appended but not yet acknowledged by the brokers.
  int64_t lag() const { return store_->LastPosition() - cursor_.load(); }
  int64_t published() const { return published_.load(); }

 private:
  // One event handed to the producer: its log position and its delivery
  // outcome (kPending until the report arrives). A deque keeps each entry
  // where the delivery callback was told it is.
  struct InFlight {
    int64_t position;
    int result;
  };

  void Run();
  bool Connect();
  // Produces what the log holds after produced_; false when the producer
  // refused an event (its queue is full: the event is read again later).
  bool ProduceMore();
  bool Produce(const eventstore::StoredEvent& e);
  // Moves the cursor over the acknowledged front of in_flight_; false when
  // a delivery failed.
  bool Advance();
  // Drops the producer and what is in flight: publishing resumes from the
  // cursor (at least once).
  void Disconnect();

  eventstore::EventStore* store_;
  RelayOptions options_;
  std::string topic_;
  std::string cursor_key_;
  std::string cluster_key_;
  RdKafkaPtr producer_;
  std::string connected_bootstrap_;
  std::string source_;
  std::deque<InFlight> in_flight_;
  int64_t produced_ = 0;  // last log position handed to the producer
  std::atomic<int64_t> cursor_{0};
  std::atomic<int64_t> published_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace crm::bus

#endif  // CRM_LIBS_BUS_RELAY_H_
