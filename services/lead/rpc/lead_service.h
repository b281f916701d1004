#ifndef CRM_SERVICES_LEAD_RPC_LEAD_SERVICE_H_
#define CRM_SERVICES_LEAD_RPC_LEAD_SERVICE_H_

// gRPC edge of the lead service: proto <-> domain mapping only.

#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "libs/readstore/read_store.h"
#include "services/lead/app/lead_commands.h"

namespace crm::lead {

class LeadServiceImpl final : public crm::lead::v1::LeadService::Service {
 public:
  LeadServiceImpl(LeadCommandHandler* commands, readstore::ReadStore* read_store)
      : commands_(commands), read_store_(read_store) {}

  grpc::Status CreateLead(grpc::ServerContext* context, const v1::CreateLeadRequest* request,
                          v1::Lead* response) override;
  grpc::Status GetLead(grpc::ServerContext* context, const v1::GetLeadRequest* request,
                       v1::Lead* response) override;
  grpc::Status ListLeads(grpc::ServerContext* context, const v1::ListLeadsRequest* request,
                         v1::ListLeadsResponse* response) override;

 private:
  LeadCommandHandler* commands_;
  readstore::ReadStore* read_store_;
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_RPC_LEAD_SERVICE_H_
