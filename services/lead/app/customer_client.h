#ifndef CRM_SERVICES_LEAD_APP_CUSTOMER_CLIENT_H_
#define CRM_SERVICES_LEAD_APP_CUSTOMER_CLIENT_H_

// The lead service's client of the customer service: creates the customer a
// lead converts into, over gRPC, acting for the converting rep.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

class CustomerClient {
 public:
  explicit CustomerClient(std::shared_ptr<grpc::Channel> channel,
                          absl::Duration timeout = absl::Seconds(5));

  // Creates the customer in `user`'s private pool from the lead's company
  // and contact (the contact a key person when the lead named a decision
  // maker). Returns the customer id; the customer service's error as it is.
  absl::StatusOr<std::string> Create(const std::string& tenant, const std::string& user,
                                     const std::string& request_id, const Lead& lead);

 private:
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_APP_CUSTOMER_CLIENT_H_
