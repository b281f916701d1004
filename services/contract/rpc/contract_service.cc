#include "services/contract/rpc/contract_service.h"

#include "absl/strings/str_cat.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

grpc::Status Reply(const absl::StatusOr<Contract>& c, v1::Contract* out) {
  if (!c.ok()) return rpc::ToGrpcStatus(c.status());
  const ev::ContractCreated& k = c->created;
  out->set_name("contracts/" + c->id);
  out->set_contract_id(c->id);
  out->set_customer_id(k.customer_id());
  out->set_owner_id(k.owner_id());
  out->set_opportunity_id(k.opportunity_id());
  *out->mutable_lines() = k.lines();
  out->set_amount(k.amount());
  out->set_state(v1::CONTRACT_STATE_DRAFT);
  *out->mutable_create_time() = k.create_time();
  out->set_created_by(k.created_by());
  out->set_etag(absl::StrCat(c->version));
  return grpc::Status::OK;
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
  cmd.lines.assign(in.lines().begin(), in.lines().end());
  cmd.user = caller->user;
  return Reply(commands_->Create(caller->tenant, req->request_id(), std::move(cmd)), resp);
}

grpc::Status ContractServiceImpl::GetContract(grpc::ServerContext* ctx,
                                              const v1::GetContractRequest* req,
                                              v1::Contract* resp) {
  auto caller = rpc::CallerFrom(*ctx);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  auto id = rpc::ParseName("contracts", req->name());
  if (!id.ok()) return rpc::ToGrpcStatus(id.status());
  return Reply(commands_->Get(caller->tenant, *id), resp);
}

}  // namespace crm::contract
