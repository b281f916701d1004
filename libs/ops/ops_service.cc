#include "libs/ops/ops_service.h"

#include "absl/strings/str_cat.h"
#include "libs/rpc/rpc.h"
#include "libs/runtime/log.h"
#include "libs/status/status.h"

namespace crm::ops {

grpc::Status OpsServiceImpl::ListParkedEvents(grpc::ServerContext* ctx,
                                              const crm::ops::v1::ListParkedEventsRequest* req,
                                              crm::ops::v1::ListParkedEventsResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  // A tenant's admin sees the tenant's parked events; a platform operator
  // sees every tenant's, and the ones whose tenant could not be decoded.
  const bool operator_role = caller->roles.count("operator") > 0;
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  bool known = req->projection().empty();
  for (readstore::ProjectionRunner* r : runners_) {
    resp->add_projections(r->name());
    if (!req->projection().empty() && r->name() != req->projection()) continue;
    known = true;
    // A page of the caller's own, however many of other tenants' come first.
    auto parked = r->Parked(static_cast<size_t>(*size), [&](const readstore::ParkedEvent& p) {
      return operator_role || p.event().tenant() == caller->tenant;
    });
    if (!parked.ok()) return rpc::ToGrpcStatus(parked.status());
    for (auto& p : *parked) *resp->add_events() = std::move(p);
  }
  if (!known) {
    FieldViolations v;
    v.Add("projection", "is not a projection of this service");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  return grpc::Status::OK;
}

grpc::Status OpsServiceImpl::GetProjectionProgress(
    grpc::ServerContext* ctx, const crm::ops::v1::GetProjectionProgressRequest*,
    crm::ops::v1::ProjectionProgress* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  for (const bus::TopicConsumer* c : consumers_) {
    const bus::ConsumerProgress p = c->progress();
    crm::ops::v1::ConsumerProgress* out = resp->add_consumers();
    out->set_projection(p.projection);
    out->set_topic(p.topic);
    out->set_caught_up(p.caught_up);
    out->set_consumed(p.consumed);
    out->set_catch_up_events(p.catch_up_events);
    out->set_catch_up_left(p.catch_up_left);
    out->set_events_per_second(p.events_per_second);
    out->set_eta_seconds(p.eta_seconds);
  }
  return grpc::Status::OK;
}

absl::StatusOr<int64_t> OpsServiceImpl::ReplayParkedAtStart() {
  int64_t remaining = 0;
  for (readstore::ProjectionRunner* r : runners_) {
    ASSIGN_OR_RETURN(auto before, r->Parked(1));
    if (before.empty()) continue;
    ASSIGN_OR_RETURN(const int64_t left, r->ReplayParked());
    LogInfo("parked events replayed",
            {{"projection", r->name()}, {"still_parked", absl::StrCat(left)}});
    remaining += left;
  }
  return remaining;
}

}  // namespace crm::ops
