#ifndef CRM_LIBS_EVENTSTORE_CODEC_H_
#define CRM_LIBS_EVENTSTORE_CODEC_H_

// Converts between a service's event wrapper (a message whose only content is
// one oneof of concrete events, e.g. crm.lead.events.v1.LeadEvent) and what
// the store and topics carry: the concrete event's type name and bytes.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "libs/eventstore/event_store.h"

namespace crm::eventstore {

// The set oneof field as a NewEvent; INVALID_ARGUMENT when none is set.
absl::StatusOr<NewEvent> ToNewEvent(const google::protobuf::Message& wrapper);

// Every wrapper of `events` as NewEvents, in order.
template <typename Wrapper>
absl::StatusOr<std::vector<NewEvent>> ToNewEvents(const std::vector<Wrapper>& events) {
  std::vector<NewEvent> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    absl::StatusOr<NewEvent> ne = ToNewEvent(e);
    if (!ne.ok()) return ne.status();
    out.push_back(*std::move(ne));
  }
  return out;
}

// Sets the wrapper's oneof field whose message type is `type` from `payload`.
// NOT_FOUND for a type the wrapper does not know (an event from a newer
// version); DATA_LOSS when the payload does not parse.
absl::Status FromStored(absl::string_view type, const std::string& payload,
                        google::protobuf::Message* wrapper);

// For consumers of a topic that carries several aggregates' events: decodes
// `type` into `wrapper` and returns true when it is one of the wrapper's
// events; false for an event type this build knows from another wrapper (a
// companion aggregate on the same topic, to skip); NOT_FOUND for a type it
// does not know at all (an event from a newer version: park it).
absl::StatusOr<bool> DecodeIfOwn(absl::string_view type, const std::string& payload,
                                 google::protobuf::Message* wrapper);

}  // namespace crm::eventstore

#endif  // CRM_LIBS_EVENTSTORE_CODEC_H_
