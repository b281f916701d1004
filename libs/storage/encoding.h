#ifndef CRM_LIBS_STORAGE_ENCODING_H_
#define CRM_LIBS_STORAGE_ENCODING_H_

// What the project's RocksDB stores share: order-preserving key encodings and
// RocksDB status to absl::Status (UNAVAILABLE for I/O and space errors, which
// a retry may cure).

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"

namespace crm::storage {

inline std::string EncodeBigEndian64(int64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

inline int64_t DecodeBigEndian64(absl::string_view s) {
  int64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

inline absl::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

inline absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain() || s.IsNoSpace()) {
    return absl::UnavailableError(absl::StrCat(what, ": ", s.ToString()));
  }
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace crm::storage

#endif  // CRM_LIBS_STORAGE_ENCODING_H_
