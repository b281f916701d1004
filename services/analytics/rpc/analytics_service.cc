#include "services/analytics/rpc/analytics_service.h"

#include <algorithm>

#include "libs/clock/timestamp.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "services/analytics/projection/backtest.h"
#include "services/analytics/projection/forecast.h"
#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/lead_counts.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/projection/ranking.h"
#include "services/analytics/projection/receivables.h"

namespace crm::analytics {

grpc::Status AnalyticsServiceImpl::GetLeadCountsByChannel(
    grpc::ServerContext* context, const v1::GetLeadCountsByChannelRequest*,
    v1::GetLeadCountsByChannelResponse* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto counts = LeadCountsByChannel(store_, caller->tenant);
  if (!counts.ok()) return rpc::ToGrpcStatus(counts.status());
  int64_t total = 0;
  for (const auto& [channel, count] : *counts) {
    auto* c = response->add_counts();
    c->set_channel_id(channel);
    c->set_lead_count(count);
    total += count;
  }
  response->set_total_leads(total);
  return grpc::Status::OK;
}

namespace {

// INVALID_ARGUMENT unless from <= to.
absl::Status CheckPeriod(const v1::Period& p) {
  if (p.has_from() && p.has_to() &&
      (p.from().seconds() > p.to().seconds() ||
       (p.from().seconds() == p.to().seconds() && p.from().nanos() > p.to().nanos()))) {
    FieldViolations v;
    v.Add("period.to", "must not be before period.from");
    return v.ToStatus();
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status AnalyticsServiceImpl::GetFunnel(grpc::ServerContext* context,
                                             const v1::GetFunnelRequest* request,
                                             v1::Funnel* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (absl::Status s = CheckPeriod(request->period()); !s.ok()) return rpc::ToGrpcStatus(s);
  if (!v1::GetFunnelRequest::GroupBy_IsValid(request->group_by())) {
    FieldViolations v;
    v.Add("group_by", "is unknown");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  auto funnel = BuildFunnel(store_, caller->tenant, request->group_by(),
                            WindowOf(request->period(), clock_->Now()));
  if (!funnel.ok()) return rpc::ToGrpcStatus(funnel.status());
  *response = std::move(*funnel);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetChannelValue(grpc::ServerContext* context,
                                                   const v1::GetChannelValueRequest* request,
                                                   v1::ChannelValue* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (absl::Status s = CheckPeriod(request->period()); !s.ok()) return rpc::ToGrpcStatus(s);
  auto value =
      BuildChannelValue(store_, caller->tenant, WindowOf(request->period(), clock_->Now()));
  if (!value.ok()) return rpc::ToGrpcStatus(value.status());
  *response = std::move(*value);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetOwnership(grpc::ServerContext* context,
                                                const v1::GetOwnershipRequest* request,
                                                v1::Ownership* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (request->customer_id().empty() || request->customer_id().size() > 64) {
    FieldViolations v;
    v.Add("customer_id", "is required, at most 64 bytes");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  const absl::Time as_of = request->has_as_of() ? FromTimestamp(request->as_of()) : clock_->Now();
  auto ownership = BuildOwnership(store_, caller->tenant, request->customer_id(), as_of);
  if (!ownership.ok()) return rpc::ToGrpcStatus(ownership.status());
  *response = std::move(*ownership);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetRepPoolAsOf(grpc::ServerContext* context,
                                                  const v1::GetRepPoolAsOfRequest* request,
                                                  v1::RepPoolAsOf* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (request->rep_id().empty() || request->rep_id().size() > 64) {
    FieldViolations v;
    v.Add("rep_id", "is required, at most 64 bytes");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  const absl::Time as_of = request->has_as_of() ? FromTimestamp(request->as_of()) : clock_->Now();
  auto pool = BuildRepPool(store_, caller->tenant, request->rep_id(), as_of);
  if (!pool.ok()) return rpc::ToGrpcStatus(pool.status());
  *response = std::move(*pool);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetPoolHealth(grpc::ServerContext* context,
                                                 const v1::GetPoolHealthRequest* request,
                                                 v1::PoolHealth* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (absl::Status s = CheckPeriod(request->period()); !s.ok()) return rpc::ToGrpcStatus(s);
  if (!v1::GetPoolHealthRequest::GroupBy_IsValid(request->group_by())) {
    FieldViolations v;
    v.Add("group_by", "is unknown");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  auto health = BuildPoolHealth(store_, caller->tenant, WindowOf(request->period(), clock_->Now()),
                                request->group_by());
  if (!health.ok()) return rpc::ToGrpcStatus(health.status());
  *response = std::move(*health);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetRanking(grpc::ServerContext* context,
                                              const v1::GetRankingRequest* request,
                                              v1::Ranking* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (absl::Status s = CheckPeriod(request->period()); !s.ok()) return rpc::ToGrpcStatus(s);
  if (request->limit() < 0) {
    FieldViolations v;
    v.Add("limit", "must not be negative");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  const int limit = request->limit() == 0 ? 10 : std::min(request->limit(), 1000);
  auto ranking = BuildRanking(store_, caller->tenant, request->metric(), request->group_by(), limit,
                              WindowOf(request->period(), clock_->Now()));
  if (!ranking.ok()) return rpc::ToGrpcStatus(ranking.status());
  *response = std::move(*ranking);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetReceivables(grpc::ServerContext* context,
                                                  const v1::GetReceivablesRequest* request,
                                                  v1::ReceivablesAging* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  const absl::Time as_of = request->has_as_of() ? FromTimestamp(request->as_of()) : clock_->Now();
  auto receivables = BuildReceivables(store_, caller->tenant, request->group_by(), as_of);
  if (!receivables.ok()) return rpc::ToGrpcStatus(receivables.status());
  *response = std::move(*receivables);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetForecast(grpc::ServerContext* context,
                                               const v1::GetForecastRequest* request,
                                               v1::Forecast* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  const absl::Time as_of = request->has_as_of() ? FromTimestamp(request->as_of()) : clock_->Now();
  auto forecast = BuildForecast(store_, caller->tenant, request->group_by(), as_of);
  if (!forecast.ok()) return rpc::ToGrpcStatus(forecast.status());
  *response = std::move(*forecast);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::GetForecastAccuracy(
    grpc::ServerContext* context, const v1::GetForecastAccuracyRequest* request,
    v1::ForecastAccuracy* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (request->months() < 0 || request->months() > 36) {
    FieldViolations v;
    v.Add("months", "must be between 1 and 36 (0: 6)");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  const absl::Time as_of = request->has_as_of() ? FromTimestamp(request->as_of()) : clock_->Now();
  auto accuracy = BuildForecastAccuracy(store_, caller->tenant, request->group_by(),
                                        request->months() == 0 ? 6 : request->months(), as_of);
  if (!accuracy.ok()) return rpc::ToGrpcStatus(accuracy.status());
  *response = std::move(*accuracy);
  return grpc::Status::OK;
}

grpc::Status AnalyticsServiceImpl::BacktestPoolRules(grpc::ServerContext* context,
                                                     const v1::BacktestPoolRulesRequest* request,
                                                     v1::PoolRulesBacktest* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto backtest = analytics::BacktestPoolRules(store_, caller->tenant, *request, clock_->Now());
  if (!backtest.ok()) return rpc::ToGrpcStatus(backtest.status());
  *response = std::move(*backtest);
  return grpc::Status::OK;
}

}  // namespace crm::analytics
