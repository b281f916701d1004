#ifndef CRM_SERVICES_OPPORTUNITY_RPC_OPPORTUNITY_SERVICE_H_
#define CRM_SERVICES_OPPORTUNITY_RPC_OPPORTUNITY_SERVICE_H_

// gRPC edge of the opportunity service: proto <-> domain mapping only.

#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "libs/readstore/read_store.h"
#include "services/opportunity/app/opportunity_commands.h"

namespace crm::opportunity {


class OpportunityServiceImpl final : public v1::OpportunityService::Service {
 public:
  OpportunityServiceImpl(OpportunityCommandHandler* commands, readstore::ReadStore* read_store)
      : commands_(commands), read_store_(read_store) {}

  grpc::Status CreateOpportunity(grpc::ServerContext* ctx, const v1::CreateOpportunityRequest* req,
                                 v1::Opportunity* resp) override;
  grpc::Status GetOpportunity(grpc::ServerContext* ctx, const v1::GetOpportunityRequest* req,
                              v1::Opportunity* resp) override;
  grpc::Status ListOpportunities(grpc::ServerContext* ctx, const v1::ListOpportunitiesRequest* req,
                                 v1::ListOpportunitiesResponse* resp) override;
  grpc::Status SetLines(grpc::ServerContext* ctx, const v1::SetLinesRequest* req,
                        v1::Opportunity* resp) override;
  grpc::Status RecordNeed(grpc::ServerContext* ctx, const v1::RecordNeedRequest* req,
                          v1::Opportunity* resp) override;
  grpc::Status SendQuote(grpc::ServerContext* ctx, const v1::SendQuoteRequest* req,
                         v1::Opportunity* resp) override;
  grpc::Status UpdateForecast(grpc::ServerContext* ctx, const v1::UpdateForecastRequest* req,
                              v1::Opportunity* resp) override;
  grpc::Status AdvanceStage(grpc::ServerContext* ctx, const v1::AdvanceStageRequest* req,
                            v1::Opportunity* resp) override;
  grpc::Status RequestCloseLost(grpc::ServerContext* ctx, const v1::RequestCloseLostRequest* req,
                                v1::Opportunity* resp) override;
  grpc::Status DecideCloseLost(grpc::ServerContext* ctx, const v1::DecideCloseLostRequest* req,
                               v1::Opportunity* resp) override;
  grpc::Status CloseWon(grpc::ServerContext* ctx, const v1::CloseWonRequest* req,
                        v1::Opportunity* resp) override;
  grpc::Status GetForecast(grpc::ServerContext* ctx, const v1::GetForecastRequest* req,
                           v1::Forecast* resp) override;
  grpc::Status SaveProduct(grpc::ServerContext* ctx, const v1::SaveProductRequest* req,
                           v1::Product* resp) override;
  grpc::Status ListProducts(grpc::ServerContext* ctx, const v1::ListProductsRequest* req,
                            v1::ListProductsResponse* resp) override;
  grpc::Status GetOpportunitySettings(grpc::ServerContext* ctx,
                                      const v1::GetOpportunitySettingsRequest* req,
                                      v1::OpportunitySettings* resp) override;
  grpc::Status UpdateOpportunitySettings(grpc::ServerContext* ctx,
                                         const v1::UpdateOpportunitySettingsRequest* req,
                                         v1::OpportunitySettings* resp) override;

 private:
  // The opportunity as the API shows it, probability calibrated.
  grpc::Status Reply(const std::string& tenant, const absl::StatusOr<Opportunity>& o,
                     v1::Opportunity* resp);

  OpportunityCommandHandler* commands_;
  readstore::ReadStore* read_store_;
};

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_RPC_OPPORTUNITY_SERVICE_H_
