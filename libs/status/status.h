#ifndef CRM_LIBS_STATUS_STATUS_H_
#define CRM_LIBS_STATUS_STATUS_H_

// absl::Status helpers shared by every layer: propagation macros and the
// structured details (google.rpc.BadRequest, google.rpc.ErrorInfo) that the
// rpc layer turns into gRPC error details. No gRPC types here.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"

#define CRM_CONCAT_INNER_(a, b) a##b
#define CRM_CONCAT_(a, b) CRM_CONCAT_INNER_(a, b)

// Returns `expr`'s status from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status crm_status_ = (expr);       \
    if (!crm_status_.ok()) return crm_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, StatusOrExpr)`: assigns the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CRM_CONCAT_(crm_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

namespace crm {

// Payload type URLs under which details ride on an absl::Status.
inline constexpr absl::string_view kBadRequestUrl = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr absl::string_view kErrorInfoUrl = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kPreconditionFailureUrl =
    "type.googleapis.com/google.rpc.PreconditionFailure";
inline constexpr absl::string_view kErrorDomain = "crm";

// Collects every invalid field of a request, so one error names them all.
//
//   FieldViolations v;
//   if (email_bad) v.Add("lead.email", "must be a valid email address");
//   RETURN_IF_ERROR(v.ToStatus());
class FieldViolations {
 public:
  void Add(std::string field, std::string description);
  bool empty() const { return violations_.empty(); }
  // OK when empty, else INVALID_ARGUMENT listing every violation, with a
  // google.rpc.BadRequest payload.
  absl::Status ToStatus() const;

 private:
  std::vector<std::pair<std::string, std::string>> violations_;
};

// An error with a google.rpc.ErrorInfo payload carrying `reason`
// (UPPER_SNAKE, e.g. CUSTOMER_POOL_FULL) in domain "crm".
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message);

// FAILED_PRECONDITION with `reason` (ErrorInfo) and a
// google.rpc.PreconditionFailure listing each unmet condition as
// {type, subject, description}; the message lists the descriptions.
struct Unmet {
  std::string type;
  std::string subject;
  std::string description;
};
absl::Status PreconditionFailed(absl::string_view reason, absl::string_view message,
                                const std::vector<Unmet>& unmet);
google::rpc::PreconditionFailure PreconditionFailureOf(const absl::Status& status);

// The ErrorInfo reason attached to `status`, or "" when it has none.
std::string ErrorReason(const absl::Status& status);

// The BadRequest attached to `status`, if any.
google::rpc::BadRequest BadRequestOf(const absl::Status& status);

}  // namespace crm

#endif  // CRM_LIBS_STATUS_STATUS_H_
