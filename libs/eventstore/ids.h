#ifndef CRM_LIBS_EVENTSTORE_IDS_H_
#define CRM_LIBS_EVENTSTORE_IDS_H_

#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace crm::eventstore {

// A new aggregate id: `prefix` + 12 hex digits of milliseconds + 8 random hex
// digits. Ids sort by creation time, so listing by id lists oldest first.
inline std::string NewTimeOrderedId(char prefix, absl::Time now) {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%c%012x%08x", prefix, absl::ToUnixMillis(now),
                         absl::Uniform<uint32_t>(gen));
}

}  // namespace crm::eventstore

#endif  // CRM_LIBS_EVENTSTORE_IDS_H_
