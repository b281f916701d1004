#include "libs/readstore/read_store.h"

#include "absl/strings/str_cat.h"
#include "libs/status/status.h"
#include "libs/storage/rocks.h"
#include "rocksdb/write_batch.h"

namespace crm::readstore {

absl::StatusOr<std::unique_ptr<ReadStore>> ReadStore::Open(const std::string& path) {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.max_background_jobs = 2;
  storage::PrepareToOpen(opts, path);
  opts.write_buffer_size = 16 << 20;  // see libs/storage/rocks.h
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(opts)},
      {"progress", rocksdb::ColumnFamilyOptions(opts)},
      {"parked", rocksdb::ColumnFamilyOptions(opts)},
  };
  std::unique_ptr<ReadStore> store(new ReadStore);
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(opts, path, cfs, &store->handles_, &raw),
                            absl::StrCat("open read store at ", path)));
  store->db_.reset(raw);
  store->rows_ = store->handles_[0];
  store->progress_ = store->handles_[1];
  store->parked_ = store->handles_[2];
  return store;
}

absl::Status ReadStore::Scrub(absl::string_view tenant) {
  rocksdb::FlushOptions fo;
  RETURN_IF_ERROR(FromRocks(db_->Flush(fo, handles_), "flush read store"));
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  const std::string begin(tenant), end = std::string(tenant) + '\x01';
  const rocksdb::Slice b(begin), e(end);
  return FromRocks(db_->CompactRange(co, rows_, &b, &e), "compact read store");
}

ReadStore::~ReadStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  if (db_) db_->Close();
}

absl::StatusOr<std::optional<std::string>> ReadStore::Get(absl::string_view key) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), rows_, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocks(s, "read row"));
  return value;
}

absl::Status ReadStore::Scan(absl::string_view prefix, absl::string_view start_after,
                             const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rows_));
  const rocksdb::Slice p(prefix.data(), prefix.size());
  if (start_after.empty()) {
    it->Seek(p);
  } else {
    it->Seek(rocksdb::Slice(start_after.data(), start_after.size()));
    if (it->Valid() && it->key() == rocksdb::Slice(start_after.data(), start_after.size())) {
      it->Next();
    }
  }
  for (; it->Valid() && it->key().starts_with(p); it->Next()) {
    if (!fn(absl::string_view(it->key().data(), it->key().size()),
            absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status(), "scan rows");
}

absl::Status ReadStore::ScanListed(
    absl::string_view prefix, absl::string_view rows_prefix, absl::string_view after_id,
    const std::function<bool(absl::string_view, absl::string_view)>& fn) {
  absl::Status error;
  const std::string start = after_id.empty() ? "" : absl::StrCat(prefix, after_id);
  // An index's rows are read in place (pinned, not copied), under one key
  // buffer that keeps the rows' prefix.
  std::string row_key(rows_prefix);
  rocksdb::PinnableSlice row;
  RETURN_IF_ERROR(Scan(prefix, start, [&](absl::string_view key, absl::string_view value) {
    const absl::string_view id = key.substr(prefix.size());
    if (rows_prefix.empty()) return fn(id, value);
    row_key.resize(rows_prefix.size());
    row_key.append(id.data(), id.size());
    row.Reset();
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), rows_, row_key, &row);
    if (!s.ok()) {
      error = s.IsNotFound() ? absl::DataLossError(absl::StrCat("row missing for index entry ", id))
                             : FromRocks(s, "read row");
      return false;
    }
    return fn(id, storage::View(row));
  }));
  return error;
}

absl::Status ReadStore::DeriveRowsOnce(
    absl::string_view marker,
    const std::function<Rows(absl::string_view key, absl::string_view value)>& derive) {
  ASSIGN_OR_RETURN(auto done, Get(marker));
  if (done) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), rows_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    for (const auto& [key, value] : derive(storage::View(it->key()), storage::View(it->value()))) {
      batch.Put(rows_, key, value);
    }
    if (batch.Count() >= 10'000) {
      RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "derive rows"));
      batch.Clear();
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan rows"));
  batch.Put(rows_, rocksdb::Slice(marker.data(), marker.size()), "");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "derive rows");
}

}  // namespace crm::readstore
