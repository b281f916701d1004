#ifndef CRM_LIBS_EVENTSTORE_EVENT_STORE_H_
#define CRM_LIBS_EVENTSTORE_EVENT_STORE_H_

// EventStore is a service's durable, append-only record of what happened: one
// stream per aggregate (tenant, stream id) and one gap-free ordered log over
// all streams, kept in an embedded RocksDB database.
//
// Append checks the stream's expected version (ABORTED on mismatch), returns
// the first receipt again for a request id it has seen (appending nothing),
// and returns only once the events are durable (WAL fsynced). Appends that
// arrive while a sync is in flight are written together with one sync (group
// commit), in order, so the log on disk is always a prefix: a reader never sees
// position N+1 without N.
//
// ABORTED is returned only once the append that moved the stream is durable,
// so a reload after ABORTED sees it.
//
// Thread-safe. Every key starts with the tenant, except the log's, which is the
// service-wide order.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crm/eventstore/v1/stored_event.pb.h"
#include "libs/clock/clock.h"
#include "rocksdb/db.h"

namespace crm::eventstore {

using StoredEvent = crm::eventstore::v1::StoredEvent;
using AppendReceipt = crm::eventstore::v1::AppendReceipt;
using RequestRecord = crm::eventstore::v1::RequestRecord;

// Expected version for "the stream must not exist yet".
inline constexpr int64_t kNoStream = 0;
// Expected version that skips the concurrency check.
inline constexpr int64_t kAnyVersion = -1;

struct StreamId {
  std::string tenant;
  std::string id;
};

// An event to append: its fully qualified protobuf type and serialized bytes.
struct NewEvent {
  std::string type;
  std::string payload;
};

// Events for one stream within an atomic multi-stream append.
struct StreamAppend {
  StreamId stream;
  int64_t expected_version = kAnyVersion;
  std::vector<NewEvent> events;
};

// Seals personal data in event payloads before they are stored and opens it
// when they are read (libs/pii). The store keeps and the relay publishes only
// sealed payloads.
class PayloadCipher {
 public:
  virtual ~PayloadCipher() = default;
  virtual absl::StatusOr<std::string> Seal(absl::string_view tenant, absl::string_view type,
                                           std::string payload) = 0;
  virtual absl::StatusOr<std::string> Open(absl::string_view tenant, absl::string_view type,
                                           std::string payload) = 0;
};

struct EventStoreOptions {
  std::string path;
  // Optional; without it payloads are stored as given.
  PayloadCipher* cipher = nullptr;
  Clock* clock = SystemClock();
  // false only for benchmarks that measure the cost of durability.
  bool sync = true;
  // Upper bound of appends written under one sync.
  size_t max_group = 1024;
  // RocksDB's environment; null for the default one (tests inject disk faults).
  rocksdb::Env* env = nullptr;
};

struct EventStoreStats {
  int64_t appends = 0;       // successful, non-deduplicated appends
  int64_t deduplicated = 0;  // appends answered from a stored receipt
  int64_t syncs = 0;         // durable writes issued (one per group)
};

class EventStore {
 public:
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(EventStoreOptions options);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Appends `events` to `stream` if its current version is `expected_version`
  // (or kAnyVersion). `request_id` (required) makes the call idempotent: a
  // request id already appended for this tenant returns its first receipt and
  // appends nothing, whatever the other arguments.
  //
  // Errors: INVALID_ARGUMENT (empty ids, NUL bytes, no events); ABORTED when
  // the stream is at another version (reload and decide again); UNAVAILABLE
  // when the disk write failed (nothing was acknowledged; retry).
  absl::StatusOr<AppendReceipt> Append(const StreamId& stream, int64_t expected_version,
                                       std::vector<NewEvent> events, absl::string_view request_id);

  // Appends to several streams of one tenant atomically: either every stream
  // is at its expected version and all events are appended, or nothing is.
  // Same request-id, durability and error rules as Append; the ABORTED
  // message names the stream that moved. Returns one receipt per stream.
  // `replayed`, when given, says whether the request id had been appended
  // before (or by a concurrent call): the receipts are then that append's and
  // these events were not appended.
  absl::StatusOr<std::vector<AppendReceipt>> AppendMany(std::vector<StreamAppend> appends,
                                                        absl::string_view request_id,
                                                        bool* replayed = nullptr);

  // The (first) receipt stored for a request id, if the request was appended.
  absl::StatusOr<std::optional<AppendReceipt>> FindRequest(absl::string_view tenant,
                                                           absl::string_view request_id);

  // Whether reads open sealed personal data (the domain and the service's own
  // projections) or return payloads as stored (the relay, which publishes).
  enum class Payloads { kOpen, kSealed };

  // The stream's events with version >= from_version, oldest first. An
  // unknown stream has none.
  absl::StatusOr<std::vector<StoredEvent>> ReadStream(const StreamId& stream,
                                                      int64_t from_version = 1);

  // The stream's current version; 0 when it does not exist.
  absl::StatusOr<int64_t> StreamVersion(const StreamId& stream);

  // Up to `max` log events with position >= from_position, in order.
  absl::StatusOr<std::vector<StoredEvent>> ReadLog(int64_t from_position, size_t max,
                                                   Payloads payloads = Payloads::kOpen);
  // The same events handed to `fn` one at a time in one message reused for
  // each; `fn` may move from it to keep it, and returns false to stop early.
  absl::Status ScanLog(int64_t from_position, size_t max, Payloads payloads,
                       absl::FunctionRef<bool(StoredEvent&)> fn);

  // Position of the last durable event; 0 for an empty log.
  int64_t LastPosition() const { return committed_position_.load(); }

  // Blocks until LastPosition() >= position or `timeout` passes; true if reached.
  bool WaitForPosition(int64_t position, absl::Duration timeout);

  // Small durable key-value metadata beside the log (relay cursors).
  absl::Status PutMeta(absl::string_view key, absl::string_view value);
  absl::StatusOr<std::optional<std::string>> GetMeta(absl::string_view key);

  // Compacts every column family into its bottom level, with the store's
  // own table options (benchmarks settle a filled store with it).
  absl::Status Compact();

  EventStoreStats stats() const;

 private:
  struct Writer;
  explicit EventStore(EventStoreOptions options);
  absl::Status Init();
  absl::StatusOr<int64_t> CurrentVersionLocked(const std::string& head_key);
  absl::Status OpenPayload(StoredEvent& event);
  void LeadGroup(std::unique_lock<std::mutex>& lock);
  void ResetAfterFailureLocked(const absl::Status& cause);

  EventStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* heads_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;

  std::mutex mu_;
  std::condition_variable writers_cv_;
  std::deque<std::shared_ptr<Writer>> queue_;
  // Versions and request ids of appends queued but not yet durable.
  absl::flat_hash_map<std::string, int64_t> pending_heads_;
  absl::flat_hash_map<std::string, std::shared_ptr<Writer>> pending_requests_;
  int64_t next_position_ = 1;

  std::atomic<int64_t> committed_position_{0};
  std::mutex log_mu_;
  std::condition_variable log_cv_;

  std::atomic<int64_t> appends_{0};
  std::atomic<int64_t> deduplicated_{0};
  std::atomic<int64_t> syncs_{0};
};

// For a command whose decision was refused: OK when its request id was
// appended meanwhile (a concurrent attempt of the same request changed the
// state this one decided on, and the answer is what that attempt did), else
// `refusal`.
absl::Status AppendedMeanwhileOr(EventStore& store, absl::string_view tenant,
                                 absl::string_view request_id, absl::Status refusal);

}  // namespace crm::eventstore

#endif  // CRM_LIBS_EVENTSTORE_EVENT_STORE_H_
