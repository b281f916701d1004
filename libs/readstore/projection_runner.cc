#include "libs/readstore/projection_runner.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/eventstore/event_store.h"
#include "libs/status/status.h"
#include "libs/storage/rocks.h"

namespace crm::readstore {
namespace {

constexpr char kSep = '\0';

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

std::string Sep() { return std::string(1, kSep); }

absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<std::optional<std::string>> RowWriter::Get(absl::string_view key) {
  if (auto it = writes_.find(key); it != writes_.end()) return it->second;
  return store_->Get(key);
}

absl::Status RowWriter::Scan(absl::string_view prefix,
                             const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  // The stored rows and the batch's writes, merged in key order; a write
  // shadows the stored row of its key.
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->rows()));
  const rocksdb::Slice p = ToSlice(prefix);
  it->Seek(p);
  auto w = writes_.lower_bound(prefix);
  for (;;) {
    const bool stored = it->Valid() && it->key().starts_with(p);
    const bool written = w != writes_.end() && absl::StartsWith(w->first, prefix);
    if (!stored && !written) break;
    if (written && (!stored || w->first <= View(it->key()))) {
      if (stored && w->first == View(it->key())) it->Next();
      const auto& [key, value] = *w++;
      if (value && !fn(key, *value)) break;
    } else {
      if (!fn(View(it->key()), View(it->value()))) break;
      it->Next();
    }
  }
  return FromRocks(it->status(), "scan rows");
}

void RowWriter::Put(absl::string_view key, std::string value) { Write(key, std::move(value)); }

void RowWriter::Delete(absl::string_view key) { Write(key, std::nullopt); }

void RowWriter::Write(absl::string_view key, std::optional<std::string> value) {
  auto it = writes_.lower_bound(key);
  if (it != writes_.end() && it->first == key) {
    undo_.push_back({std::string(key), true, std::move(it->second)});
    it->second = std::move(value);
  } else {
    undo_.push_back({std::string(key), false, std::nullopt});
    writes_.emplace_hint(it, std::string(key), std::move(value));
  }
}

void RowWriter::Undo() {
  for (auto p = undo_.rbegin(); p != undo_.rend(); ++p) {
    if (p->in_batch) {
      writes_.find(p->key)->second = std::move(p->write);
    } else {
      writes_.erase(p->key);
    }
  }
  undo_.clear();
}

void RowWriter::AddTo(rocksdb::WriteBatch* out) const {
  for (const auto& [key, value] : writes_) {
    if (value) {
      out->Put(store_->rows(), key, *value);
    } else {
      out->Delete(store_->rows(), key);
    }
  }
}

ProjectionRunner::ProjectionRunner(ReadStore* store, Projection* projection, Clock* clock)
    : store_(store), projection_(projection), clock_(clock), name_(projection->name()) {
  // Continue the parked sequence after the last parked event of this projection.
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->parked()));
  const std::string prefix = name_ + Sep();
  it->SeekForPrev(prefix + std::string(8, '\xff'));
  if (it->Valid() && it->key().starts_with(prefix)) {
    park_seq_ = DecodeBigEndian64(absl::string_view(it->key().data() + prefix.size(), 8));
  }
}

std::string ProjectionRunner::OffsetKey(absl::string_view source, int32_t partition) const {
  return absl::StrCat("offset", Sep(), name_, Sep(), source, Sep(), partition);
}

std::string ProjectionRunner::VersionKey(const StoredEvent& e) const {
  return absl::StrCat(e.tenant(), Sep(), "version", Sep(), name_, Sep(), e.stream_id());
}

absl::StatusOr<std::pair<std::string, std::string>> ProjectionRunner::Park(
    const Envelope& e, absl::string_view error) {
  ParkedEvent p;
  p.set_projection(name_);
  p.set_source(e.source);
  p.set_partition(e.partition);
  p.set_offset(e.offset);
  *p.mutable_event() = e.event;
  if (e.source == kLogSource && store_->parked_cipher() != nullptr && !e.event.type().empty()) {
    ASSIGN_OR_RETURN(
        *p.mutable_event()->mutable_payload(),
        store_->parked_cipher()->Seal(e.event.tenant(), e.event.type(), e.event.payload()));
    p.set_payload_sealed(true);
  }
  p.set_error(std::string(error));
  p.set_raw(e.raw);
  const absl::Time now = clock_->Now();
  p.mutable_parked_time()->set_seconds(absl::ToUnixSeconds(now));
  return std::make_pair(name_ + Sep() + EncodeBigEndian64(++park_seq_), p.SerializeAsString());
}

absl::Status ProjectionRunner::ApplyBatch(absl::Span<const Envelope> batch) {
  RowWriter rows(store_);
  // This batch's offsets and applied versions, and the events it parks.
  absl::flat_hash_map<std::string, int64_t> offsets, versions;
  std::vector<std::pair<std::string, std::string>> parked_rows;
  int64_t applied = 0, dups = 0, gaps = 0, parked = 0, last_micros = 0;
  const int64_t seq_before = park_seq_;
  // A parked event's row; an error (sealing its payload) fails the batch.
  auto park = [&](const Envelope& e, absl::string_view error) -> absl::Status {
    auto row = Park(e, error);
    if (!row.ok()) {
      park_seq_ = seq_before;
      return row.status();
    }
    parked_rows.push_back(*std::move(row));
    ++parked;
    return absl::OkStatus();
  };

  // The aggregate's version as of the events before this one.
  auto applied_version = [&](const std::string& vkey) -> absl::StatusOr<int64_t> {
    if (auto it = versions.find(vkey); it != versions.end()) return it->second;
    std::string stored;
    rocksdb::Status s =
        store_->db()->Get(rocksdb::ReadOptions(), store_->progress(), vkey, &stored);
    if (s.IsNotFound()) return 0;
    RETURN_IF_ERROR(FromRocks(s, "read applied version"));
    return DecodeBigEndian64(stored);
  };

  // A batch holds runs of one source and partition (the log's, or a
  // topic partition's): their offset is looked up once per run.
  const Envelope* run = nullptr;
  int64_t* consumed = nullptr;  // offsets' entry for `run`'s source and partition
  for (const Envelope& e : batch) {
    if (run == nullptr || e.partition != run->partition || e.source != run->source) {
      std::string okey = OffsetKey(e.source, e.partition);
      auto it = offsets.find(okey);
      if (it == offsets.end()) {
        ASSIGN_OR_RETURN(const int64_t stored, Offset(e.source, e.partition));
        it = offsets.emplace(std::move(okey), stored).first;
      }
      run = &e;
      consumed = &it->second;  // stable until the next emplace, at the next run
    }
    if (e.offset <= *consumed) {
      ++dups;
      continue;
    }
    *consumed = e.offset;

    if (!e.decode_error.empty()) {
      RETURN_IF_ERROR(park(e, e.decode_error));
      continue;
    }
    // The log's own order makes its events exact (see the file comment);
    // a topic's are checked against the aggregate's applied version.
    const bool checked = e.source != kLogSource;
    const std::string vkey = checked ? VersionKey(e.event) : std::string();
    if (checked) {
      ASSIGN_OR_RETURN(const int64_t version, applied_version(vkey));
      if (e.event.version() <= version) {
        ++dups;
        continue;
      }
      if (e.event.version() > version + 1) {
        ++gaps;
        continue;
      }
    }
    rows.StartEvent();
    absl::Status st = projection_->Apply(e.event, rows);
    if (!st.ok()) {
      rows.Undo();
      RETURN_IF_ERROR(park(e, st.ToString()));
    } else {
      ++applied;
      last_micros = e.event.time().seconds() * 1'000'000 + e.event.time().nanos() / 1000;
    }
    // A parked event still advances the version, so the aggregate's later
    // events keep flowing; replaying the parked one applies it out of band.
    if (checked) versions[vkey] = e.event.version();
  }
  rocksdb::WriteBatch wb;
  rows.AddTo(&wb);
  for (const auto* progress : {&versions, &offsets}) {
    for (const auto& [key, value] : *progress) {
      wb.Put(store_->progress(), key, EncodeBigEndian64(value));
    }
  }
  for (const auto& [key, value] : parked_rows) wb.Put(store_->parked(), key, value);
  rocksdb::Status s = storage::Write(store_->db(), rocksdb::WriteOptions(), &wb);
  if (!s.ok()) {
    park_seq_ = seq_before;
    return FromRocks(s, "write projection batch");
  }
  for (const std::string& tenant : rows.scrub()) RETURN_IF_ERROR(store_->Scrub(tenant));
  applied_ += applied;
  duplicates_ += dups;
  gaps_ += gaps;
  parked_ += parked;
  if (last_micros) last_event_micros_ = last_micros;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ProjectionRunner::Offset(absl::string_view source, int32_t partition) {
  std::string value;
  rocksdb::Status s = store_->db()->Get(rocksdb::ReadOptions(), store_->progress(),
                                        OffsetKey(source, partition), &value);
  if (s.IsNotFound()) return -1;
  RETURN_IF_ERROR(FromRocks(s, "read offset"));
  return DecodeBigEndian64(value);
}

absl::StatusOr<bool> ProjectionRunner::BindCluster(absl::string_view source,
                                                   absl::string_view cluster_id) {
  const std::string ckey = absl::StrCat("cluster", Sep(), name_, Sep(), source);
  std::string stored;
  rocksdb::Status s = store_->db()->Get(rocksdb::ReadOptions(), store_->progress(), ckey, &stored);
  if (s.ok() && stored == cluster_id) return false;
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "read cluster id");
  rocksdb::WriteBatch wb;
  const std::string prefix = absl::StrCat("offset", Sep(), name_, Sep(), source, Sep());
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->progress()));
  bool dropped = false;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    wb.Delete(store_->progress(), it->key());
    dropped = true;
  }
  wb.Put(store_->progress(), ckey, ToSlice(cluster_id));
  RETURN_IF_ERROR(
      FromRocks(storage::Write(store_->db(), rocksdb::WriteOptions(), &wb), "bind cluster"));
  return dropped;
}

absl::StatusOr<std::vector<ParkedEvent>> ProjectionRunner::Parked(
    size_t limit, const std::function<bool(const ParkedEvent&)>& keep) {
  std::vector<ParkedEvent> out;
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->parked()));
  const std::string prefix = name_ + Sep();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && out.size() < limit;
       it->Next()) {
    if (!out.emplace_back().ParseFromArray(it->value().data(), int(it->value().size()))) {
      return absl::DataLossError("corrupt parked event");
    }
    if (keep && !keep(out.back())) out.pop_back();
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read parked events"));
  return out;
}

absl::StatusOr<int64_t> ProjectionRunner::ReplayParked() {
  RowWriter rows(store_);
  std::vector<std::string> replayed_keys;
  int64_t remaining = 0, replayed = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->parked()));
  const std::string prefix = name_ + Sep();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ParkedEvent p;
    p.ParseFromArray(it->value().data(), int(it->value().size()));
    if (p.event().type().empty()) {  // never decoded: nothing to apply yet
      ++remaining;
      continue;
    }
    if (p.payload_sealed()) {
      eventstore::PayloadCipher* cipher = store_->parked_cipher();
      auto opened = cipher == nullptr
                        ? absl::FailedPreconditionError("no cipher to open it")
                        : cipher->Open(p.event().tenant(), p.event().type(), p.event().payload());
      if (!opened.ok()) {
        ++remaining;
        continue;
      }
      p.mutable_event()->set_payload(*std::move(opened));
    }
    rows.StartEvent();
    if (projection_->Apply(p.event(), rows).ok()) {
      replayed_keys.emplace_back(View(it->key()));
      ++replayed;
    } else {
      rows.Undo();
      ++remaining;
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read parked events"));
  rocksdb::WriteBatch wb;
  rows.AddTo(&wb);
  for (const std::string& key : replayed_keys) wb.Delete(store_->parked(), key);
  RETURN_IF_ERROR(
      FromRocks(storage::Write(store_->db(), rocksdb::WriteOptions(), &wb), "write replay"));
  applied_ += replayed;
  return remaining;
}

ProjectionStats ProjectionRunner::stats() const {
  return {applied_.load(), duplicates_.load(), gaps_.load(), parked_.load(),
          last_event_micros_.load()};
}

}  // namespace crm::readstore
