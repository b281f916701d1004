#include "libs/readstore/projection_runner.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "libs/status/status.h"
#include "libs/storage/rocks.h"

namespace crm::readstore {
namespace {

constexpr char kSep = '\0';

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

std::string Sep() { return std::string(1, kSep); }

// Each key's last write in `wb` (an index that overwrites keys), in `out`:
// a batch rewrites the same rows many times (applied versions, per-rep and
// per-tenant rows), and the store needs only where each ended.
rocksdb::Status LatestOnly(rocksdb::WriteBatchWithIndex& wb,
                           std::initializer_list<rocksdb::ColumnFamilyHandle*> families,
                           rocksdb::WriteBatch* out) {
  for (rocksdb::ColumnFamilyHandle* cf : families) {
    std::unique_ptr<rocksdb::WBWIIterator> it(wb.NewIterator(cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::WriteEntry e = it->Entry();
      rocksdb::Status s;
      switch (e.type) {
        case rocksdb::kPutRecord:
          s = out->Put(cf, e.key, e.value);
          break;
        case rocksdb::kDeleteRecord:
          s = out->Delete(cf, e.key);
          break;
        default:
          return rocksdb::Status::NotSupported("projection batches only put and delete");
      }
      if (!s.ok()) return s;
    }
    if (!it->status().ok()) return it->status();
  }
  return rocksdb::Status::OK();
}

}  // namespace

absl::StatusOr<std::optional<std::string>> RowWriter::Get(absl::string_view key) {
  std::string value;
  rocksdb::Status s = batch_->GetFromBatchAndDB(store_->db(), rocksdb::ReadOptions(),
                                                store_->rows(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocks(s, "read row"));
  return value;
}

absl::Status RowWriter::Scan(absl::string_view prefix,
                             const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(batch_->NewIteratorWithBase(
      store_->rows(), store_->db()->NewIterator(rocksdb::ReadOptions(), store_->rows())));
  const rocksdb::Slice p = ToSlice(prefix);
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(absl::string_view(it->key().data(), it->key().size()),
            absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan rows");
}

void RowWriter::Put(absl::string_view key, absl::string_view value) {
  batch_->Put(store_->rows(), ToSlice(key), ToSlice(value));
}

void RowWriter::Delete(absl::string_view key) { batch_->Delete(store_->rows(), ToSlice(key)); }

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

void ProjectionRunner::Park(rocksdb::WriteBatchWithIndex& batch, const Envelope& e,
                            absl::string_view error) {
  ParkedEvent p;
  p.set_projection(name_);
  p.set_source(e.source);
  p.set_partition(e.partition);
  p.set_offset(e.offset);
  *p.mutable_event() = e.event;
  p.set_error(std::string(error));
  p.set_raw(e.raw);
  const absl::Time now = clock_->Now();
  p.mutable_parked_time()->set_seconds(absl::ToUnixSeconds(now));
  const std::string key = name_ + Sep() + EncodeBigEndian64(++park_seq_);
  batch.Put(store_->parked(), key, p.SerializeAsString());
}

absl::Status ProjectionRunner::ApplyBatch(const std::vector<Envelope>& batch) {
  rocksdb::WriteBatchWithIndex wb(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
  RowWriter rows(store_, &wb);
  absl::flat_hash_map<std::string, int64_t> offsets;  // key -> offset, this batch
  int64_t applied = 0, dups = 0, gaps = 0, parked = 0, last_micros = 0;
  const int64_t seq_before = park_seq_;

  for (const Envelope& e : batch) {
    const std::string okey = OffsetKey(e.source, e.partition);
    int64_t consumed;
    if (auto it = offsets.find(okey); it != offsets.end()) {
      consumed = it->second;
    } else {
      ASSIGN_OR_RETURN(consumed, Offset(e.source, e.partition));
    }
    if (e.offset <= consumed) {
      ++dups;
      continue;
    }
    offsets[okey] = e.offset;

    if (!e.decode_error.empty()) {
      Park(wb, e, e.decode_error);
      ++parked;
      continue;
    }
    const std::string vkey = VersionKey(e.event);
    std::string vvalue;
    rocksdb::Status vs = wb.GetFromBatchAndDB(store_->db(), rocksdb::ReadOptions(),
                                              store_->progress(), vkey, &vvalue);
    if (!vs.ok() && !vs.IsNotFound()) return FromRocks(vs, "read applied version");
    const int64_t version = vs.ok() ? DecodeBigEndian64(vvalue) : 0;
    if (e.event.version() <= version) {
      ++dups;
      continue;
    }
    if (e.event.version() > version + 1) {
      ++gaps;
      continue;
    }
    wb.SetSavePoint();
    absl::Status st = projection_->Apply(e.event, rows);
    if (!st.ok()) {
      wb.RollbackToSavePoint();
      Park(wb, e, st.ToString());
      ++parked;
    } else {
      wb.PopSavePoint();
      ++applied;
      last_micros = e.event.time().seconds() * 1'000'000 + e.event.time().nanos() / 1000;
    }
    // A parked event still advances the version, so the aggregate's later
    // events keep flowing; replaying the parked one applies it out of band.
    wb.Put(store_->progress(), vkey, EncodeBigEndian64(e.event.version()));
  }
  for (const auto& [key, offset] : offsets) {
    wb.Put(store_->progress(), key, EncodeBigEndian64(offset));
  }
  rocksdb::WriteBatch latest;
  rocksdb::Status s =
      LatestOnly(wb, {store_->rows(), store_->progress(), store_->parked()}, &latest);
  if (s.ok()) s = storage::Write(store_->db(), rocksdb::WriteOptions(), &latest);
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
  rocksdb::WriteBatchWithIndex wb(rocksdb::BytewiseComparator(), 0, true);
  RowWriter rows(store_, &wb);
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
    wb.SetSavePoint();
    if (projection_->Apply(p.event(), rows).ok()) {
      wb.PopSavePoint();
      wb.Delete(store_->parked(), it->key());
      ++replayed;
    } else {
      wb.RollbackToSavePoint();
      ++remaining;
    }
  }
  RETURN_IF_ERROR(FromRocks(
      storage::Write(store_->db(), rocksdb::WriteOptions(), wb.GetWriteBatch()), "write replay"));
  applied_ += replayed;
  return remaining;
}

ProjectionStats ProjectionRunner::stats() const {
  return {applied_.load(), duplicates_.load(), gaps_.load(), parked_.load(),
          last_event_micros_.load()};
}

}  // namespace crm::readstore
