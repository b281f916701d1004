#include "libs/rpc/rpc.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/rpc/status.pb.h"
#include "libs/status/status.h"

namespace crm::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(std::string(status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    auto* any = details.add_details();
    any->set_type_url(std::string(url));
    any->set_value(std::string(payload));
  });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      details.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

namespace {

bool ValidName(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

std::string Metadata(const grpc::ServerContext& context, const char* key) {
  const auto& md = context.client_metadata();
  auto it = md.find(key);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<Caller> CallerFrom(const grpc::ServerContext& context) {
  Caller caller;
  caller.tenant = Metadata(context, kTenantMetadata);
  caller.user = Metadata(context, kUserMetadata);
  for (absl::string_view role : absl::StrSplit(Metadata(context, kRolesMetadata), ',')) {
    caller.admin |= absl::StripAsciiWhitespace(role) == "admin";
    caller.manager |= absl::StripAsciiWhitespace(role) == "manager";
    if (!absl::StripAsciiWhitespace(role).empty()) {
      caller.roles.insert(std::string(absl::StripAsciiWhitespace(role)));
    }
  }
  if (caller.tenant.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the call names no tenant (metadata ", kTenantMetadata, ")"));
  }
  FieldViolations v;
  if (!ValidName(caller.tenant)) {
    v.Add(kTenantMetadata, "must be 1-64 characters of a-z, 0-9, '-' and '_'");
  }
  if (caller.user.empty()) caller.user = "anonymous";
  if (!ValidName(caller.user)) {
    v.Add(kUserMetadata, "must be 1-64 characters of a-z, 0-9, '-' and '_'");
  }
  RETURN_IF_ERROR(v.ToStatus());
  return caller;
}

void CheckRequestId(const std::string& request_id, FieldViolations& violations) {
  if (request_id.empty()) {
    violations.Add("request_id", "is required so that a retry cannot act twice");
  } else if (request_id.size() > 128) {
    violations.Add("request_id", "must be at most 128 bytes");
  }
}

absl::StatusOr<std::string> ParseName(absl::string_view collection, const std::string& name,
                                      absl::string_view field) {
  const std::string prefix = absl::StrCat(collection, "/");
  const std::string id = absl::StartsWith(name, prefix) ? name.substr(prefix.size()) : "";
  if (id.empty() || id.size() > 64 ||
      id.find_first_of(std::string("/\0", 2)) != std::string::npos) {
    FieldViolations v;
    v.Add(std::string(field), absl::StrCat("must be ", collection, "/{id}"));
    return v.ToStatus();
  }
  return id;
}

std::string EncodePageToken(absl::string_view list, absl::string_view last_key) {
  return absl::WebSafeBase64Escape(absl::StrCat("v1|", list, "|", last_key));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view list, absl::string_view token) {
  std::string raw;
  const std::string prefix = absl::StrCat("v1|", list, "|");
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, prefix)) {
    FieldViolations v;
    v.Add("page_token", "is not a token from a previous response of this list");
    return v.ToStatus();
  }
  return raw.substr(prefix.size());
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max_size) {
  if (requested < 0) {
    FieldViolations v;
    v.Add("page_size", "must not be negative");
    return v.ToStatus();
  }
  if (requested == 0) return default_size;
  return std::min(requested, max_size);
}

}  // namespace crm::rpc
