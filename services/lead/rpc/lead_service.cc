#include "services/lead/rpc/lead_service.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "libs/clock/timestamp.h"
#include "libs/csv/csv.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "services/lead/projection/lead_list.h"

namespace crm::lead {
namespace {

constexpr int kMaxImportRows = 100000;
constexpr size_t kMaxImportBytes = 64 << 20;

absl::Status NeedsUser(const rpc::Caller& caller) {
  if (caller.user.empty()) {
    return absl::UnauthenticatedError("the call names no user");
  }
  return absl::OkStatus();
}

// The caller and lead id of a call on one lead, after checking the request
// id (when given) and the resource name.
absl::StatusOr<std::pair<rpc::Caller, std::string>> Begin(const grpc::ServerContext& ctx,
                                                          const std::string* request_id,
                                                          const std::string& name) {
  ASSIGN_OR_RETURN(rpc::Caller caller, rpc::CallerFrom(ctx));
  RETURN_IF_ERROR(NeedsUser(caller));
  FieldViolations v;
  if (request_id) rpc::CheckRequestId(*request_id, v);
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(std::string id, rpc::ParseName("leads", name));
  return std::make_pair(std::move(caller), std::move(id));
}

grpc::Status Reply(const absl::StatusOr<Lead>& lead, v1::Lead* resp) {
  if (!lead.ok()) return rpc::ToGrpcStatus(lead.status());
  ToProto(*lead, resp);
  return grpc::Status::OK;
}

lead::CreateLead CommandFrom(const v1::Lead& in, const std::string& user) {
  lead::CreateLead cmd;
  cmd.channel_id = in.channel_id();
  cmd.company_name = in.company_name();
  cmd.contact_name = in.contact_name();
  cmd.contact_title = in.contact_title();
  cmd.email = in.email();
  cmd.phone = in.phone();
  cmd.legal_entity_id = in.legal_entity_id();
  cmd.industry = in.industry();
  cmd.region = in.region();
  cmd.qualification = in.qualification();
  cmd.user = user;
  return cmd;
}

// Settings with every default filled in, as the tenant's rules apply them.
ev::LeadSettings Effective(const LeadPolicy& p) {
  ev::LeadSettings s;
  s.set_assign_mode(p.assign_mode);
  s.set_strategy(p.strategy);
  for (const auto& t : p.teams) *s.add_teams() = t;
  s.set_rep_capacity(p.rep_capacity);
  s.set_work_timeout_seconds(absl::ToInt64Seconds(p.work_timeout));
  s.set_grade_a_min(p.grade_a_min);
  s.set_grade_b_min(p.grade_b_min);
  s.set_grade_c_min(p.grade_c_min);
  s.set_engagement_cap(p.engagement_cap);
  s.set_interest_min_views(p.interest_min_views);
  s.set_interest_min_seconds(p.interest_min_seconds);
  return s;
}

}  // namespace

grpc::Status LeadServiceImpl::CreateLead(grpc::ServerContext* ctx, const v1::CreateLeadRequest* req,
                                         v1::Lead* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  FieldViolations v;
  rpc::CheckRequestId(req->request_id(), v);
  if (!req->has_lead()) v.Add("lead", "is required");
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  return Reply(
      commands_->Create(caller->tenant, req->request_id(), CommandFrom(req->lead(), caller->user)),
      resp);
}

grpc::Status LeadServiceImpl::GetLead(grpc::ServerContext* ctx, const v1::GetLeadRequest* req,
                                      v1::Lead* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("leads", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  return Reply(commands_->Get(caller->tenant, *id), resp);
}

grpc::Status LeadServiceImpl::ListLeads(grpc::ServerContext* ctx, const v1::ListLeadsRequest* req,
                                        v1::ListLeadsResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  LeadFilter filter;
  FieldViolations v;
  if (!v1::LeadState_IsValid(req->state())) v.Add("state", "is not a lead state");
  filter.state = req->state();
  filter.owner = req->owner_id();
  if (req->order_by() == "priority") {
    filter.by_priority = true;
  } else if (!req->order_by().empty()) {
    v.Add("order_by", "must be empty (creation order) or \"priority\"");
  }
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  // The token is bound to the tenant, filter and order it came from.
  const std::string list = absl::StrCat("leads:", caller->tenant, ":", filter.state, ":",
                                        filter.owner, ":", req->order_by());
  auto after = rpc::DecodePageToken(list, req->page_token());
  if (!after.ok()) return rpc::ToGrpcStatus(after.status());
  auto page = lead::ListLeads(read_store_, caller->tenant, filter, *size, *after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  for (auto& l : page->leads) *resp->add_leads() = std::move(l);
  if (!page->last_key.empty())
    resp->set_next_page_token(rpc::EncodePageToken(list, page->last_key));
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::QualifyLead(grpc::ServerContext* ctx,
                                          const v1::QualifyLeadRequest* req, v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(
      commands_->Qualify(caller.tenant, req->request_id(), id, caller.user, req->qualification()),
      resp);
}

grpc::Status LeadServiceImpl::RecordEngagement(grpc::ServerContext* ctx,
                                               const v1::RecordEngagementRequest* req,
                                               v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  lead::RecordEngagement cmd;
  cmd.kind = req->kind();
  cmd.content_id = req->content_id();
  cmd.topics.assign(req->topics().begin(), req->topics().end());
  cmd.seconds = req->seconds();
  return Reply(commands_->Engage(caller.tenant, req->request_id(), id, std::move(cmd)), resp);
}

grpc::Status LeadServiceImpl::ClaimLead(grpc::ServerContext* ctx, const v1::ClaimLeadRequest* req,
                                        v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Claim(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status LeadServiceImpl::ReturnLead(grpc::ServerContext* ctx, const v1::ReturnLeadRequest* req,
                                         v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Return(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status LeadServiceImpl::RecordFollowUp(grpc::ServerContext* ctx,
                                             const v1::RecordFollowUpRequest* req, v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  lead::FollowUp cmd;
  cmd.note = req->note();
  cmd.next_step = req->next_step();
  if (req->has_next_step_time()) cmd.next_step_time = FromTimestamp(req->next_step_time());
  cmd.user = caller.user;
  return Reply(commands_->FollowUp(caller.tenant, req->request_id(), id, std::move(cmd)), resp);
}

grpc::Status LeadServiceImpl::EraseLeadContact(grpc::ServerContext* ctx,
                                               const v1::EraseLeadContactRequest* req,
                                               v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->EraseContact(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status LeadServiceImpl::DisqualifyLead(grpc::ServerContext* ctx,
                                             const v1::DisqualifyLeadRequest* req, v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Disqualify(caller.tenant, req->request_id(), id, req->reason(),
                                     req->note(), caller.user),
               resp);
}

grpc::Status LeadServiceImpl::ConvertLead(grpc::ServerContext* ctx,
                                          const v1::ConvertLeadRequest* req, v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  std::optional<std::string> opportunity;
  if (req->create_opportunity()) opportunity = req->opportunity_name();
  return Reply(commands_->Convert(caller.tenant, req->request_id(), id, caller.user, opportunity),
               resp);
}

grpc::Status LeadServiceImpl::MergeLeads(grpc::ServerContext* ctx, const v1::MergeLeadsRequest* req,
                                         v1::Lead* resp) {
  auto begun = Begin(*ctx, &req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  auto merged = rpc::ParseName("leads", req->merged_lead(), "merged_lead");
  if (!merged.ok()) return rpc::ToGrpcStatus(merged.status());
  return Reply(commands_->Merge(caller.tenant, req->request_id(), id, *merged, caller.user), resp);
}

grpc::Status LeadServiceImpl::ImportLeads(grpc::ServerContext* ctx,
                                          grpc::ServerReader<v1::ImportLeadsRequest>* reader,
                                          v1::ImportLeadsResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  std::string import_id;
  std::vector<std::string> columns;
  std::map<std::string, int> column_of;
  CsvReader csv;
  size_t bytes = 0;
  absl::Status failed;

  // One data row: a lead with request id `<import>:<row>`.
  auto import_row = [&](const std::vector<std::string>& cells) {
    const int row = resp->rows() + 1;
    resp->set_rows(row);
    auto cell = [&](const char* name) -> std::string {
      auto it = column_of.find(name);
      return it == column_of.end() || it->second >= static_cast<int>(cells.size())
                 ? ""
                 : cells[it->second];
    };
    v1::Lead in;
    in.set_channel_id(cell("channel_id"));
    in.set_company_name(cell("company_name"));
    in.set_contact_name(cell("contact_name"));
    in.set_contact_title(cell("contact_title"));
    in.set_email(cell("email"));
    in.set_phone(cell("phone"));
    in.set_legal_entity_id(cell("legal_entity_id"));
    in.set_industry(cell("industry"));
    in.set_region(cell("region"));
    lead::CreateLead cmd = CommandFrom(in, caller->user);
    cmd.import_id = import_id;
    cmd.import_row = row;
    auto lead = commands_->Create(caller->tenant, absl::StrCat(import_id, ":", row), cmd);
    if (lead.ok()) {
      resp->set_imported(resp->imported() + 1);
      if (lead->state == LeadState::kRouted) resp->set_routed(resp->routed() + 1);
      return;
    }
    if (lead.status().code() != absl::StatusCode::kInvalidArgument) {
      failed = lead.status();  // not the row's fault: stop, the import can be resent
      return;
    }
    v1::ImportRowError* e = resp->add_errors();
    e->set_row(row);
    const google::rpc::BadRequest br = BadRequestOf(lead.status());
    for (const auto& fv : br.field_violations()) {
      std::string field = fv.field();
      if (absl::StartsWith(field, "lead.")) field = field.substr(5);
      e->add_errors(
          absl::StrCat(field, ": ", absl::StrReplaceAll(fv.description(), {{"lead.", ""}})));
    }
    if (br.field_violations().empty()) e->add_errors(std::string(lead.status().message()));
  };
  auto drain = [&] {
    std::vector<std::string> cells;
    while (failed.ok() && csv.Next(&cells)) {
      if (columns.empty()) {
        columns = cells;
        for (size_t i = 0; i < columns.size(); ++i) {
          column_of[absl::AsciiStrToLower(absl::StripAsciiWhitespace(columns[i]))] =
              static_cast<int>(i);
        }
        if (!column_of.count("channel_id")) {
          FieldViolations v;
          v.Add("chunk", "the header row must name a channel_id column");
          failed = v.ToStatus();
        }
        continue;
      }
      if (resp->rows() >= kMaxImportRows) {
        failed = absl::InvalidArgumentError(
            absl::StrCat("chunk: an import holds at most ", kMaxImportRows, " rows"));
        return;
      }
      import_row(cells);
    }
  };

  v1::ImportLeadsRequest req;
  while (failed.ok() && reader->Read(&req)) {
    if (import_id.empty()) {
      FieldViolations v;
      if (req.import_id().empty() || req.import_id().size() > 100) {
        v.Add("import_id", "is required in the first message, at most 100 characters");
      }
      if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
      import_id = "import:" + req.import_id();
    }
    bytes += req.chunk().size();
    if (bytes > kMaxImportBytes) {
      return rpc::ToGrpcStatus(absl::InvalidArgumentError("chunk: an import is at most 64 MiB"));
    }
    csv.Feed(req.chunk());
    drain();
  }
  if (failed.ok()) {
    failed = csv.Finish();
    if (failed.ok()) drain();
  }
  return rpc::ToGrpcStatus(failed);
}

grpc::Status LeadServiceImpl::SaveChannel(grpc::ServerContext* ctx, const std::string& request_id,
                                          const v1::Channel& in, bool create, v1::Channel* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!caller->admin) {
    return rpc::ToGrpcStatus(absl::PermissionDeniedError("only an admin may change channels"));
  }
  FieldViolations v;
  rpc::CheckRequestId(request_id, v);
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  ev::ChannelSaved c;
  c.set_channel_id(in.channel_id());
  c.set_name(in.display_name());
  c.set_kind(in.kind());
  c.set_monthly_cost(in.monthly_cost());
  c.set_assign_mode(in.assign_mode());
  c.set_team_id(in.team_id());
  c.set_by(caller->user);
  auto saved = commands_->SaveChannel(caller->tenant, request_id, std::move(c), create);
  if (!saved.ok()) return rpc::ToGrpcStatus(saved.status());
  ToProto(*saved, resp);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::CreateChannel(grpc::ServerContext* ctx,
                                            const v1::CreateChannelRequest* req,
                                            v1::Channel* resp) {
  return SaveChannel(ctx, req->request_id(), req->channel(), true, resp);
}

grpc::Status LeadServiceImpl::UpdateChannel(grpc::ServerContext* ctx,
                                            const v1::UpdateChannelRequest* req,
                                            v1::Channel* resp) {
  return SaveChannel(ctx, req->request_id(), req->channel(), false, resp);
}

grpc::Status LeadServiceImpl::ListChannels(grpc::ServerContext* ctx, const v1::ListChannelsRequest*,
                                           v1::ListChannelsResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto channels = lead::ListChannels(read_store_, caller->tenant);
  if (!channels.ok()) return rpc::ToGrpcStatus(channels.status());
  for (auto& c : *channels) *resp->add_channels() = std::move(c);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::GetLeadSettings(grpc::ServerContext* ctx,
                                              const v1::GetLeadSettingsRequest*,
                                              v1::LeadSettings* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  *resp->mutable_settings() = Effective(*policy);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::UpdateLeadSettings(grpc::ServerContext* ctx,
                                                 const v1::UpdateLeadSettingsRequest* req,
                                                 v1::LeadSettings* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!caller->admin) {
    return rpc::ToGrpcStatus(absl::PermissionDeniedError("only an admin may change lead rules"));
  }
  FieldViolations v;
  rpc::CheckRequestId(req->request_id(), v);
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  std::vector<std::string> mask(req->update_mask().paths().begin(),
                                req->update_mask().paths().end());
  auto updated = commands_->UpdateSettings(caller->tenant, req->request_id(), req->settings(), mask,
                                           caller->user);
  if (!updated.ok()) return rpc::ToGrpcStatus(updated.status());
  *resp->mutable_settings() = Effective(LeadPolicy::From(*updated));
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::GetRepWorkload(grpc::ServerContext* ctx,
                                             const v1::GetRepWorkloadRequest* req,
                                             v1::RepWorkload* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  const std::string rep = req->rep_id().empty() ? caller->user : req->rep_id();
  if (rep.empty()) {
    FieldViolations v;
    v.Add("rep_id", "is required when the call names no user");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  auto load = commands_->GetRepLoad(caller->tenant, rep);
  if (!load.ok()) return rpc::ToGrpcStatus(load.status());
  auto policy = commands_->PolicyFor(caller->tenant);
  if (!policy.ok()) return rpc::ToGrpcStatus(policy.status());
  resp->set_rep_id(rep);
  resp->set_open_leads(static_cast<int32_t>(load->open.size()));
  resp->set_capacity(policy->rep_capacity);
  for (const auto& id : load->open) resp->add_lead_ids(id);
  return grpc::Status::OK;
}

}  // namespace crm::lead
