#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_ROWS_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_ROWS_H_

// Helpers shared by the analytics read models: row keys, typed rows, and
// the "had it happened by then" test every as-of figure rests on.

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/timestamp.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/readstore/projection_runner.h"
#include "libs/status/status.h"

namespace crm::analytics {

// `<tenant>\0<kind>\0<rest>`.
inline std::string RowKey(absl::string_view tenant, absl::string_view kind,
                          absl::string_view rest = "") {
  return absl::StrCat(tenant, absl::string_view("\0", 1), kind, absl::string_view("\0", 1), rest);
}

// The row at `key` as a `Message` (empty when absent).
template <typename Message>
absl::StatusOr<Message> ReadRow(readstore::RowWriter& rows, const std::string& key) {
  Message m;
  ASSIGN_OR_RETURN(auto row, rows.Get(key));
  if (row && !m.ParseFromString(*row)) return absl::DataLossError("corrupt analytics row");
  return m;
}

// Calls `each` with every row under `prefix` parsed as a `Message`.
template <typename Message>
absl::Status ScanRows(readstore::ReadStore* store, const std::string& prefix,
                      const std::function<void(Message&&)>& each) {
  absl::Status error;
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view, absl::string_view value) {
    Message m;
    if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError("corrupt analytics row");
      return false;
    }
    each(std::move(m));
    return true;
  }));
  return error;
}

// 16 bytes that sort as the event's (time, version): row keys built from it
// list a stream's facts in the order they happened.
inline std::string EventWhen(const readstore::StoredEvent& e) {
  return readstore::EncodeBigEndian64(absl::ToUnixMicros(FromTimestamp(e.time()))) +
         readstore::EncodeBigEndian64(e.version());
}
// The time in an EventWhen.
inline absl::Time WhenTime(absl::string_view when) {
  return absl::FromUnixMicros(readstore::DecodeBigEndian64(when.substr(0, 8)));
}

inline bool IsSet(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

// Set, and at or before `as_of`.
inline bool HappenedBy(const google::protobuf::Timestamp& t, absl::Time as_of) {
  return IsSet(t) && FromTimestamp(t) <= as_of;
}

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_ROWS_H_
