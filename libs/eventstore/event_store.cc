#include "libs/eventstore/event_store.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "libs/eventstore/actor.h"
#include "libs/status/status.h"
#include "libs/storage/encoding.h"
#include "libs/storage/rocks.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace crm::eventstore {
namespace {

constexpr char kSep = '\0';

using storage::DecodeBigEndian64;
using storage::EncodeBigEndian64;
using storage::FromRocks;

std::string HeadKey(const StreamId& s) {
  return absl::StrCat(s.tenant, std::string(1, kSep), s.id);
}

std::string EventKey(const std::string& head_key, int64_t version) {
  return absl::StrCat(head_key, std::string(1, kSep), EncodeBigEndian64(version));
}

std::string RequestKey(absl::string_view tenant, absl::string_view request_id) {
  return absl::StrCat(tenant, std::string(1, kSep), request_id);
}

void ValidateId(absl::string_view field, absl::string_view value, FieldViolations& v) {
  if (value.empty()) {
    v.Add(std::string(field), "is required");
  } else if (value.find(kSep) != absl::string_view::npos) {
    v.Add(std::string(field), "must not contain NUL bytes");
  } else if (value.size() > 256) {
    v.Add(std::string(field), "must be at most 256 bytes");
  }
}

// Reads a stored request record, current or legacy (a bare AppendReceipt).
bool ParseRequestRecord(const std::string& stored, RequestRecord* record) {
  if (!record->ParseFromString(stored)) return false;
  if (record->receipts_size() > 0) return true;
  AppendReceipt legacy;
  if (!legacy.ParseFromString(stored) || legacy.stream_id().empty()) return false;
  *record->add_receipts() = std::move(legacy);
  return true;
}

}  // namespace

struct EventStore::Writer {
  struct Op {
    rocksdb::ColumnFamilyHandle* cf;
    std::string key;
    std::string value;
  };
  std::vector<Op> ops;
  RequestRecord record;
  std::vector<std::pair<std::string, int64_t>> heads;  // head key, version after
  int64_t last_position = 0;
  std::string request_key;
  absl::Status status;
  // Set under mu_ (retries of this request wait on it there); the writer
  // itself reads it, and `status`, after `woken`, which orders them.
  bool done = false;
  // Notified once, outside mu_: when this append is done, or when it is at
  // the front of the queue and leads the next group. The writer waits on it
  // without mu_, so a finished group's writers do not all contend for mu_
  // on waking (a third of a loaded store's context switches did).
  absl::Notification woken;
};

EventStore::EventStore(EventStoreOptions options) : options_(std::move(options)) {}

EventStore::~EventStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  if (db_) db_->Close();
}

absl::StatusOr<std::unique_ptr<EventStore>> EventStore::Open(EventStoreOptions options) {
  std::unique_ptr<EventStore> store(new EventStore(std::move(options)));
  RETURN_IF_ERROR(store->Init());
  return store;
}

absl::Status EventStore::Init() {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.max_background_jobs = 2;
  opts.OptimizeLevelStyleCompaction(32 << 20);
  if (options_.env != nullptr) opts.env = options_.env;
  storage::PrepareToOpen(opts, options_.path);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opts)},
      {"log", rocksdb::ColumnFamilyOptions(opts)},
      {"streams", rocksdb::ColumnFamilyOptions(opts)},
      {"heads", rocksdb::ColumnFamilyOptions(opts)},
      {"requests", rocksdb::ColumnFamilyOptions(opts)},
  };
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(opts, options_.path, cfs, &handles_, &raw),
                            absl::StrCat("open event store at ", options_.path)));
  db_.reset(raw);
  meta_cf_ = handles_[0];
  log_cf_ = handles_[1];
  streams_cf_ = handles_[2];
  heads_cf_ = handles_[3];
  requests_cf_ = handles_[4];

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "read log tail"));
  int64_t last = it->Valid() ? DecodeBigEndian64(storage::View(it->key())) : 0;
  next_position_ = last + 1;
  committed_position_ = last;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> EventStore::CurrentVersionLocked(const std::string& head_key) {
  if (auto it = pending_heads_.find(head_key); it != pending_heads_.end()) return it->second;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), heads_cf_, head_key, &value);
  if (s.IsNotFound()) return 0;
  RETURN_IF_ERROR(FromRocks(s, "read stream head"));
  return DecodeBigEndian64(value);
}

absl::StatusOr<AppendReceipt> EventStore::Append(const StreamId& stream, int64_t expected_version,
                                                 std::vector<NewEvent> events,
                                                 absl::string_view request_id) {
  std::vector<StreamAppend> appends;
  appends.push_back({stream, expected_version, std::move(events)});
  ASSIGN_OR_RETURN(auto receipts, AppendMany(std::move(appends), request_id));
  return receipts.front();
}

absl::StatusOr<std::vector<AppendReceipt>> EventStore::AppendMany(std::vector<StreamAppend> appends,
                                                                  absl::string_view request_id,
                                                                  bool* replayed) {
  if (replayed) *replayed = false;
  FieldViolations v;
  ValidateId("request_id", request_id, v);
  if (appends.empty()) v.Add("appends", "at least one stream is required");
  for (const StreamAppend& a : appends) {
    ValidateId("tenant", a.stream.tenant, v);
    ValidateId("stream_id", a.stream.id, v);
    if (a.events.empty()) v.Add("events", "at least one event is required");
    for (const NewEvent& e : a.events) {
      if (e.type.empty()) v.Add("events.type", "is required");
    }
    if (a.expected_version < kAnyVersion) v.Add("expected_version", "must be >= -1");
    if (a.stream.tenant != appends.front().stream.tenant) {
      v.Add("tenant", "every stream of one append must belong to one tenant");
    }
  }
  for (size_t i = 0; i < appends.size(); ++i) {
    for (size_t j = i + 1; j < appends.size(); ++j) {
      if (appends[i].stream.id == appends[j].stream.id) v.Add("stream_id", "appears twice");
    }
  }
  RETURN_IF_ERROR(v.ToStatus());
  if (options_.cipher != nullptr) {
    for (StreamAppend& a : appends) {
      for (NewEvent& e : a.events) {
        ASSIGN_OR_RETURN(e.payload,
                         options_.cipher->Seal(a.stream.tenant, e.type, std::move(e.payload)));
      }
    }
  }

  std::unique_lock<std::mutex> lock(mu_);
  const std::string& tenant = appends.front().stream.tenant;
  const std::string request_key = RequestKey(tenant, request_id);

  // A retry of a request still in flight waits for it and shares its outcome.
  if (auto it = pending_requests_.find(request_key); it != pending_requests_.end()) {
    std::shared_ptr<Writer> first = it->second;
    writers_cv_.wait(lock, [&] { return first->done; });
    if (first->status.ok()) {
      ++deduplicated_;
      if (replayed) *replayed = true;
      return std::vector<AppendReceipt>(first->record.receipts().begin(),
                                        first->record.receipts().end());
    }
    // The first attempt failed and acknowledged nothing: this one proceeds.
  }
  {
    std::string stored;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), requests_cf_, request_key, &stored);
    if (s.ok()) {
      RequestRecord record;
      if (!ParseRequestRecord(stored, &record))
        return absl::DataLossError("corrupt request record");
      ++deduplicated_;
      if (replayed) *replayed = true;
      return std::vector<AppendReceipt>(record.receipts().begin(), record.receipts().end());
    }
    if (!s.IsNotFound()) return FromRocks(s, "read request id");
  }

  std::vector<std::string> head_keys;
  std::vector<int64_t> currents;
  for (const StreamAppend& a : appends) {
    head_keys.push_back(HeadKey(a.stream));
    ASSIGN_OR_RETURN(int64_t current, CurrentVersionLocked(head_keys.back()));
    if (a.expected_version != kAnyVersion && a.expected_version != current) {
      // Let the append that moved the stream become durable first, so that
      // the caller's reload sees the state it conflicted with.
      const std::string& key = head_keys.back();
      writers_cv_.wait(lock, [&] { return !pending_heads_.contains(key); });
      return absl::AbortedError(absl::StrCat("stream ", a.stream.id, " is at version ", current,
                                             ", expected ", a.expected_version));
    }
    currents.push_back(current);
  }

  auto w = std::make_shared<Writer>();
  w->request_key = request_key;
  const absl::Time now = options_.clock->Now();
  thread_local absl::BitGen gen;
  StoredEvent ev;
  ev.set_request_id(std::string(request_id));
  ev.set_actor(current_actor.user.empty() ? "system" : current_actor.user);
  ev.set_actor_service(current_actor.service);
  ev.mutable_time()->set_seconds(absl::ToUnixSeconds(now));
  ev.mutable_time()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(now - absl::FromUnixSeconds(absl::ToUnixSeconds(now)))));
  for (size_t i = 0; i < appends.size(); ++i) {
    StreamAppend& a = appends[i];
    ev.set_tenant(a.stream.tenant);
    ev.set_stream_id(a.stream.id);
    AppendReceipt* receipt = w->record.add_receipts();
    receipt->set_tenant(a.stream.tenant);
    receipt->set_stream_id(a.stream.id);
    receipt->set_first_version(currents[i] + 1);
    receipt->set_first_position(next_position_);
    int64_t version = currents[i];
    for (NewEvent& e : a.events) {
      ++version;
      const int64_t position = next_position_++;
      ev.set_version(version);
      ev.set_position(position);
      ev.set_type(std::move(e.type));
      ev.set_payload(std::move(e.payload));
      const uint64_t hi = absl::Uniform<uint64_t>(gen), lo = absl::Uniform<uint64_t>(gen);
      ev.set_event_id(absl::StrFormat("%016x%016x", hi, lo));
      const std::string log_key = EncodeBigEndian64(position);
      w->ops.push_back({log_cf_, log_key, ev.SerializeAsString()});
      w->ops.push_back({streams_cf_, EventKey(head_keys[i], version), log_key});
    }
    receipt->set_last_version(version);
    receipt->set_last_position(next_position_ - 1);
    w->ops.push_back({heads_cf_, head_keys[i], EncodeBigEndian64(version)});
    w->heads.emplace_back(head_keys[i], version);
    pending_heads_[head_keys[i]] = version;
  }
  w->last_position = next_position_ - 1;
  w->ops.push_back({requests_cf_, request_key, w->record.SerializeAsString()});
  pending_requests_[request_key] = w;
  queue_.push_back(w);

  // The front of the queue leads: at once when the queue was empty, else when
  // the group before it is done. Every other append is done by a leader.
  if (queue_.size() > 1) {
    lock.unlock();
    w->woken.WaitForNotification();
    if (!w->done) {
      lock.lock();
      LeadGroup(lock);
    }
  } else {
    LeadGroup(lock);
  }
  if (!w->status.ok()) return w->status;
  return std::vector<AppendReceipt>(w->record.receipts().begin(), w->record.receipts().end());
}

// Writes the queued appends (from the front, up to max_group) in one synced
// batch, then wakes them and the next group's leader. Called, holding mu_, by
// the writer at the front of the queue; returns with mu_ released.
void EventStore::LeadGroup(std::unique_lock<std::mutex>& lock) {
  std::vector<std::shared_ptr<Writer>> group;
  rocksdb::WriteBatch batch;
  for (const auto& w : queue_) {
    if (group.size() >= options_.max_group) break;
    for (const auto& op : w->ops) batch.Put(op.cf, op.key, op.value);
    group.push_back(w);
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  lock.unlock();
  rocksdb::Status s = storage::Write(db_.get(), wo, &batch);
  lock.lock();
  ++syncs_;
  if (!s.ok()) {
    // The group's writers are still queued: the reset fails and wakes them.
    std::vector<std::shared_ptr<Writer>> failed(queue_.begin(), queue_.end());
    ResetAfterFailureLocked(FromRocks(s, "append"));
    lock.unlock();
    for (size_t i = 1; i < failed.size(); ++i) failed[i]->woken.Notify();
    return;
  }
  appends_ += static_cast<int64_t>(group.size());
  for (const auto& w : group) {
    w->done = true;
    queue_.pop_front();
    for (const auto& [head_key, version] : w->heads) {
      if (auto it = pending_heads_.find(head_key);
          it != pending_heads_.end() && it->second == version) {
        pending_heads_.erase(it);
      }
    }
    pending_requests_.erase(w->request_key);
  }
  {
    std::lock_guard<std::mutex> l(log_mu_);
    committed_position_ = group.back()->last_position;
  }
  log_cv_.notify_all();
  writers_cv_.notify_all();
  std::shared_ptr<Writer> next = queue_.empty() ? nullptr : queue_.front();
  lock.unlock();
  for (size_t i = 1; i < group.size(); ++i) group[i]->woken.Notify();
  if (next != nullptr) next->woken.Notify();
}

// A failed write acknowledges nothing: every queued append (they may build on
// the failed ones' versions) fails UNAVAILABLE and in-memory state is rebuilt
// from what is on disk.
void EventStore::ResetAfterFailureLocked(const absl::Status& cause) {
  for (const auto& w : queue_) {
    w->done = true;
    w->status = cause;
  }
  queue_.clear();
  pending_heads_.clear();
  pending_requests_.clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  it->SeekToLast();
  const int64_t last = it->Valid() ? DecodeBigEndian64(storage::View(it->key())) : 0;
  next_position_ = last + 1;
  committed_position_ = last;
  writers_cv_.notify_all();
}

absl::StatusOr<std::optional<AppendReceipt>> EventStore::FindRequest(absl::string_view tenant,
                                                                     absl::string_view request_id) {
  std::string stored;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), requests_cf_, RequestKey(tenant, request_id), &stored);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocks(s, "read request id"));
  RequestRecord record;
  if (!ParseRequestRecord(stored, &record)) return absl::DataLossError("corrupt request record");
  return record.receipts(0);
}

absl::StatusOr<int64_t> EventStore::StreamVersion(const StreamId& stream) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), heads_cf_, HeadKey(stream), &value);
  if (s.IsNotFound()) return 0;
  RETURN_IF_ERROR(FromRocks(s, "read stream head"));
  return DecodeBigEndian64(value);
}

absl::StatusOr<std::vector<StoredEvent>> EventStore::ReadStream(const StreamId& stream,
                                                                int64_t from_version) {
  const std::string head_key = HeadKey(stream);
  const std::string prefix = head_key + kSep;
  std::vector<StoredEvent> out;
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_cf_));
  for (it->Seek(EventKey(head_key, std::max<int64_t>(from_version, 1)));
       it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string value;
    RETURN_IF_ERROR(FromRocks(db_->Get(ro, log_cf_, it->value(), &value), "read log"));
    StoredEvent& ev = out.emplace_back();
    if (!ev.ParseFromString(value)) return absl::DataLossError("corrupt stored event");
    RETURN_IF_ERROR(OpenPayload(ev));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read stream"));
  return out;
}

absl::Status EventStore::OpenPayload(StoredEvent& event) {
  if (options_.cipher == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      *event.mutable_payload(),
      options_.cipher->Open(event.tenant(), event.type(), std::move(*event.mutable_payload())));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredEvent>> EventStore::ReadLog(int64_t from_position, size_t max,
                                                             Payloads payloads) {
  std::vector<StoredEvent> out;
  RETURN_IF_ERROR(ScanLog(from_position, max, payloads, [&](StoredEvent& e) {
    out.push_back(std::move(e));
    return true;
  }));
  return out;
}

absl::Status EventStore::ScanLog(int64_t from_position, size_t max, Payloads payloads,
                                 absl::FunctionRef<bool(StoredEvent&)> fn) {
  const int64_t last = committed_position_.load();
  // A scan reads each block of the log once, often much of the log (a read
  // model rebuilt, the relay catching up): its blocks are not cached, so it
  // neither pays for admitting them nor evicts what commands read again.
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, log_cf_));
  StoredEvent ev;  // parsing into it again reuses its fields' memory (unless moved from)
  size_t read = 0;
  for (it->Seek(EncodeBigEndian64(std::max<int64_t>(from_position, 1))); it->Valid() && read < max;
       it->Next(), ++read) {
    if (DecodeBigEndian64(storage::View(it->key())) > last) break;
    if (!ev.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt stored event");
    }
    if (payloads == Payloads::kOpen) RETURN_IF_ERROR(OpenPayload(ev));
    if (!fn(ev)) return absl::OkStatus();
  }
  return FromRocks(it->status(), "read log");
}

bool EventStore::WaitForPosition(int64_t position, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(log_mu_);
  return log_cv_.wait_for(lock, absl::ToChronoMicroseconds(timeout),
                          [&] { return committed_position_.load() >= position; });
}

absl::Status EventStore::PutMeta(absl::string_view key, absl::string_view value) {
  rocksdb::WriteBatch batch;
  batch.Put(meta_cf_, rocksdb::Slice(key.data(), key.size()),
            rocksdb::Slice(value.data(), value.size()));
  return FromRocks(storage::Write(db_.get(), rocksdb::WriteOptions(), &batch), "write meta");
}

absl::StatusOr<std::optional<std::string>> EventStore::GetMeta(absl::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, std::string(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocks(s, "read meta"));
  return value;
}

absl::Status EventStore::Compact() {
  for (auto* h : handles_) {
    RETURN_IF_ERROR(
        FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr),
                  "compact event store"));
  }
  return absl::OkStatus();
}

EventStoreStats EventStore::stats() const {
  return {appends_.load(), deduplicated_.load(), syncs_.load()};
}

absl::Status AppendedMeanwhileOr(EventStore& store, absl::string_view tenant,
                                 absl::string_view request_id, absl::Status refusal) {
  ASSIGN_OR_RETURN(auto appended, store.FindRequest(tenant, request_id));
  return appended ? absl::OkStatus() : refusal;
}

}  // namespace crm::eventstore
