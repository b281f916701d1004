#ifndef CRM_LIBS_RPC_RPC_H_
#define CRM_LIBS_RPC_RPC_H_

// What every gRPC service of the project shares at its edge: absl::Status to
// grpc::Status with google.rpc details, the caller's identity from its token,
// and opaque page tokens.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "libs/auth/jwt.h"
#include "libs/status/status.h"

namespace crm::rpc {

// The canonical code and message, plus a google.rpc.Status in the
// grpc-status-details-bin trailer carrying the BadRequest / ErrorInfo
// payloads of `status`.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The google.rpc.Status details of a failed call (client side; for tests and
// the CLI): the field violations and reason.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Who is calling, from the verified bearer token of the call.
struct Caller {
  std::string tenant;
  // The user; on a call a service makes for a user, that user.
  std::string user;
  // The calling service when a service acts for `user` (role "service").
  std::string service;
  // "admin" may change the tenant's rules.
  bool admin = false;
  // "manager" approves what reps may not decide alone (closing a deal as
  // lost, larger discounts) and sees their teams' customers.
  bool manager = false;
  // Every role the token names (rep, manager, admin, bi, service, team-lead,
  // director, legal, ...).
  std::set<std::string> roles;
  // The teams the token names.
  std::vector<std::string> teams;
};

// Calls carry `authorization: Bearer <JWT>` (see libs/auth/jwt.h).
inline constexpr char kAuthorizationMetadata[] = "authorization";

// Installs the process's token verifier (at start, before serving). Until
// one is installed, every call is UNAUTHENTICATED.
void InstallVerifier(std::shared_ptr<const auth::Verifier> verifier);

// UNAUTHENTICATED saying why when the call has no valid bearer token, or its
// tenant or user is not 1-64 characters of [a-z0-9_-] (lower case);
// PERMISSION_DENIED (reason ROLE_NOT_ALLOWED) when none of its roles may call
// the method (libs/rpc/access.h; the server must register MethodRecorder).
absl::StatusOr<Caller> CallerFrom(const grpc::ServerContext& context);

// Server credentials: plaintext when `cert` is empty; else TLS with the PEM
// `cert` chain and `key`, and when `client_ca` is set, client certificates
// required and verified against it (mutual TLS). INVALID_ARGUMENT naming an
// unreadable file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const std::string& cert, const std::string& key, const std::string& client_ca);

// Keeps up to `max_idle` request threads of a synchronous server waiting for
// calls (at least two). gRPC's default keeps two: under more concurrent calls
// than that it starts a thread per call and ends it after, and calls that
// wait for a durable write hold their thread for the whole fsync.
void KeepServerThreads(grpc::ServerBuilder& builder, int max_idle = 64);

// Channel credentials: plaintext when `ca` is empty; else TLS verifying the
// server against the PEM `ca`, presenting `cert`/`key` when given (mutual
// TLS).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFrom(
    const std::string& ca, const std::string& cert, const std::string& key);

// Client side: sends `token` as the call's bearer token.
void SetBearer(grpc::ClientContext& context, const std::string& token);

// Calls `method` ("/crm.lead.v1.LeadService/GetLead") with the serialized
// `request` through gRPC's generic stub and appends the serialized response
// to `response` (when set and the call succeeded): for callers that know a
// method only by name (crmctl call, tests walking every method).
grpc::Status RawCall(grpc::ClientContext& context, const std::shared_ptr<grpc::Channel>& channel,
                     const std::string& method, const std::string& request,
                     std::string* response = nullptr);

// Tokens a service presents on the calls it makes for a user: its own
// identity (role "service") acting for that user, minted with the process's
// signing key and reused until near expiry.
class ServiceTokens {
 public:
  ServiceTokens(std::string service, auth::Signer signer)
      : service_(std::move(service)), signer_(std::move(signer)) {}
  std::string For(const std::string& tenant, const std::string& acting_user);
  // Adds the bearer for `tenant`/`acting_user` to `context`.
  void Authorize(grpc::ClientContext& context, const std::string& tenant,
                 const std::string& acting_user) {
    SetBearer(context, For(tenant, acting_user));
  }

 private:
  std::string service_;
  auth::Signer signer_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::pair<std::string, absl::Time>> cache_
      ABSL_GUARDED_BY(mu_);
};

// Adds a violation for a missing or over-long (> 128 bytes) request_id.
void CheckRequestId(const std::string& request_id, FieldViolations& violations);

// The id in a resource name `<collection>/<id>`; INVALID_ARGUMENT naming
// `field` when it is not one (ids are 1-64 bytes without '/' or NUL).
absl::StatusOr<std::string> ParseName(absl::string_view collection, const std::string& name,
                                      absl::string_view field = "name");

// Page tokens: opaque to clients, bound to the list they came from.
std::string EncodePageToken(absl::string_view list, absl::string_view last_key);
// The position a token names ("" for no token: the first page);
// INVALID_ARGUMENT (field page_token) for a token not made for `list`.
absl::StatusOr<std::string> DecodePageToken(absl::string_view list, absl::string_view token);

// page_size rule shared by every List: 0 -> default, above max -> max,
// negative -> INVALID_ARGUMENT (field page_size).
absl::StatusOr<int> PageSize(int requested, int default_size = 100, int max_size = 1000);

}  // namespace crm::rpc

#endif  // CRM_LIBS_RPC_RPC_H_
