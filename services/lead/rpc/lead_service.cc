#include "services/lead/rpc/lead_service.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "services/lead/projection/lead_list.h"

namespace crm::lead {
namespace {

constexpr char kLeadsPrefix[] = "leads/";

void ToProto(const LeadCreated& c, int64_t version, v1::Lead* out) {
  out->set_name(absl::StrCat(kLeadsPrefix, c.lead_id()));
  out->set_lead_id(c.lead_id());
  out->set_channel_id(c.channel_id());
  out->set_company_name(c.company_name());
  out->set_contact_name(c.contact_name());
  out->set_email(c.email());
  out->set_phone(c.phone());
  out->set_state(v1::LEAD_STATE_NEW);
  *out->mutable_create_time() = c.create_time();
  out->set_created_by(c.created_by());
  if (version > 0) out->set_etag(absl::StrCat(version));
}

}  // namespace

grpc::Status LeadServiceImpl::CreateLead(grpc::ServerContext* context,
                                         const v1::CreateLeadRequest* request, v1::Lead* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  FieldViolations v;
  rpc::CheckRequestId(request->request_id(), v);
  if (!request->has_lead()) v.Add("lead", "is required");
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());

  const v1::Lead& in = request->lead();
  lead::CreateLead cmd;
  cmd.channel_id = in.channel_id();
  cmd.company_name = in.company_name();
  cmd.contact_name = in.contact_name();
  cmd.email = in.email();
  cmd.phone = in.phone();
  cmd.user = caller->user;
  auto lead = commands_->Create(caller->tenant, request->request_id(), std::move(cmd));
  if (!lead.ok()) return rpc::ToGrpcStatus(lead.status());
  ToProto(lead->profile, lead->version, response);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::GetLead(grpc::ServerContext* context,
                                      const v1::GetLeadRequest* request, v1::Lead* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("leads", request->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  auto lead = commands_->Get(caller->tenant, *id);
  if (!lead.ok()) return rpc::ToGrpcStatus(lead.status());
  ToProto(lead->profile, lead->version, response);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::ListLeads(grpc::ServerContext* context,
                                        const v1::ListLeadsRequest* request,
                                        v1::ListLeadsResponse* response) {
  auto caller = rpc::CallerFrom(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto size = rpc::PageSize(request->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  std::string after;
  if (!request->page_token().empty()) {
    auto decoded =
        rpc::DecodePageToken(absl::StrCat("leads:", caller->tenant), request->page_token());
    if (!decoded.ok()) return rpc::ToGrpcStatus(decoded.status());
    after = *decoded;
  }
  auto page = lead::ListLeads(read_store_, caller->tenant, *size, after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  for (const auto& c : page->leads) ToProto(c, 0, response->add_leads());
  if (!page->last_id.empty()) {
    response->set_next_page_token(
        rpc::EncodePageToken(absl::StrCat("leads:", caller->tenant), page->last_id));
  }
  return grpc::Status::OK;
}

}  // namespace crm::lead
