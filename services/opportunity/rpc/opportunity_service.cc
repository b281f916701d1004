#include "services/opportunity/rpc/opportunity_service.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "services/opportunity/projection/opportunity_list.h"

namespace crm::opportunity {
namespace {

Role RoleOf(const rpc::Caller& caller) {
  if (caller.admin) return Role::kAdmin;
  if (caller.manager) return Role::kManager;
  return Role::kRep;
}

std::vector<LineInput> LinesFrom(const google::protobuf::RepeatedPtrField<v1::LineInput>& in) {
  std::vector<LineInput> out;
  for (const auto& l : in) out.push_back({l.product_id(), l.quantity(), l.discount_bp()});
  return out;
}

// The caller and opportunity id of a mutating call on one opportunity.
absl::StatusOr<std::pair<rpc::Caller, std::string>> Begin(const grpc::ServerContext& ctx,
                                                          const std::string& request_id,
                                                          const std::string& name) {
  ASSIGN_OR_RETURN(rpc::Caller caller, rpc::CallerFrom(ctx));
  FieldViolations v;
  rpc::CheckRequestId(request_id, v);
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(std::string id, rpc::ParseName("opportunities", name));
  return std::make_pair(std::move(caller), std::move(id));
}

void ToProto(const ev::ProductSaved& p, v1::Product* out) {
  out->set_name("products/" + p.product_id());
  out->set_product_id(p.product_id());
  out->set_display_name(p.name());
  out->set_list_price(p.list_price());
  *out->mutable_bundle_items() = p.bundle_items();
  out->set_retired(p.retired());
}

// Settings with the defaults filled in.
ev::OpportunitySettings Effective(const Settings& s) {
  ev::OpportunitySettings out;
  for (const auto& p : s.pipelines) *out.add_pipelines() = p;
  out.set_rep_max_discount_bp(s.rep_max_discount_bp);
  out.set_manager_max_discount_bp(s.manager_max_discount_bp);
  out.set_calibration_min_closed(s.calibration_min_closed);
  return out;
}

}  // namespace

grpc::Status OpportunityServiceImpl::Reply(const std::string& tenant,
                                           const absl::StatusOr<Opportunity>& o,
                                           v1::Opportunity* resp) {
  if (!o.ok()) return rpc::ToGrpcStatus(o.status());
  auto settings = commands_->SettingsFor(tenant);
  if (!settings.ok()) return rpc::ToGrpcStatus(settings.status());
  auto probability = StageProbability(read_store_, tenant, o->created.pipeline_id(), o->stage_id,
                                      o->stage_probability, settings->calibration_min_closed);
  if (!probability.ok()) return rpc::ToGrpcStatus(probability.status());
  ToProto(*o, *probability, resp);
  return grpc::Status::OK;
}

grpc::Status OpportunityServiceImpl::CreateOpportunity(grpc::ServerContext* ctx,
                                                       const v1::CreateOpportunityRequest* req,
                                                       v1::Opportunity* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  FieldViolations v;
  rpc::CheckRequestId(req->request_id(), v);
  if (!req->has_opportunity()) v.Add("opportunity", "is required");
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  const v1::Opportunity& in = req->opportunity();
  Create cmd;
  cmd.customer_id = in.customer_id();
  cmd.name = in.display_name();
  // The creator's team (the first their token names) unless one is given.
  cmd.team_id = !in.team_id().empty() || caller->teams.empty() ? in.team_id() : caller->teams[0];
  cmd.pipeline_id = in.pipeline_id();
  if (in.has_expected_close_time()) cmd.expected_close = FromTimestamp(in.expected_close_time());
  cmd.need = in.need();
  cmd.user = caller->user;
  return Reply(caller->tenant,
               commands_->Create(caller->tenant, req->request_id(), std::move(cmd),
                                 LinesFrom(req->lines()), RoleOf(*caller)),
               resp);
}

grpc::Status OpportunityServiceImpl::GetOpportunity(grpc::ServerContext* ctx,
                                                    const v1::GetOpportunityRequest* req,
                                                    v1::Opportunity* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("opportunities", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  return Reply(caller->tenant, commands_->Get(caller->tenant, *id), resp);
}

grpc::Status OpportunityServiceImpl::ListOpportunities(grpc::ServerContext* ctx,
                                                       const v1::ListOpportunitiesRequest* req,
                                                       v1::ListOpportunitiesResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  const std::string list = absl::StrCat("opportunities:", caller->tenant, ":", req->owner_id(), ":",
                                        req->customer_id(), ":", req->open_only());
  auto after = rpc::DecodePageToken(list, req->page_token());
  if (!after.ok()) return rpc::ToGrpcStatus(after.status());
  auto page = opportunity::ListOpportunities(
      read_store_, caller->tenant, {req->owner_id(), req->customer_id(), req->open_only()}, *size,
      *after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  resp->mutable_opportunities()->Swap(&page->items);
  if (!page->last_id.empty()) resp->set_next_page_token(rpc::EncodePageToken(list, page->last_id));
  return grpc::Status::OK;
}

grpc::Status OpportunityServiceImpl::SetLines(grpc::ServerContext* ctx,
                                              const v1::SetLinesRequest* req,
                                              v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(caller.tenant,
               commands_->SetLines(caller.tenant, req->request_id(), id, LinesFrom(req->lines()),
                                   caller.user, RoleOf(caller)),
               resp);
}

grpc::Status OpportunityServiceImpl::RecordNeed(grpc::ServerContext* ctx,
                                                const v1::RecordNeedRequest* req,
                                                v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(
      caller.tenant,
      commands_->RecordNeed(caller.tenant, req->request_id(), id, req->need(), caller.user), resp);
}

grpc::Status OpportunityServiceImpl::SendQuote(grpc::ServerContext* ctx,
                                               const v1::SendQuoteRequest* req,
                                               v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(caller.tenant,
               commands_->SendQuote(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status OpportunityServiceImpl::UpdateForecast(grpc::ServerContext* ctx,
                                                    const v1::UpdateForecastRequest* req,
                                                    v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  const absl::Time close = req->has_expected_close_time()
                               ? FromTimestamp(req->expected_close_time())
                               : absl::InfinitePast();
  return Reply(caller.tenant,
               commands_->UpdateForecast(caller.tenant, req->request_id(), id, close,
                                         req->forecast_category(), caller.user),
               resp);
}

grpc::Status OpportunityServiceImpl::AdvanceStage(grpc::ServerContext* ctx,
                                                  const v1::AdvanceStageRequest* req,
                                                  v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(
      caller.tenant,
      commands_->Advance(caller.tenant, req->request_id(), id, req->stage_id(), caller.user), resp);
}

grpc::Status OpportunityServiceImpl::RequestCloseLost(grpc::ServerContext* ctx,
                                                      const v1::RequestCloseLostRequest* req,
                                                      v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(caller.tenant,
               commands_->RequestCloseLost(caller.tenant, req->request_id(), id, req->reason(),
                                           req->note(), caller.user),
               resp);
}

grpc::Status OpportunityServiceImpl::DecideCloseLost(grpc::ServerContext* ctx,
                                                     const v1::DecideCloseLostRequest* req,
                                                     v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(
      caller.tenant,
      commands_->DecideCloseLost(caller.tenant, req->request_id(), id, req->approve(),
                                 req->comment(), caller.manager || caller.admin, caller.user),
      resp);
}

grpc::Status OpportunityServiceImpl::CloseWon(grpc::ServerContext* ctx,
                                              const v1::CloseWonRequest* req,
                                              v1::Opportunity* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(caller.tenant,
               commands_->CloseWon(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status OpportunityServiceImpl::GetForecast(grpc::ServerContext* ctx,
                                                 const v1::GetForecastRequest* req,
                                                 v1::Forecast* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  FieldViolations v;
  if (!v1::GetForecastRequest::GroupBy_IsValid(req->group_by())) v.Add("group_by", "is unknown");
  if (!v1::GetForecastRequest::Period_IsValid(req->period())) v.Add("period", "is unknown");
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  auto settings = commands_->SettingsFor(caller->tenant);
  if (!settings.ok()) return rpc::ToGrpcStatus(settings.status());
  auto forecast = BuildForecast(read_store_, caller->tenant, req->group_by(), req->period(),
                                settings->calibration_min_closed);
  if (!forecast.ok()) return rpc::ToGrpcStatus(forecast.status());
  *resp = std::move(*forecast);
  return grpc::Status::OK;
}

grpc::Status OpportunityServiceImpl::SaveProduct(grpc::ServerContext* ctx,
                                                 const v1::SaveProductRequest* req,
                                                 v1::Product* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!caller->admin) {
    return rpc::ToGrpcStatus(
        absl::PermissionDeniedError("only an admin may change the price book"));
  }
  FieldViolations v;
  rpc::CheckRequestId(req->request_id(), v);
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  ev::ProductSaved p;
  p.set_product_id(req->product().product_id());
  p.set_name(req->product().display_name());
  p.set_list_price(req->product().list_price());
  *p.mutable_bundle_items() = req->product().bundle_items();
  p.set_retired(req->product().retired());
  auto saved =
      commands_->SaveProduct(caller->tenant, req->request_id(), std::move(p), caller->user);
  if (!saved.ok()) return rpc::ToGrpcStatus(saved.status());
  ToProto(*saved, resp);
  return grpc::Status::OK;
}

grpc::Status OpportunityServiceImpl::ListProducts(grpc::ServerContext* ctx,
                                                  const v1::ListProductsRequest*,
                                                  v1::ListProductsResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto catalog = commands_->GetCatalog(caller->tenant);
  if (!catalog.ok()) return rpc::ToGrpcStatus(catalog.status());
  for (const auto& [id, p] : catalog->products) ToProto(p, resp->add_products());
  return grpc::Status::OK;
}

grpc::Status OpportunityServiceImpl::GetOpportunitySettings(
    grpc::ServerContext* ctx, const v1::GetOpportunitySettingsRequest*,
    v1::OpportunitySettings* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto settings = commands_->SettingsFor(caller->tenant);
  if (!settings.ok()) return rpc::ToGrpcStatus(settings.status());
  *resp->mutable_settings() = Effective(*settings);
  return grpc::Status::OK;
}

grpc::Status OpportunityServiceImpl::UpdateOpportunitySettings(
    grpc::ServerContext* ctx, const v1::UpdateOpportunitySettingsRequest* req,
    v1::OpportunitySettings* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!caller->admin) {
    return rpc::ToGrpcStatus(absl::PermissionDeniedError("only an admin may change pipelines"));
  }
  FieldViolations v;
  rpc::CheckRequestId(req->request_id(), v);
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  auto updated =
      commands_->UpdateSettings(caller->tenant, req->request_id(), req->settings(), caller->user);
  if (!updated.ok()) return rpc::ToGrpcStatus(updated.status());
  *resp->mutable_settings() = Effective(Settings::From(*updated));
  return grpc::Status::OK;
}

}  // namespace crm::opportunity
