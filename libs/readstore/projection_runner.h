#ifndef CRM_LIBS_READSTORE_PROJECTION_RUNNER_H_
#define CRM_LIBS_READSTORE_PROJECTION_RUNNER_H_

// ProjectionRunner applies events to one projection exactly once, whatever the
// source redelivers. For each batch it writes, in one RocksDB WriteBatch, the
// projection's row changes, the source offsets consumed and every aggregate's
// applied version. An event at or below the aggregate's applied version is a
// duplicate and skipped; one above the next version is a gap (the source
// skipped something; it is counted and skipped, and a rewind of the source
// brings it back in order). Events from the service's own log (kLogSource)
// are exact by their position alone: the log holds each aggregate's
// versions in order and without gaps, and is read in order, so no applied
// version is read or written for them. An event that cannot be decoded or
// applied is parked with its error and counted, and the projection goes on.
//
// Not thread-safe: one runner per projection, fed by one thread.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "crm/eventstore/v1/stored_event.pb.h"
#include "crm/projection/v1/parked_event.pb.h"
#include "libs/clock/clock.h"
#include "libs/readstore/read_store.h"
#include "rocksdb/write_batch.h"

namespace crm::readstore {

using StoredEvent = crm::eventstore::v1::StoredEvent;
using ParkedEvent = crm::projection::v1::ParkedEvent;

// The source of the events read from the service's own log.
inline constexpr char kLogSource[] = "log";

// One event as a projection receives it, with where it came from.
struct Envelope {
  std::string source;  // kLogSource or the Kafka topic
  int32_t partition = 0;
  int64_t offset = 0;  // log position or Kafka offset
  StoredEvent event;
  // Set when the message could not be decoded; the event is then parked.
  std::string decode_error;
  std::string raw;  // undecodable message value, kept when parked
};

// Reads and writes rows inside the batch being built: reads see earlier
// writes of the same batch. The batch holds each key's last write only (a
// batch rewrites the same rows many times: a customer touched twice, a
// rep's or a tenant's rows), so the store gets each row once, as it ended.
class RowWriter {
 public:
  explicit RowWriter(ReadStore* store) : store_(store) {}
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);
  // Every row under `prefix`, in key order, the batch's writes included,
  // until `fn` returns false. `fn` must not write rows.
  absl::Status Scan(absl::string_view prefix,
                    const std::function<bool(absl::string_view, absl::string_view)>& fn);
  void Put(absl::string_view key, std::string value);
  void Delete(absl::string_view key);
  // Once the batch is written, rewrite `tenant`'s rows on disk so that rows
  // this batch overwrote or deleted (an erased person's) leave no copy in
  // the store's files (ReadStore::Scrub).
  void ScrubAfterCommit(const std::string& tenant) { scrub_.push_back(tenant); }
  const std::vector<std::string>& scrub() const { return scrub_; }

 private:
  friend class ProjectionRunner;
  // A key's state before a write: absent from the batch, or its write then.
  struct Prior {
    std::string key;
    bool in_batch = false;
    std::optional<std::string> write;
  };
  void Write(absl::string_view key, std::optional<std::string> value);
  // Starts an event: Undo() takes back the writes made since.
  void StartEvent() { undo_.clear(); }
  void Undo();
  void AddTo(rocksdb::WriteBatch* out) const;

  ReadStore* store_;
  // Key -> its last value in this batch, or nullopt when deleted.
  absl::btree_map<std::string, std::optional<std::string>, std::less<>> writes_;
  std::vector<Prior> undo_;
  std::vector<std::string> scrub_;
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Stable name; keys of the projection's progress include it.
  virtual std::string name() const = 0;
  // Applies one event. An error parks the event; its row writes are undone.
  virtual absl::Status Apply(const StoredEvent& event, RowWriter& rows) = 0;
};

struct ProjectionStats {
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t gaps = 0;
  int64_t parked = 0;
  int64_t last_event_micros = 0;  // time of the last applied event
};

class ProjectionRunner {
 public:
  ProjectionRunner(ReadStore* store, Projection* projection, Clock* clock = SystemClock());

  // Applies `batch` atomically (see the file comment). Errors only when the
  // write itself fails; nothing of the batch is then recorded.
  absl::Status ApplyBatch(absl::Span<const Envelope> batch);

  // Last offset consumed from (source, partition); -1 when none.
  absl::StatusOr<int64_t> Offset(absl::string_view source, int32_t partition);

  // Records which Kafka cluster `source` is read from. A different cluster
  // than before (a recreated local broker) drops the source's offsets, so
  // consumption restarts from the beginning; applied versions keep it exact.
  // Returns true when the offsets were dropped.
  absl::StatusOr<bool> BindCluster(absl::string_view source, absl::string_view cluster_id);

  // Parked events, oldest first: at most `limit` of those `keep` accepts
  // (all when null).
  absl::StatusOr<std::vector<ParkedEvent>> Parked(
      size_t limit, const std::function<bool(const ParkedEvent&)>& keep = nullptr);

  // Applies every parked event again; those that now apply are removed.
  // Returns how many remain parked.
  absl::StatusOr<int64_t> ReplayParked();

  ProjectionStats stats() const;
  const std::string& name() const { return name_; }

 private:
  std::string OffsetKey(absl::string_view source, int32_t partition) const;
  std::string VersionKey(const StoredEvent& e) const;
  // The parked event's row, to be written with the batch.
  absl::StatusOr<std::pair<std::string, std::string>> Park(const Envelope& e,
                                                           absl::string_view error);

  ReadStore* store_;
  Projection* projection_;
  Clock* clock_;
  std::string name_;
  int64_t park_seq_ = 0;
  std::atomic<int64_t> applied_{0}, duplicates_{0}, gaps_{0}, parked_{0}, last_event_micros_{0};
};

}  // namespace crm::readstore

#endif  // CRM_LIBS_READSTORE_PROJECTION_RUNNER_H_
