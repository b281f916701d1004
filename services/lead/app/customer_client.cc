#include "services/lead/app/customer_client.h"

#include "libs/rpc/rpc.h"

namespace crm::lead {

CustomerClient::CustomerClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(crm::customer::v1::CustomerService::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<std::string> CustomerClient::Create(const std::string& tenant,
                                                   const std::string& user,
                                                   const std::string& request_id,
                                                   const Lead& lead) {
  crm::customer::v1::CreateCustomerRequest req;
  req.set_request_id(request_id);
  crm::customer::v1::Customer* c = req.mutable_customer();
  const LeadCreated& p = lead.profile;
  c->set_company_name(p.company_name().empty() ? p.contact_name() : p.company_name());
  c->set_legal_entity_id(p.legal_entity_id());
  c->set_industry(p.industry());
  c->set_region(p.region());
  if (!p.contact_name().empty() || !p.email().empty() || !p.phone().empty()) {
    auto* contact = c->add_contacts();
    contact->set_name(p.contact_name());
    contact->set_title(p.contact_title());
    contact->set_email(p.email());
    contact->set_phone(p.phone());
    contact->set_key_person(lead.qualification.decision_maker());
  }
  for (const auto& tag : lead.tags) c->add_tags(tag);

  grpc::ClientContext ctx;
  ctx.AddMetadata(rpc::kTenantMetadata, tenant);
  ctx.AddMetadata(rpc::kUserMetadata, user);
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  crm::customer::v1::Customer created;
  grpc::Status s = stub_->CreateCustomer(&ctx, req, &created);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  return created.customer_id();
}

}  // namespace crm::lead
