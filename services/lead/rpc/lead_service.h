#ifndef CRM_SERVICES_LEAD_RPC_LEAD_SERVICE_H_
#define CRM_SERVICES_LEAD_RPC_LEAD_SERVICE_H_

// gRPC edge of the lead service: proto <-> domain mapping only.

#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "libs/readstore/read_store.h"
#include "services/lead/app/lead_commands.h"

namespace crm::lead {

class LeadServiceImpl final : public v1::LeadService::Service {
 public:
  LeadServiceImpl(LeadCommandHandler* commands, readstore::ReadStore* read_store)
      : commands_(commands), read_store_(read_store) {}

  grpc::Status CreateLead(grpc::ServerContext* ctx, const v1::CreateLeadRequest* req,
                          v1::Lead* resp) override;
  grpc::Status GetLead(grpc::ServerContext* ctx, const v1::GetLeadRequest* req,
                       v1::Lead* resp) override;
  grpc::Status ListLeads(grpc::ServerContext* ctx, const v1::ListLeadsRequest* req,
                         v1::ListLeadsResponse* resp) override;
  grpc::Status QualifyLead(grpc::ServerContext* ctx, const v1::QualifyLeadRequest* req,
                           v1::Lead* resp) override;
  grpc::Status RecordEngagement(grpc::ServerContext* ctx, const v1::RecordEngagementRequest* req,
                                v1::Lead* resp) override;
  grpc::Status ClaimLead(grpc::ServerContext* ctx, const v1::ClaimLeadRequest* req,
                         v1::Lead* resp) override;
  grpc::Status ReturnLead(grpc::ServerContext* ctx, const v1::ReturnLeadRequest* req,
                          v1::Lead* resp) override;
  grpc::Status RecordFollowUp(grpc::ServerContext* ctx, const v1::RecordFollowUpRequest* req,
                              v1::Lead* resp) override;
  grpc::Status EraseLeadContact(grpc::ServerContext* ctx, const v1::EraseLeadContactRequest* req,
                                v1::Lead* resp) override;
  grpc::Status DisqualifyLead(grpc::ServerContext* ctx, const v1::DisqualifyLeadRequest* req,
                              v1::Lead* resp) override;
  grpc::Status ConvertLead(grpc::ServerContext* ctx, const v1::ConvertLeadRequest* req,
                           v1::Lead* resp) override;
  grpc::Status MergeLeads(grpc::ServerContext* ctx, const v1::MergeLeadsRequest* req,
                          v1::Lead* resp) override;
  grpc::Status ImportLeads(grpc::ServerContext* ctx,
                           grpc::ServerReader<v1::ImportLeadsRequest>* reader,
                           v1::ImportLeadsResponse* resp) override;
  grpc::Status CreateChannel(grpc::ServerContext* ctx, const v1::CreateChannelRequest* req,
                             v1::Channel* resp) override;
  grpc::Status UpdateChannel(grpc::ServerContext* ctx, const v1::UpdateChannelRequest* req,
                             v1::Channel* resp) override;
  grpc::Status ListChannels(grpc::ServerContext* ctx, const v1::ListChannelsRequest* req,
                            v1::ListChannelsResponse* resp) override;
  grpc::Status GetLeadSettings(grpc::ServerContext* ctx, const v1::GetLeadSettingsRequest* req,
                               v1::LeadSettings* resp) override;
  grpc::Status UpdateLeadSettings(grpc::ServerContext* ctx,
                                  const v1::UpdateLeadSettingsRequest* req,
                                  v1::LeadSettings* resp) override;
  grpc::Status GetRepWorkload(grpc::ServerContext* ctx, const v1::GetRepWorkloadRequest* req,
                              v1::RepWorkload* resp) override;

 private:
  grpc::Status SaveChannel(grpc::ServerContext* ctx, const std::string& request_id,
                           const v1::Channel& channel, bool create, v1::Channel* resp);

  LeadCommandHandler* commands_;
  readstore::ReadStore* read_store_;
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_RPC_LEAD_SERVICE_H_
