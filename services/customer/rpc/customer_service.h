#ifndef CRM_SERVICES_CUSTOMER_RPC_CUSTOMER_SERVICE_H_
#define CRM_SERVICES_CUSTOMER_RPC_CUSTOMER_SERVICE_H_

// gRPC edge of the customer service: proto <-> domain mapping and the
// visibility rule (another rep's private customer: name and owner only).

#include <set>

#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "libs/readstore/read_store.h"
#include "libs/rpc/rpc.h"
#include "services/customer/app/customer_commands.h"
#include "services/customer/projection/customer_list.h"

namespace crm::customer {

class CustomerServiceImpl final : public crm::customer::v1::CustomerService::Service {
 public:
  CustomerServiceImpl(CustomerCommandHandler* commands, readstore::ReadStore* read_store)
      : commands_(commands), read_store_(read_store), tiers_(read_store) {}

  grpc::Status CreateCustomer(grpc::ServerContext*, const v1::CreateCustomerRequest*,
                              v1::Customer*) override;
  grpc::Status GetCustomer(grpc::ServerContext*, const v1::GetCustomerRequest*,
                           v1::Customer*) override;
  grpc::Status ListCustomerHistory(grpc::ServerContext*, const v1::ListCustomerHistoryRequest*,
                                   v1::ListCustomerHistoryResponse*) override;
  grpc::Status UpdateCustomer(grpc::ServerContext*, const v1::UpdateCustomerRequest*,
                              v1::Customer*) override;
  grpc::Status EraseContact(grpc::ServerContext*, const v1::EraseContactRequest*,
                            v1::Customer*) override;
  grpc::Status ListCustomers(grpc::ServerContext*, const v1::ListCustomersRequest*,
                             v1::ListCustomersResponse*) override;
  grpc::Status ClaimCustomer(grpc::ServerContext*, const v1::ClaimCustomerRequest*,
                             v1::Customer*) override;
  grpc::Status ReserveCustomer(grpc::ServerContext*, const v1::ReserveCustomerRequest*,
                               v1::Customer*) override;
  grpc::Status CancelReservation(grpc::ServerContext*, const v1::CancelReservationRequest*,
                                 v1::Customer*) override;
  grpc::Status ReleaseCustomer(grpc::ServerContext*, const v1::ReleaseCustomerRequest*,
                               v1::Customer*) override;
  grpc::Status RecordTouch(grpc::ServerContext*, const v1::RecordTouchRequest*,
                           v1::Touch*) override;
  grpc::Status ListReminders(grpc::ServerContext*, const v1::ListRemindersRequest*,
                             v1::ListRemindersResponse*) override;
  grpc::Status FileConflict(grpc::ServerContext*, const v1::FileConflictRequest*,
                            v1::Conflict*) override;
  grpc::Status GetConflict(grpc::ServerContext*, const v1::GetConflictRequest*,
                           v1::Conflict*) override;
  grpc::Status ListContributions(grpc::ServerContext*, const v1::ListContributionsRequest*,
                                 v1::ListContributionsResponse*) override;
  grpc::Status RecordEngagement(grpc::ServerContext*, const v1::RecordEngagementRequest*,
                                v1::Customer*) override;
  grpc::Status RecordAnnualSales(grpc::ServerContext*, const v1::RecordAnnualSalesRequest*,
                                 v1::Customer*) override;
  grpc::Status CreateSegment(grpc::ServerContext*, const v1::CreateSegmentRequest*,
                             v1::Segment*) override;
  grpc::Status ListSegments(grpc::ServerContext*, const v1::ListSegmentsRequest*,
                            v1::ListSegmentsResponse*) override;
  grpc::Status ListSegmentCustomers(grpc::ServerContext*, const v1::ListSegmentCustomersRequest*,
                                    v1::ListCustomersResponse*) override;
  grpc::Status GetTenantPolicy(grpc::ServerContext*, const v1::GetTenantPolicyRequest*,
                               v1::TenantPolicy*) override;
  grpc::Status UpdateTenantPolicy(grpc::ServerContext*, const v1::UpdateTenantPolicyRequest*,
                                  v1::TenantPolicy*) override;
  grpc::Status GetRepPool(grpc::ServerContext*, const v1::GetRepPoolRequest*,
                          v1::RepPool*) override;
  grpc::Status SetRepCapacity(grpc::ServerContext*, const v1::SetRepCapacityRequest*,
                              v1::RepPool*) override;

 private:
  // `c` as `viewer` sees it, with its tier and score now.
  absl::Status Render(const std::string& tenant, const Customer& c, const std::string& viewer,
                      v1::Customer* out);
  // Who sees which private customers in full: the owner, admins, and the
  // managers of the owner's team (TeamsProjection).
  struct Access {
    const rpc::Caller* caller;
    std::set<std::string> managed;  // reps whose customers the caller manages
    bool SeesAll(const std::string& owner) const {
      return owner.empty() || owner == caller->user || caller->admin || managed.count(owner) > 0;
    }
    // The Render viewer for a customer of `owner`: "" for everything.
    std::string ViewerOf(const std::string& owner) const {
      return SeesAll(owner) ? "" : caller->user;
    }
  };
  absl::StatusOr<Access> AccessOf(const rpc::Caller& caller);

  CustomerCommandHandler* commands_;
  readstore::ReadStore* read_store_;
  TierCache tiers_;
};

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_RPC_CUSTOMER_SERVICE_H_
