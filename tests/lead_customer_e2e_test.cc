// End to end: the lead and customer services as separate processes with the
// local broker. The lead service learns customers from the customer topic and
// routes a lead of an existing customer to its owner; ConvertLead creates the
// customer over gRPC exactly once, also when retried across a kill -9, and
// opens an opportunity with it when asked.

#include <signal.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/process.h"
#include "tests/platform.h"

namespace crm {
namespace {

namespace cv1 = crm::customer::v1;
namespace lv1 = crm::lead::v1;

lv1::Lead CreateLead(lv1::LeadService::Stub& leads, const std::string& rid,
                     const std::string& company, const std::string& email,
                     const std::string& legal_id = "") {
  lv1::CreateLeadRequest req;
  req.set_request_id(rid);
  req.mutable_lead()->set_channel_id("web");
  req.mutable_lead()->set_company_name(company);
  req.mutable_lead()->set_contact_name("Ann Lee");
  req.mutable_lead()->set_email(email);
  req.mutable_lead()->set_legal_entity_id(legal_id);
  lv1::Lead out;
  grpc::ClientContext ctx;
  test::As(ctx, "web-form");
  grpc::Status s = leads.CreateLead(&ctx, req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

// Creates leads of one company until one is routed (the customer topic is
// eventually consistent); the routed lead, or the last one.
lv1::Lead CreateUntilRouted(lv1::LeadService::Stub& leads, const std::string& tag,
                            const std::string& company, const std::string& email,
                            const std::string& legal_id = "") {
  lv1::Lead lead;
  test::Eventually(
      [&, attempt = 0]() mutable {
        lead = CreateLead(leads, absl::StrCat(tag, "-", attempt++), company, email, legal_id);
        return lead.state() == lv1::LEAD_STATE_ROUTED;
      },
      absl::Seconds(60));
  return lead;
}

lv1::Lead Convert(lv1::LeadService::Stub& leads, const lv1::Lead& lead, const std::string& rid,
                  grpc::Status* status) {
  lv1::ConvertLeadRequest req;
  req.set_request_id(rid);
  req.set_name(lead.name());
  lv1::Lead out;
  // The first call after a restart may still meet the killed connection.
  for (int attempt = 0; attempt < 20; ++attempt) {
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    *status = leads.ConvertLead(&ctx, req, &out);
    if (status->error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  return out;
}

TEST(LeadCustomerE2eTest, RoutingAndConversionAcrossServicesSurviveKillNine) {
  test::Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  p.Start("opportunity", CRM_OPPORTUNITY_BIN);
  const std::vector<std::string> lead_flags = {
      "--customer-endpoint=" + p.Address("customer"),
      "--opportunity-endpoint=" + p.Address("opportunity")};
  p.Start("lead", CRM_LEAD_BIN, lead_flags);
  auto leads = lv1::LeadService::NewStub(p.Channel("lead"));
  auto customers = cv1::CustomerService::NewStub(p.Channel("customer"));
  ASSERT_TRUE(test::CreateChannel(*leads, "web").ok());

  // rep-9's customer, known to the lead service only through the topic.
  cv1::Customer globex;
  {
    cv1::CreateCustomerRequest req;
    req.set_request_id("globex");
    req.mutable_customer()->set_company_name("Globex Corporation");
    req.mutable_customer()->set_legal_entity_id("GX-1");
    grpc::ClientContext ctx;
    test::As(ctx, "rep-9");
    ASSERT_TRUE(customers->CreateCustomer(&ctx, req, &globex).ok());
  }
  const lv1::Lead routed = CreateUntilRouted(*leads, "gx", "Globex Europe", "", "gx-1");
  ASSERT_EQ(routed.state(), lv1::LEAD_STATE_ROUTED);
  EXPECT_EQ(routed.customer_id(), globex.customer_id());
  EXPECT_EQ(routed.owner_id(), "rep-9");

  // A lead claimed and converted: the customer service creates the customer.
  lv1::Lead lead = CreateLead(*leads, "umbrella", "Umbrella GmbH", "alice@umbrella.example");
  ASSERT_EQ(lead.state(), lv1::LEAD_STATE_QUEUED);
  {
    lv1::ClaimLeadRequest req;
    req.set_request_id("claim");
    req.set_name(lead.name());
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    ASSERT_TRUE(leads->ClaimLead(&ctx, req, &lead).ok());
  }
  grpc::Status s;
  const lv1::Lead converted = Convert(*leads, lead, "convert-1", &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(converted.state(), lv1::LEAD_STATE_CONVERTED);

  // kill -9 the lead service; a retried conversion creates nothing more.
  p.process("lead").Stop(SIGKILL);
  p.Start("lead", CRM_LEAD_BIN, lead_flags);
  const lv1::Lead again = Convert(*leads, lead, "convert-2", &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.customer_id(), converted.customer_id());
  cv1::ListCustomersRequest list;
  list.set_page_size(100);
  cv1::ListCustomersResponse all;
  ASSERT_TRUE(test::Eventually(
      [&] {
        grpc::ClientContext ctx;
        test::As(ctx, "rep-1");
        all.Clear();
        return customers->ListCustomers(&ctx, list, &all).ok() && all.customers_size() == 2;
      },
      absl::Seconds(10)));
  int umbrellas = 0;
  for (const auto& c : all.customers()) {
    if (c.company_name() != "Umbrella GmbH") continue;
    ++umbrellas;
    EXPECT_EQ(c.customer_id(), converted.customer_id());
    EXPECT_EQ(c.owner_id(), "rep-1");
  }
  EXPECT_EQ(umbrellas, 1);

  // Converting with an opportunity: the opportunity service (which learns
  // the new customer from the topic) opens it for the converting rep, once.
  lv1::Lead deal = CreateLead(*leads, "initech", "Initech", "peter@initech.example");
  {
    lv1::ClaimLeadRequest req;
    req.set_request_id("claim-initech");
    req.set_name(deal.name());
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    ASSERT_TRUE(leads->ClaimLead(&ctx, req, &deal).ok());
  }
  auto convert_with_deal = [&](const std::string& rid) {
    lv1::ConvertLeadRequest req;
    req.set_request_id(rid);
    req.set_name(deal.name());
    req.set_create_opportunity(true);
    req.set_opportunity_name("Initech rollout");
    lv1::Lead out;
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status st = leads->ConvertLead(&ctx, req, &out);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return out;
  };
  const lv1::Lead with_deal = convert_with_deal("convert-initech");
  ASSERT_FALSE(with_deal.opportunity_id().empty());
  EXPECT_EQ(convert_with_deal("convert-initech-again").opportunity_id(),
            with_deal.opportunity_id());
  {
    auto opps = crm::opportunity::v1::OpportunityService::NewStub(p.Channel("opportunity"));
    crm::opportunity::v1::GetOpportunityRequest req;
    req.set_name("opportunities/" + with_deal.opportunity_id());
    crm::opportunity::v1::Opportunity o;
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    ASSERT_TRUE(opps->GetOpportunity(&ctx, req, &o).ok());
    EXPECT_EQ(o.customer_id(), with_deal.customer_id());
    EXPECT_EQ(o.owner_id(), "rep-1");
    EXPECT_EQ(o.display_name(), "Initech rollout");
  }

  // The converted customer reaches the lead service through the topic too:
  // the next lead from the same buyer goes to rep-1.
  const lv1::Lead repeat = CreateUntilRouted(*leads, "again", "Umbrella", "Alice@Umbrella.example");
  EXPECT_EQ(repeat.state(), lv1::LEAD_STATE_ROUTED);
  EXPECT_EQ(repeat.customer_id(), converted.customer_id());
  EXPECT_EQ(repeat.owner_id(), "rep-1");
}

}  // namespace
}  // namespace crm
