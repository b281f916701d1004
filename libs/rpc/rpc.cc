#include "libs/rpc/rpc.h"

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "libs/eventstore/actor.h"
#include "libs/rpc/access.h"
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

absl::Mutex verifier_mu;
std::shared_ptr<const auth::Verifier> installed_verifier ABSL_GUARDED_BY(verifier_mu);

constexpr char kNameRule[] = "must be 1-64 characters of a-z, 0-9, '-' and '_'";

}  // namespace

void InstallVerifier(std::shared_ptr<const auth::Verifier> verifier) {
  absl::MutexLock lock(&verifier_mu);
  installed_verifier = std::move(verifier);
}

absl::StatusOr<Caller> CallerFrom(const grpc::ServerContext& context) {
  eventstore::SetCallActor("", "");  // nothing of an earlier call on this thread
  std::shared_ptr<const auth::Verifier> verifier;
  {
    absl::MutexLock lock(&verifier_mu);
    verifier = installed_verifier;
  }
  if (verifier == nullptr) return absl::UnauthenticatedError("this process verifies no tokens");
  const std::string header = Metadata(context, kAuthorizationMetadata);
  if (header.empty()) {
    return absl::UnauthenticatedError(
        "the call carries no bearer token (metadata authorization: Bearer <token>)");
  }
  absl::string_view token = header;
  if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
    return absl::UnauthenticatedError("the authorization metadata is not \"Bearer <token>\"");
  }
  ASSIGN_OR_RETURN(auth::Identity id,
                   verifier->Verify(absl::StripAsciiWhitespace(token), absl::Now()));
  if (!ValidName(id.tenant)) {
    return absl::UnauthenticatedError(absl::StrCat("bearer token claim tenant ", kNameRule));
  }
  Caller caller;
  caller.tenant = id.tenant;
  caller.roles = id.roles;
  caller.teams = id.teams;
  caller.admin = id.roles.count("admin") > 0;
  caller.manager = id.roles.count("manager") > 0;
  if (!id.acting_user.empty()) {
    caller.service = id.user;
    caller.user = id.acting_user;
  } else {
    caller.user = id.user;
  }
  if (!ValidName(caller.user)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "bearer token claim ", id.acting_user.empty() ? "sub " : "act.sub ", kNameRule));
  }
  const std::string recorded = Metadata(context, kMethodMetadata);
  absl::string_view method = recorded;
  if (!absl::ConsumePrefix(&method, "/")) {
    return absl::PermissionDeniedError("the server did not record the method of the call");
  }
  RETURN_IF_ERROR(CheckAccess(std::string(method), caller.roles));
  eventstore::SetCallActor(caller.user, caller.service);
  return caller;
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  if (!in || !(buffer << in.rdbuf()) || buffer.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", path, " is not a PEM file"));
  }
  return buffer.str();
}

}  // namespace

void KeepServerThreads(grpc::ServerBuilder& builder, int max_idle) {
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(2, max_idle));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const std::string& cert, const std::string& key, const std::string& client_ca) {
  if (cert.empty()) {
    if (!key.empty() || !client_ca.empty()) {
      return absl::InvalidArgumentError("--tls-key and --tls-client-ca need --tls-cert");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                        : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ASSIGN_OR_RETURN(const std::string cert_pem, ReadPem("tls-cert", cert));
  ASSIGN_OR_RETURN(const std::string key_pem, ReadPem("tls-key", key));
  options.pem_key_cert_pairs.push_back({key_pem, cert_pem});
  if (!client_ca.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("tls-client-ca", client_ca));
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFrom(
    const std::string& ca, const std::string& cert, const std::string& key) {
  if (ca.empty()) {
    if (!cert.empty() || !key.empty()) {
      return absl::InvalidArgumentError("--tls-client-cert and --tls-client-key need --tls-ca");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("tls-ca", ca));
  if (!cert.empty()) {
    ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPem("tls-client-cert", cert));
    ASSIGN_OR_RETURN(options.pem_private_key, ReadPem("tls-client-key", key));
  }
  return grpc::SslCredentials(options);
}

void SetBearer(grpc::ClientContext& context, const std::string& token) {
  context.AddMetadata(kAuthorizationMetadata, absl::StrCat("Bearer ", token));
}

std::string ServiceTokens::For(const std::string& tenant, const std::string& acting_user) {
  constexpr absl::Duration kTtl = absl::Minutes(10);
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  if (cache_.size() > 10000) cache_.clear();  // bounded; entries are cheap to mint again
  auto& [token, expires] = cache_[{tenant, acting_user}];
  if (token.empty() || now > expires - kTtl / 2) {
    auth::Identity id;
    id.tenant = tenant;
    id.user = service_;
    id.roles = {"service"};
    id.acting_user = acting_user;
    token = signer_.Mint(id, now, kTtl);
    expires = now + kTtl;
  }
  return token;
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
  if (token.empty()) return std::string();
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

grpc::Status RawCall(grpc::ClientContext& context, const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& method, const std::string& request, std::string* response) {
  grpc::Slice slice(request);
  grpc::ByteBuffer in(&slice, 1), out;
  grpc::GenericStub stub(channel);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &in, &out,
                 [&](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (response != nullptr && status.ok() && out.Dump(&slices).ok()) {
    for (const auto& s : slices) {
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return status;
}

}  // namespace crm::rpc
