#ifndef CRM_LIBS_READSTORE_READ_STORE_H_
#define CRM_LIBS_READSTORE_READ_STORE_H_

// ReadStore is a service's RocksDB for read models: projection rows plus the
// projections' progress (consumed offsets, per-aggregate applied versions of
// topics' events, parked events). Rows and progress change together in one
// WriteBatch, so a crash never leaves a read model ahead of or behind its
// offsets.
//
// Thread-safe.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/storage/encoding.h"
#include "rocksdb/db.h"

namespace crm::eventstore {
class PayloadCipher;
}

namespace crm::readstore {

class ReadStore {
 public:
  static absl::StatusOr<std::unique_ptr<ReadStore>> Open(const std::string& path);
  ~ReadStore();

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* rows() { return rows_; }
  rocksdb::ColumnFamilyHandle* progress() { return progress_; }
  rocksdb::ColumnFamilyHandle* parked() { return parked_; }

  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);

  // Calls `fn(key, value)` for rows whose key starts with `prefix`, in key
  // order, starting after `start_after` (if not empty), until `fn` returns
  // false.
  absl::Status Scan(absl::string_view prefix, absl::string_view start_after,
                    const std::function<bool(absl::string_view, absl::string_view)>& fn);

  // Calls `fn(id, value)` for the rows listed under `prefix` (keys
  // `<prefix><id>`) in id order, starting after `after_id` (if not empty),
  // until `fn` returns false. When `rows_prefix` is not empty the entries
  // under `prefix` are an index: each names the row `<rows_prefix><id>`,
  // whose value `fn` gets (DATA_LOSS when that row is missing).
  absl::Status ScanListed(absl::string_view prefix, absl::string_view rows_prefix,
                          absl::string_view after_id,
                          const std::function<bool(absl::string_view, absl::string_view)>& fn);

  // Rows a read model gains from rows it already has (a new index over
  // them), added once per store: when the row `marker` is absent, calls
  // `derive(key, value)` for every row and puts the rows it returns, in
  // batches, then the marker. Run before the projections start. A run cut
  // short by a crash runs again whole (derived rows are overwritten with
  // the same values).
  using Rows = std::vector<std::pair<std::string, std::string>>;
  absl::Status DeriveRowsOnce(
      absl::string_view marker,
      const std::function<Rows(absl::string_view key, absl::string_view value)>& derive);

  // Flushes every column family and compacts `tenant`'s rows, so values
  // overwritten or deleted before now are gone from the files (the WAL and
  // older SSTs), not just hidden.
  absl::Status Scrub(absl::string_view tenant);

  // The cipher the service's event log is sealed with: the projections over
  // this store seal the payload of an event from the log they park, and
  // open it to replay it (ParkedEvent.payload_sealed). Set before they run;
  // without one, parked payloads are kept as applied.
  void SealParkedWith(eventstore::PayloadCipher* cipher) { parked_cipher_ = cipher; }
  eventstore::PayloadCipher* parked_cipher() const { return parked_cipher_; }

 private:
  ReadStore() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* rows_ = nullptr;
  rocksdb::ColumnFamilyHandle* progress_ = nullptr;
  rocksdb::ColumnFamilyHandle* parked_ = nullptr;
  eventstore::PayloadCipher* parked_cipher_ = nullptr;
};

using storage::DecodeBigEndian64;
using storage::EncodeBigEndian64;
using storage::FromRocks;

}  // namespace crm::readstore

#endif  // CRM_LIBS_READSTORE_READ_STORE_H_
