#ifndef CRM_LIBS_RPC_RPC_H_
#define CRM_LIBS_RPC_RPC_H_

// What every gRPC service of the project shares at its edge: absl::Status to
// grpc::Status with google.rpc details, the caller's identity from metadata,
// and opaque page tokens.

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/grpcpp.h"
#include "libs/status/status.h"

namespace crm::rpc {

// The canonical code and message, plus a google.rpc.Status in the
// grpc-status-details-bin trailer carrying the BadRequest / ErrorInfo
// payloads of `status`.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The google.rpc.Status details of a failed call (client side; for tests and
// the CLI): the field violations and reason.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Who is calling. Until token authentication lands, the tenant and user come
// from the `x-crm-tenant` and `x-crm-user` metadata entries.
struct Caller {
  std::string tenant;
  std::string user;
  // "admin" may change the tenant's rules. A stand-in for the identity and
  // access service (#8), from the x-crm-roles metadata.
  bool admin = false;
  // "manager" approves what reps may not decide alone (closing a deal as
  // lost, larger discounts).
  bool manager = false;
  // Every role named, trimmed (e.g. "team-lead", "legal").
  std::set<std::string> roles;
};

inline constexpr char kTenantMetadata[] = "x-crm-tenant";
inline constexpr char kUserMetadata[] = "x-crm-user";
// Comma-separated roles, e.g. "admin".
inline constexpr char kRolesMetadata[] = "x-crm-roles";

// UNAUTHENTICATED when the tenant is missing; INVALID_ARGUMENT when the tenant
// or user is not 1-64 characters of [a-z0-9_-] (lower case).
absl::StatusOr<Caller> CallerFrom(const grpc::ServerContext& context);

// Adds a violation for a missing or over-long (> 128 bytes) request_id.
void CheckRequestId(const std::string& request_id, FieldViolations& violations);

// The id in a resource name `<collection>/<id>`; INVALID_ARGUMENT naming
// `field` when it is not one (ids are 1-64 bytes without '/' or NUL).
absl::StatusOr<std::string> ParseName(absl::string_view collection, const std::string& name,
                                      absl::string_view field = "name");

// Page tokens: opaque to clients, bound to the list they came from.
std::string EncodePageToken(absl::string_view list, absl::string_view last_key);
// INVALID_ARGUMENT (field page_token) for a token not made for `list`.
absl::StatusOr<std::string> DecodePageToken(absl::string_view list, absl::string_view token);

// page_size rule shared by every List: 0 -> default, above max -> max,
// negative -> INVALID_ARGUMENT (field page_size).
absl::StatusOr<int> PageSize(int requested, int default_size = 100, int max_size = 1000);

}  // namespace crm::rpc

#endif  // CRM_LIBS_RPC_RPC_H_
