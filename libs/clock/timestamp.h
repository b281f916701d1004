#ifndef CRM_LIBS_CLOCK_TIMESTAMP_H_
#define CRM_LIBS_CLOCK_TIMESTAMP_H_

// Conversions between absl::Time and google.protobuf.Timestamp, exact to the
// nanosecond. Link crm_proto (or protobuf) to use them.

#include <cstdint>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace crm {

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(
      static_cast<int32_t>((t - absl::FromUnixSeconds(ts.seconds())) / absl::Nanoseconds(1)));
  return ts;
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace crm

#endif  // CRM_LIBS_CLOCK_TIMESTAMP_H_
