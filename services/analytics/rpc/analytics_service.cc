#include "services/analytics/rpc/analytics_service.h"

#include "libs/rpc/rpc.h"
#include "services/analytics/projection/lead_counts.h"

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

}  // namespace crm::analytics
