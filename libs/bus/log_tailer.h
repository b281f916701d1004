#ifndef CRM_LIBS_BUS_LOG_TAILER_H_
#define CRM_LIBS_BUS_LOG_TAILER_H_

// LogTailer feeds a projection from the service's own event log rather than
// from Kafka: a service's own read models need no broker, and can always be
// rebuilt from position 1 (the local broker keeps only recent data).
//
// Runs one background thread between Start() and Stop().

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/projection_runner.h"

namespace crm::bus {

class LogTailer {
 public:
  LogTailer(eventstore::EventStore* store, readstore::ProjectionRunner* runner)
      : store_(store), runner_(runner) {}
  ~LogTailer() { Stop(); }
  void Start();
  void Stop();

  // Applies everything up to the log's end now; for tests and start-up.
  absl::Status CatchUp();
  // Log position the projection has consumed.
  int64_t position() const { return position_.load(); }
  // Blocks until the projection has consumed `position` (the tailer must be
  // started) or `timeout` passes; true if it has. Lets a command read its own
  // earlier writes from the read model.
  bool WaitFor(int64_t position, absl::Duration timeout) const;

 private:
  absl::StatusOr<size_t> Step();

  eventstore::EventStore* store_;
  readstore::ProjectionRunner* runner_;
  // The batch being applied. Its events are parsed again in place for the
  // next batch, reusing their memory; released once caught up.
  std::vector<readstore::Envelope> batch_;
  // A batch ends at its limit of events or once its payloads reach 4 MiB:
  // a larger batch writes a row rewritten within it once (a rebuild's or a
  // catch-up's customers touched again, a rep's and a tenant's rows). Once
  // full batches have taken kLongBatchEvents events in a row, the log is
  // long behind and batches take that many; a short catch-up keeps to
  // kBatchEvents, since each event a batch holds beyond the last batch's
  // is parsed into new memory.
  static constexpr size_t kBatchEvents = 5000;
  static constexpr size_t kLongBatchEvents = 20000;
  size_t behind_ = 0;  // events taken by full batches in a row
  std::atomic<int64_t> position_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace crm::bus

#endif  // CRM_LIBS_BUS_LOG_TAILER_H_
