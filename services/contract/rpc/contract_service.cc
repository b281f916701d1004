#include "services/contract/rpc/contract_service.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "services/contract/projection/contract_list.h"

namespace crm::contract {
namespace {

grpc::Status Reply(const absl::StatusOr<Contract>& c, v1::Contract* out) {
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  ToProto(*c, out);
  return grpc::Status::OK;
}

TermsInput TermsFrom(const v1::Contract& in) {
  TermsInput t;
  t.lines.assign(in.lines().begin(), in.lines().end());
  t.template_id = in.template_id();
  t.document_ref = in.document_ref();
  t.payment_terms_days = in.payment_terms_days();
  t.duration_months = in.duration_months();
  return t;
}

// The caller and contract id of a mutating call on one contract.
absl::StatusOr<std::pair<rpc::Caller, std::string>> Begin(const grpc::ServerContext& ctx,
                                                          const std::string& request_id,
                                                          const std::string& name) {
  ASSIGN_OR_RETURN(rpc::Caller caller, rpc::CallerFrom(ctx));
  FieldViolations v;
  rpc::CheckRequestId(request_id, v);
  RETURN_IF_ERROR(v.ToStatus());
  ASSIGN_OR_RETURN(std::string id, rpc::ParseName("contracts", name));
  return std::make_pair(std::move(caller), std::move(id));
}

absl::StatusOr<rpc::Caller> Admin(const grpc::ServerContext& ctx, const std::string& request_id) {
  ASSIGN_OR_RETURN(rpc::Caller caller, rpc::CallerFrom(ctx));
  if (!caller.admin) return absl::PermissionDeniedError("only an admin may change contract setup");
  FieldViolations v;
  rpc::CheckRequestId(request_id, v);
  RETURN_IF_ERROR(v.ToStatus());
  return caller;
}

}  // namespace

grpc::Status ContractServiceImpl::CreateContract(grpc::ServerContext* ctx,
                                                 const v1::CreateContractRequest* req,
                                                 v1::Contract* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  FieldViolations v;
  rpc::CheckRequestId(req->request_id(), v);
  if (!v.empty()) return rpc::ToGrpcStatus(v.ToStatus());
  const v1::Contract& in = req->contract();
  Create cmd;
  cmd.customer_id = in.customer_id();
  cmd.owner_id = in.owner_id();
  cmd.opportunity_id = in.opportunity_id();
  cmd.renewal_of = in.renewal_of();
  cmd.user = caller->user;
  return Reply(commands_->Create(caller->tenant, req->request_id(), std::move(cmd), TermsFrom(in)),
               resp);
}

grpc::Status ContractServiceImpl::GetContract(grpc::ServerContext* ctx,
                                              const v1::GetContractRequest* req,
                                              v1::Contract* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("contracts", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  if (grpc::Status s = Reply(commands_->Get(caller->tenant, *id), resp); !s.ok()) return s;
  return rpc::ToGrpcStatus(PredictPayments(read_store_, caller->tenant, resp));
}

grpc::Status ContractServiceImpl::ListContracts(grpc::ServerContext* ctx,
                                                const v1::ListContractsRequest* req,
                                                v1::ListContractsResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto size = rpc::PageSize(req->page_size());
  if (!size.ok()) return rpc::ToGrpcStatus(size.status());
  const std::string list =
      absl::StrCat("contracts:", caller->tenant, ":", req->owner_id(), ":", req->customer_id());
  auto after = rpc::DecodePageToken(list, req->page_token());
  if (!after.ok()) return rpc::ToGrpcStatus(after.status());
  auto page = contract::ListContracts(read_store_, caller->tenant,
                                      {req->owner_id(), req->customer_id()}, *size, *after);
  if (!page.ok()) return rpc::ToGrpcStatus(page.status());
  resp->mutable_contracts()->Swap(&page->items);
  if (!page->last_id.empty()) resp->set_next_page_token(rpc::EncodePageToken(list, page->last_id));
  return grpc::Status::OK;
}

grpc::Status ContractServiceImpl::ChangeContract(grpc::ServerContext* ctx,
                                                 const v1::ChangeContractRequest* req,
                                                 v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->contract().name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Change(caller.tenant, req->request_id(), id, TermsFrom(req->contract()),
                                 caller.user),
               resp);
}

grpc::Status ContractServiceImpl::SubmitContract(grpc::ServerContext* ctx,
                                                 const v1::SubmitContractRequest* req,
                                                 v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Submit(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status ContractServiceImpl::ApproveContract(grpc::ServerContext* ctx,
                                                  const v1::DecideContractRequest* req,
                                                  v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Approve(caller.tenant, req->request_id(), id, caller.user, caller.roles,
                                  req->comment()),
               resp);
}

grpc::Status ContractServiceImpl::RejectContract(grpc::ServerContext* ctx,
                                                 const v1::DecideContractRequest* req,
                                                 v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Reject(caller.tenant, req->request_id(), id, caller.user, caller.roles,
                                 req->comment()),
               resp);
}

grpc::Status ContractServiceImpl::SendContract(grpc::ServerContext* ctx,
                                               const v1::ContractActionRequest* req,
                                               v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Send(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status ContractServiceImpl::ConfirmContract(grpc::ServerContext* ctx,
                                                  const v1::ContractActionRequest* req,
                                                  v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(commands_->Confirm(caller.tenant, req->request_id(), id, caller.user), resp);
}

grpc::Status ContractServiceImpl::EndContract(grpc::ServerContext* ctx,
                                              const v1::EndContractRequest* req,
                                              v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  return Reply(
      commands_->End(caller.tenant, req->request_id(), id, req->reason(), req->note(), caller.user),
      resp);
}

grpc::Status ContractServiceImpl::SetPaymentPlan(grpc::ServerContext* ctx,
                                                 const v1::SetPaymentPlanRequest* req,
                                                 v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  std::vector<PlannedInstallment> plan;
  for (const auto& i : req->installments())
    plan.push_back({i.amount(), FromTimestamp(i.due_time())});
  return Reply(commands_->SetPaymentPlan(caller.tenant, req->request_id(), id, plan, caller.user),
               resp);
}

grpc::Status ContractServiceImpl::RecordPayment(grpc::ServerContext* ctx,
                                                const v1::RecordPaymentRequest* req,
                                                v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  const absl::Time received =
      req->has_receive_time() ? FromTimestamp(req->receive_time()) : absl::InfinitePast();
  return Reply(commands_->RecordPayment(caller.tenant, req->request_id(), id, req->amount(),
                                        received, caller.user),
               resp);
}

grpc::Status ContractServiceImpl::GetReceivables(grpc::ServerContext* ctx,
                                                 const v1::GetReceivablesRequest* req,
                                                 v1::Receivables* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  if (!v1::GetReceivablesRequest::GroupBy_IsValid(req->group_by())) {
    FieldViolations v;
    v.Add("group_by", "is unknown");
    return rpc::ToGrpcStatus(v.ToStatus());
  }
  auto r =
      BuildReceivables(read_store_, caller->tenant, req->group_by(), commands_->clock()->Now());
  if (!r.ok()) return rpc::ToGrpcStatus(r.status());
  *resp = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status ContractServiceImpl::AddMilestone(grpc::ServerContext* ctx,
                                               const v1::AddMilestoneRequest* req,
                                               v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  NewMilestone m;
  m.title = req->milestone().title();
  m.owner = req->milestone().owner_id();
  if (req->milestone().has_due_time()) m.due = FromTimestamp(req->milestone().due_time());
  std::set<std::string> roles = caller.roles;
  if (caller.admin) roles.insert("admin");
  return Reply(commands_->AddMilestone(caller.tenant, req->request_id(), id, m, caller.user, roles),
               resp);
}

grpc::Status ContractServiceImpl::CompleteMilestone(grpc::ServerContext* ctx,
                                                    const v1::CompleteMilestoneRequest* req,
                                                    v1::Contract* resp) {
  auto begun = Begin(*ctx, req->request_id(), req->name());
  if (!begun.ok()) return rpc::ToGrpcStatus(begun.status());
  const auto& [caller, id] = *begun;
  std::set<std::string> roles = caller.roles;
  if (caller.admin) roles.insert("admin");
  return Reply(commands_->CompleteMilestone(caller.tenant, req->request_id(), id,
                                            req->milestone_id(), req->note(), req->follow_up(),
                                            req->follow_up_after_days(), caller.user, roles),
               resp);
}

grpc::Status ContractServiceImpl::ListContractReminders(grpc::ServerContext* ctx,
                                                        const v1::ListContractRemindersRequest*,
                                                        v1::ListContractRemindersResponse* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto reminders =
      ListReminders(read_store_, caller->tenant, caller->user, commands_->clock()->Now());
  if (!reminders.ok()) return rpc::ToGrpcStatus(reminders.status());
  for (auto& r : *reminders) *resp->add_reminders() = std::move(r);
  return grpc::Status::OK;
}

grpc::Status ContractServiceImpl::SaveTemplate(grpc::ServerContext* ctx,
                                               const v1::SaveTemplateRequest* req,
                                               crm::contract::events::v1::ContractTemplate* resp) {
  auto caller = Admin(*ctx, req->request_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto saved =
      commands_->SaveTemplate(caller->tenant, req->request_id(), req->template_(), caller->user);
  if (!saved.ok()) return rpc::ToGrpcStatus(saved.status());
  *resp = std::move(*saved);
  return grpc::Status::OK;
}

grpc::Status ContractServiceImpl::GetApprovalRules(grpc::ServerContext* ctx,
                                                   const v1::GetApprovalRulesRequest*,
                                                   crm::contract::events::v1::ApprovalRules* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto setup = commands_->GetSetup(caller->tenant);
  if (!setup.ok()) return rpc::ToGrpcStatus(setup.status());
  const Rules r = Rules::From(setup->rules);
  *resp = setup->rules;
  resp->set_team_lead_above_amount(r.team_lead_above_amount);
  resp->set_team_lead_above_discount_bp(r.team_lead_above_discount_bp);
  resp->set_director_above_amount(r.director_above_amount);
  resp->set_director_above_discount_bp(r.director_above_discount_bp);
  return grpc::Status::OK;
}

grpc::Status ContractServiceImpl::UpdateApprovalRules(
    grpc::ServerContext* ctx, const v1::UpdateApprovalRulesRequest* req,
    crm::contract::events::v1::ApprovalRules* resp) {
  auto caller = Admin(*ctx, req->request_id());
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto rules =
      commands_->UpdateRules(caller->tenant, req->request_id(), req->rules(), caller->user);
  if (!rules.ok()) return rpc::ToGrpcStatus(rules.status());
  *resp = std::move(*rules);
  return grpc::Status::OK;
}

}  // namespace crm::contract
