#ifndef CRM_LIBS_READSTORE_DERIVE_H_
#define CRM_LIBS_READSTORE_DERIVE_H_

// Index rows a read model gains over the aggregate rows it already has
// (`<tenant>\0<kind>\0<id>` -> protobuf `Message`), added once per store
// through ReadStore::DeriveRowsOnce: `derive(tenant, id, row, rows)` adds
// the rows one aggregate row implies. Other rows, and rows that do not
// parse, derive nothing.

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "libs/readstore/read_store.h"

namespace crm::readstore {

template <typename Message>
absl::Status DeriveFromRows(
    ReadStore* store, absl::string_view marker, absl::string_view kind,
    const std::function<void(absl::string_view tenant, const std::string& id, const Message& row,
                             ReadStore::Rows& rows)>& derive) {
  return store->DeriveRowsOnce(marker, [&](absl::string_view key, absl::string_view value) {
    ReadStore::Rows rows;
    const std::vector<absl::string_view> parts = absl::StrSplit(key, '\0');
    Message m;
    if (parts.size() == 3 && parts[1] == kind &&
        m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      derive(parts[0], std::string(parts[2]), m, rows);
    }
    return rows;
  });
}

}  // namespace crm::readstore

#endif  // CRM_LIBS_READSTORE_DERIVE_H_
