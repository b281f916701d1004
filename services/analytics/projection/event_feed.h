#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_EVENT_FEED_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_EVENT_FEED_H_

// For the analytics projection tests: a topic's events of tenant "acme" as
// a consumer receives them, each with the next offset and its stream's next
// version.

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/message.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/readstore/projection_runner.h"

namespace crm::analytics {

class EventFeed {
 public:
  // The event in `wrapper` (a service's event oneof) on `stream` at `when`.
  readstore::Envelope Next(const std::string& source, const std::string& stream,
                           const google::protobuf::Message& wrapper, absl::Time when) {
    auto ne = *eventstore::ToNewEvent(wrapper);
    readstore::Envelope e;
    e.source = source;
    e.offset = offset_++;
    e.event.set_tenant("acme");
    e.event.set_stream_id(stream);
    e.event.set_version(++versions_[stream]);
    e.event.set_type(ne.type);
    e.event.set_payload(ne.payload);
    e.event.set_event_id(absl::StrCat("e", e.offset));
    *e.event.mutable_time() = ToTimestamp(when);
    return e;
  }
  // The next offset, for an envelope made by hand.
  int64_t NextOffset() { return offset_++; }
  // Starts the streams' versions over (a second store fed the same history).
  void RestartVersions() { versions_.clear(); }

 private:
  int64_t offset_ = 0;
  std::map<std::string, int64_t> versions_;
};

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_EVENT_FEED_H_
