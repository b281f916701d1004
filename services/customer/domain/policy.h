#ifndef CRM_SERVICES_CUSTOMER_DOMAIN_POLICY_H_
#define CRM_SERVICES_CUSTOMER_DOMAIN_POLICY_H_

// A tenant's rules as settings (whole days, field lists) and back, and the
// decision to change them. The tenant's rules live on the stream "policy";
// a tenant that never changed them runs on the shipped defaults (Policy{}).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/customer/domain/customer.h"

namespace crm::customer {

inline constexpr char kPolicyStream[] = "policy";

ev::PolicySettings ToSettings(const Policy& policy);
Policy FromSettings(const ev::PolicySettings& settings);

struct UpdatePolicy {
  ev::PolicySettings settings;     // new values for the paths
  std::vector<std::string> paths;  // field mask over PolicySettings
  std::string user;
  absl::Time now;
};
// INVALID_ARGUMENT names every bad field (`policy.<field>`) and path.
absl::StatusOr<ev::TenantPolicySet> Decide(const Policy& current, const UpdatePolicy& cmd);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_DOMAIN_POLICY_H_
