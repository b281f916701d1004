#ifndef CRM_SERVICES_ANALYTICS_RPC_ANALYTICS_SERVICE_H_
#define CRM_SERVICES_ANALYTICS_RPC_ANALYTICS_SERVICE_H_

// gRPC edge of the analytics service: queries on its read models.

#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/readstore/read_store.h"

namespace crm::analytics {

class AnalyticsServiceImpl final : public crm::analytics::v1::AnalyticsService::Service {
 public:
  explicit AnalyticsServiceImpl(readstore::ReadStore* store, Clock* clock = SystemClock())
      : store_(store), clock_(clock) {}

  grpc::Status GetLeadCountsByChannel(grpc::ServerContext* context,
                                      const v1::GetLeadCountsByChannelRequest* request,
                                      v1::GetLeadCountsByChannelResponse* response) override;
  grpc::Status GetFunnel(grpc::ServerContext* context, const v1::GetFunnelRequest* request,
                         v1::Funnel* response) override;
  grpc::Status GetChannelValue(grpc::ServerContext* context,
                               const v1::GetChannelValueRequest* request,
                               v1::ChannelValue* response) override;
  grpc::Status GetOwnership(grpc::ServerContext* context, const v1::GetOwnershipRequest* request,
                            v1::Ownership* response) override;
  grpc::Status GetRepPoolAsOf(grpc::ServerContext* context,
                              const v1::GetRepPoolAsOfRequest* request,
                              v1::RepPoolAsOf* response) override;
  grpc::Status GetPoolHealth(grpc::ServerContext* context, const v1::GetPoolHealthRequest* request,
                             v1::PoolHealth* response) override;
  grpc::Status GetRanking(grpc::ServerContext* context, const v1::GetRankingRequest* request,
                          v1::Ranking* response) override;
  grpc::Status GetReceivables(grpc::ServerContext* context,
                              const v1::GetReceivablesRequest* request,
                              v1::ReceivablesAging* response) override;
  grpc::Status GetForecast(grpc::ServerContext* context, const v1::GetForecastRequest* request,
                           v1::Forecast* response) override;
  grpc::Status GetForecastAccuracy(grpc::ServerContext* context,
                                   const v1::GetForecastAccuracyRequest* request,
                                   v1::ForecastAccuracy* response) override;
  grpc::Status BacktestPoolRules(grpc::ServerContext* context,
                                 const v1::BacktestPoolRulesRequest* request,
                                 v1::PoolRulesBacktest* response) override;

 private:
  readstore::ReadStore* store_;
  Clock* clock_;
};

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_RPC_ANALYTICS_SERVICE_H_
