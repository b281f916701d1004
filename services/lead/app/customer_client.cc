#include "services/lead/app/customer_client.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "libs/rpc/rpc.h"

namespace crm::lead {

CustomerClient::CustomerClient(std::shared_ptr<grpc::Channel> channel, rpc::ServiceTokens* tokens,
                               absl::Duration timeout)
    : stub_(crm::customer::v1::CustomerService::NewStub(std::move(channel))),
      tokens_(tokens),
      timeout_(timeout) {}

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
    // The same person as the lead's contact: erasing one erases both.
    contact->set_person_id(lead.id);
  }
  for (const auto& tag : lead.tags) c->add_tags(tag);

  grpc::ClientContext ctx;
  tokens_->Authorize(ctx, tenant, user);
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
  crm::customer::v1::Customer created;
  grpc::Status s = stub_->CreateCustomer(&ctx, req, &created);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  return created.customer_id();
}

OpportunityClient::OpportunityClient(std::shared_ptr<grpc::Channel> channel,
                                     rpc::ServiceTokens* tokens, absl::Duration timeout,
                                     absl::Duration wait_for_customer)
    : stub_(crm::opportunity::v1::OpportunityService::NewStub(std::move(channel))),
      tokens_(tokens),
      timeout_(timeout),
      wait_for_customer_(wait_for_customer) {}

absl::StatusOr<std::string> OpportunityClient::Create(const std::string& tenant,
                                                      const std::string& user,
                                                      const std::string& request_id,
                                                      const std::string& customer_id,
                                                      const std::string& name) {
  crm::opportunity::v1::CreateOpportunityRequest req;
  req.set_request_id(request_id);
  req.mutable_opportunity()->set_customer_id(customer_id);
  req.mutable_opportunity()->set_display_name(name);
  // The opportunity service learns of a new customer from the customer
  // topic: until then it answers NOT_FOUND. Retry soon, then less often.
  const absl::Time give_up = absl::Now() + wait_for_customer_;
  absl::Duration backoff = absl::Milliseconds(5);
  while (true) {
    grpc::ClientContext ctx;
    tokens_->Authorize(ctx, tenant, user);
    ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout_));
    crm::opportunity::v1::Opportunity created;
    grpc::Status s = stub_->CreateOpportunity(&ctx, req, &created);
    if (s.ok()) return created.opportunity_id();
    if (s.error_code() != grpc::StatusCode::NOT_FOUND || absl::Now() > give_up) {
      return rpc::FromGrpcStatus(s);
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(100));
  }
}

}  // namespace crm::lead
