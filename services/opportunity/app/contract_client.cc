#include "services/opportunity/app/contract_client.h"

#include "libs/rpc/rpc.h"

namespace crm::opportunity {

ContractClient::ContractClient(std::shared_ptr<grpc::Channel> channel, rpc::ServiceTokens* tokens,
                               absl::Duration timeout)
    : stub_(crm::contract::v1::ContractService::NewStub(std::move(channel))),
      tokens_(tokens),
      timeout_(timeout) {}

absl::StatusOr<std::string> ContractClient::Create(const std::string& tenant,
                                                   const std::string& user,
                                                   const std::string& request_id,
                                                   const Opportunity& o) {
  crm::contract::v1::CreateContractRequest req;
  req.set_request_id(request_id);
  auto* k = req.mutable_contract();
  k->set_customer_id(o.created.customer_id());
  k->set_owner_id(o.owner());
  k->set_opportunity_id(o.id);
  for (const auto& l : o.lines) {
    auto* line = k->add_lines();
    line->set_product_id(l.product_id());
    line->set_product_name(l.product_name());
    line->set_quantity(l.quantity());
    line->set_list_price(l.list_price());
    line->set_discount_bp(l.discount_bp());
  }
  grpc::ClientContext ctx;
  tokens_->Authorize(ctx, tenant, user);
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  crm::contract::v1::Contract created;
  grpc::Status s = stub_->CreateContract(&ctx, req, &created);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  return created.contract_id();
}

}  // namespace crm::opportunity
