#include "libs/status/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace crm {

void FieldViolations::Add(std::string field, std::string description) {
  violations_.emplace_back(std::move(field), std::move(description));
}

absl::Status FieldViolations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  google::rpc::BadRequest details;
  std::string message;
  for (const auto& [field, description] : violations_) {
    auto* v = details.add_field_violations();
    v->set_field(field);
    v->set_description(description);
    absl::StrAppend(&message, message.empty() ? "" : "; ", field, ": ", description);
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kBadRequestUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kErrorDomain));
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status PreconditionFailed(absl::string_view reason, absl::string_view message,
                                const std::vector<Unmet>& unmet) {
  google::rpc::PreconditionFailure details;
  std::string text(message);
  for (const Unmet& u : unmet) {
    auto* v = details.add_violations();
    v->set_type(u.type);
    v->set_subject(u.subject);
    v->set_description(u.description);
    absl::StrAppend(&text, "; ", u.description);
  }
  absl::Status status = ErrorWithReason(absl::StatusCode::kFailedPrecondition, reason, text);
  status.SetPayload(kPreconditionFailureUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

google::rpc::PreconditionFailure PreconditionFailureOf(const absl::Status& status) {
  google::rpc::PreconditionFailure details;
  if (auto payload = status.GetPayload(kPreconditionFailureUrl)) {
    details.ParseFromString(std::string(*payload));
  }
  return details;
}

std::string ErrorReason(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoUrl);
  if (!payload) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

google::rpc::BadRequest BadRequestOf(const absl::Status& status) {
  google::rpc::BadRequest details;
  if (auto payload = status.GetPayload(kBadRequestUrl)) {
    details.ParseFromString(std::string(*payload));
  }
  return details;
}

}  // namespace crm
