#ifndef CRM_SERVICES_LEAD_APP_CUSTOMER_CLIENT_H_
#define CRM_SERVICES_LEAD_APP_CUSTOMER_CLIENT_H_

// The lead service's clients of the customer and opportunity services:
// create the customer a lead converts into, and the opportunity opened with
// it, over gRPC, acting for the converting rep.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "libs/rpc/rpc.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

class CustomerClient {
 public:
  // Calls carry `tokens`' service identity acting for the user.
  CustomerClient(std::shared_ptr<grpc::Channel> channel, rpc::ServiceTokens* tokens,
                 absl::Duration timeout = absl::Seconds(5));

  // Creates the customer in `user`'s private pool from the lead's company
  // and contact (the contact a key person when the lead named a decision
  // maker). Returns the customer id; the customer service's error as it is.
  absl::StatusOr<std::string> Create(const std::string& tenant, const std::string& user,
                                     const std::string& request_id, const Lead& lead);

 private:
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> stub_;
  rpc::ServiceTokens* tokens_;
  absl::Duration timeout_;
};

class OpportunityClient {
 public:
  OpportunityClient(std::shared_ptr<grpc::Channel> channel, rpc::ServiceTokens* tokens,
                    absl::Duration timeout = absl::Seconds(5),
                    absl::Duration wait_for_customer = absl::Seconds(10));

  // Opens an opportunity for `customer_id` owned by `user`; returns its id.
  // The opportunity service learns a new customer from the customer topic,
  // so NOT_FOUND is retried for up to `wait_for_customer`.
  absl::StatusOr<std::string> Create(const std::string& tenant, const std::string& user,
                                     const std::string& request_id, const std::string& customer_id,
                                     const std::string& name);

 private:
  std::unique_ptr<crm::opportunity::v1::OpportunityService::Stub> stub_;
  rpc::ServiceTokens* tokens_;
  absl::Duration timeout_;
  absl::Duration wait_for_customer_;
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_APP_CUSTOMER_CLIENT_H_
