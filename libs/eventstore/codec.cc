#include "libs/eventstore/codec.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace crm::eventstore {

absl::StatusOr<NewEvent> ToNewEvent(const google::protobuf::Message& wrapper) {
  const auto* desc = wrapper.GetDescriptor();
  const auto* refl = wrapper.GetReflection();
  if (desc->oneof_decl_count() != 1) {
    return absl::InternalError(absl::StrCat(desc->full_name(), " is not an event wrapper"));
  }
  const auto* field = refl->GetOneofFieldDescriptor(wrapper, desc->oneof_decl(0));
  if (!field)
    return absl::InvalidArgumentError(absl::StrCat(desc->full_name(), " has no event set"));
  const auto& event = refl->GetMessage(wrapper, field);
  return NewEvent{event.GetDescriptor()->full_name(), event.SerializeAsString()};
}

absl::Status FromStored(absl::string_view type, const std::string& payload,
                        google::protobuf::Message* wrapper) {
  const auto* desc = wrapper->GetDescriptor();
  if (desc->oneof_decl_count() != 1) {
    return absl::InternalError(absl::StrCat(desc->full_name(), " is not an event wrapper"));
  }
  const auto* oneof = desc->oneof_decl(0);
  for (int i = 0; i < oneof->field_count(); ++i) {
    const auto* field = oneof->field(i);
    if (field->message_type() && field->message_type()->full_name() == type) {
      auto* msg = wrapper->GetReflection()->MutableMessage(wrapper, field);
      if (!msg->ParseFromString(payload)) {
        return absl::DataLossError(absl::StrCat("event of type ", type, " does not parse"));
      }
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("unknown event type ", type, " for ", desc->full_name()));
}

absl::StatusOr<bool> DecodeIfOwn(absl::string_view type, const std::string& payload,
                                 google::protobuf::Message* wrapper) {
  absl::Status s = FromStored(type, payload, wrapper);
  if (s.ok()) return true;
  if (absl::IsNotFound(s) &&
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          std::string(type)) != nullptr) {
    return false;
  }
  return s;
}

}  // namespace crm::eventstore
