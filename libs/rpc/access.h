#ifndef CRM_LIBS_RPC_ACCESS_H_
#define CRM_LIBS_RPC_ACCESS_H_

// Who may call which RPC: one table for every service of the platform,
// checked by CallerFrom before a handler runs (fail closed: a method the
// table does not name is refused). docs/security.md lists the same table; a
// unit test holds the two equal and an end-to-end test walks it against the
// running services.
//
// The method of a call reaches CallerFrom through a server interceptor
// (MethodRecorder) that records it in the call's metadata, replacing
// anything a client sent under that name. The same interceptor turns gRPC's
// bare INTERNAL for a request that does not decode into INVALID_ARGUMENT
// saying so.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/server_interceptor.h"

namespace crm::rpc {

// The roles of a token that names none.
inline constexpr char kDefaultRole[] = "rep";

// Full method name ("crm.lead.v1.LeadService/CreateLead") -> roles allowed.
const std::map<std::string, std::set<std::string>>& AccessTable();

// PERMISSION_DENIED with reason ROLE_NOT_ALLOWED naming the method and the
// roles that may call it when none of `roles` may.
absl::Status CheckAccess(const std::string& method, const std::set<std::string>& roles);

// Register on every server (runtime::Server and test servers do).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MethodRecorder();

// The metadata entry the recorder writes.
inline constexpr char kMethodMetadata[] = "crm-internal-method";

}  // namespace crm::rpc

#endif  // CRM_LIBS_RPC_ACCESS_H_
