// Erasure by crypto-shredding, end to end on the five services: a lead's
// contact converted into a customer's contact, and a lead's contact that never
// converted, are erased by an admin. Afterwards no answer, no live read
// model, no read model rebuilt from the log or from the customer topic
// replayed from offset zero, and no byte of any file the platform wrote
// (event stores, key stores, read models, logs) holds their name, title,
// email or phone; duplicates are no longer matched on them; and the analytics
// figures are exactly what they were.

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

namespace lv1 = crm::lead::v1;
namespace cv1 = crm::customer::v1;
namespace av1 = crm::analytics::v1;

struct Person {
  std::string name, title, email, phone;
  std::vector<std::string> secrets() const { return {name, title, email, phone.substr(1)}; }
};
const Person kZelda{"Zelda Quintessa-Marlowe", "Chief Procurement Wizard",
                    "zelda.quintessa@erasure.example", "+4930555123456"};
const Person kXavier{"Xavier Wrenfield-Oduya", "Head of Vendor Alchemy",
                     "xavier.wrenfield@erasure.example", "+4930555987654"};

lv1::Lead CreateLead(lv1::LeadService::Stub& leads, const std::string& rid,
                     const std::string& company, const Person& who) {
  lv1::CreateLeadRequest req;
  req.set_request_id(rid);
  req.mutable_lead()->set_channel_id("web");
  req.mutable_lead()->set_company_name(company);
  req.mutable_lead()->set_contact_name(who.name);
  req.mutable_lead()->set_contact_title(who.title);
  req.mutable_lead()->set_email(who.email);
  req.mutable_lead()->set_phone(who.phone);
  lv1::Lead out;
  grpc::ClientContext ctx;
  As(ctx, "web-form");
  grpc::Status s = leads.CreateLead(&ctx, req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

void EraseLeadContact(lv1::LeadService::Stub& leads, const std::string& name,
                      const std::string& rid) {
  lv1::EraseLeadContactRequest req;
  req.set_request_id(rid);
  req.set_name(name);
  lv1::Lead out;
  grpc::ClientContext ctx;
  As(ctx, "boss", "acme", "admin");
  grpc::Status s = leads.EraseLeadContact(&ctx, req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(out.contact_erased());
  EXPECT_TRUE(out.contact_name().empty() && out.email().empty() && out.phone().empty());
}

lv1::Lead GetLead(lv1::LeadService::Stub& leads, const std::string& name) {
  lv1::GetLeadRequest req;
  req.set_name(name);
  lv1::Lead out;
  grpc::ClientContext ctx;
  As(ctx, "boss", "acme", "admin");
  EXPECT_TRUE(leads.GetLead(&ctx, req, &out).ok());
  return out;
}

cv1::Customer GetCustomer(cv1::CustomerService::Stub& customers, const std::string& id) {
  cv1::GetCustomerRequest req;
  req.set_name("customers/" + id);
  cv1::Customer out;
  grpc::ClientContext ctx;
  As(ctx, "boss", "acme", "admin");
  EXPECT_TRUE(customers.GetCustomer(&ctx, req, &out).ok());
  return out;
}

// Every figure of the funnel by channel, as text.
std::string Figures(av1::AnalyticsService::Stub& analytics) {
  av1::GetFunnelRequest req;
  req.set_group_by(av1::GetFunnelRequest::GROUP_BY_CHANNEL);
  av1::Funnel funnel;
  grpc::ClientContext ctx;
  As(ctx, "boss", "acme", "admin");
  if (!analytics.GetFunnel(&ctx, req, &funnel).ok()) return "";
  return funnel.ShortDebugString();
}

void ExpectNoneOf(const std::string& haystack, const Person& who, const std::string& where) {
  for (const std::string& secret : who.secrets()) {
    EXPECT_EQ(haystack.find(secret), std::string::npos) << secret << " is in " << where;
  }
}

TEST(ErasureE2eTest, AnErasedPersonIsGoneEverywhereWhileTheFiguresStay) {
  Platform p;
  auto channels = p.StartAll(
      {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});
  auto leads = lv1::LeadService::NewStub(channels["lead"]);
  auto customers = cv1::CustomerService::NewStub(channels["customer"]);
  auto analytics = av1::AnalyticsService::NewStub(channels["analytics"]);
  ASSERT_TRUE(CreateChannel(*leads, "web").ok());

  // Zelda's lead is claimed and converted: her contact moves to the customer.
  lv1::Lead zelda = CreateLead(*leads, "zelda", "Quintessa Logistics", kZelda);
  {
    lv1::ClaimLeadRequest req;
    req.set_request_id("claim-zelda");
    req.set_name(zelda.name());
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(leads->ClaimLead(&ctx, req, &zelda).ok());
  }
  {
    lv1::ConvertLeadRequest req;
    req.set_request_id("convert-zelda");
    req.set_name(zelda.name());
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = leads->ConvertLead(&ctx, req, &zelda);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string customer_id = zelda.customer_id();
  cv1::Customer customer = GetCustomer(*customers, customer_id);
  ASSERT_EQ(customer.contacts_size(), 1);
  EXPECT_EQ(customer.contacts(0).name(), kZelda.name);
  EXPECT_EQ(customer.contacts(0).person_id(), zelda.lead_id());
  const std::string contact_id = customer.contacts(0).contact_id();
  // Xavier's lead stays in the queue.
  const lv1::Lead xavier = CreateLead(*leads, "xavier", "Wrenfield Mills", kXavier);
  EXPECT_EQ(GetLead(*leads, xavier.name()).email(), kXavier.email);

  // Leads with Zelda's data made to probe matching; erased at the end.
  std::vector<std::string> probes;
  auto probe = [&](const std::string& tag) {
    const lv1::Lead lead = CreateLead(*leads, absl::StrCat(tag, "-", probes.size()),
                                      absl::StrCat(tag, " ", probes.size()), kZelda);
    probes.push_back(lead.name());
    return lead;
  };
  // Before erasure a new lead with Zelda's email is routed to her customer
  // (the lead service matches on the tags the customer topic carries).
  ASSERT_TRUE(Eventually(
      [&] {
        const lv1::Lead lead = probe("before");
        return lead.state() == lv1::LEAD_STATE_ROUTED && lead.customer_id() == customer_id;
      },
      absl::Seconds(60)));
  // Analytics has seen every lead and the conversion.
  std::string before;
  ASSERT_TRUE(Eventually(
      [&] {
        before = Figures(*analytics);
        return before.find(absl::StrCat("leads: ", 2 + probes.size())) != std::string::npos &&
               before.find("customers: 1") != std::string::npos;
      },
      absl::Seconds(60)))
      << before;

  // Only admins erase; a retry changes nothing.
  for (const char* rid : {"erase-zelda", "erase-zelda"}) {
    cv1::EraseContactRequest req;
    req.set_request_id(rid);
    req.set_name("customers/" + customer_id);
    req.set_contact_id(contact_id);
    grpc::ClientContext ctx;
    As(ctx, "boss", "acme", "admin");
    ASSERT_TRUE(customers->EraseContact(&ctx, req, &customer).ok());
  }
  {
    cv1::EraseContactRequest req;
    req.set_request_id("erase-by-rep");
    req.set_name("customers/" + customer_id);
    req.set_contact_id(contact_id);
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    EXPECT_EQ(customers->EraseContact(&ctx, req, &customer).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  EraseLeadContact(*leads, xavier.name(), "erase-xavier");
  EraseLeadContact(*leads, xavier.name(), "erase-xavier-again");

  // The customer keeps the contact as an erased entry: counts hold.
  customer = GetCustomer(*customers, customer_id);
  ASSERT_EQ(customer.contacts_size(), 1);
  EXPECT_TRUE(customer.contacts(0).sealed().erased());
  EXPECT_EQ(customer.contacts(0).contact_id(), contact_id);
  ExpectNoneOf(customer.SerializeAsString(), kZelda, "GetCustomer");
  {
    cv1::ListCustomerHistoryRequest req;
    req.set_name("customers/" + customer_id);
    cv1::ListCustomerHistoryResponse out;
    grpc::ClientContext ctx;
    As(ctx, "boss", "acme", "admin");
    ASSERT_TRUE(customers->ListCustomerHistory(&ctx, req, &out).ok());
    ExpectNoneOf(out.SerializeAsString(), kZelda, "ListCustomerHistory");
    EXPECT_NE(out.DebugString().find("erased"), std::string::npos);
  }
  // The customer topic tells the lead service: the lead's copy goes too.
  ASSERT_TRUE(Eventually([&] { return GetLead(*leads, zelda.name()).contact_erased(); },
                         absl::Seconds(30)));
  const lv1::Lead zelda_now = GetLead(*leads, zelda.name());
  EXPECT_EQ(zelda_now.state(), lv1::LEAD_STATE_CONVERTED);
  EXPECT_EQ(zelda_now.company_name(), "Quintessa Logistics");
  ExpectNoneOf(zelda_now.SerializeAsString(), kZelda, "GetLead");
  // Erasure changes no figure.
  EXPECT_EQ(Figures(*analytics), before);

  // A new lead with her email no longer matches anything of hers.
  ASSERT_TRUE(Eventually([&] { return probe("after").state() == lv1::LEAD_STATE_QUEUED; },
                         absl::Seconds(30)));

  // Read models rebuilt from the log and the customer topic from offset
  // zero know nothing of either person.
  for (const auto& [name, bin] : std::vector<std::pair<std::string, const char*>>{
           {"customer", CRM_CUSTOMER_BIN}, {"lead", CRM_LEAD_BIN}}) {
    p.process(name).Stop(SIGTERM);
    std::filesystem::remove_all(p.dir() + "/" + name + "/read");
    std::vector<std::string> flags;
    if (name == "lead") {
      flags = {"--customer-endpoint=" + p.Address("customer"),
               "--opportunity-endpoint=" + p.Address("opportunity")};
    }
    p.Start(name, bin, flags);
  }
  {
    lv1::ListLeadsRequest req;
    req.set_page_size(1000);
    lv1::ListLeadsResponse out;
    ASSERT_TRUE(Eventually(
        [&] {
          grpc::ClientContext ctx;
          As(ctx, "boss", "acme", "admin");
          out.Clear();
          return leads->ListLeads(&ctx, req, &out).ok() &&
                 out.leads_size() == static_cast<int>(2 + probes.size());
        },
        absl::Seconds(30)));
    ExpectNoneOf(out.SerializeAsString(), kXavier, "ListLeads");
  }
  ASSERT_TRUE(Eventually(
      [&] {
        cv1::ListCustomersRequest req;
        cv1::ListCustomersResponse out;
        grpc::ClientContext ctx;
        As(ctx, "boss", "acme", "admin");
        return customers->ListCustomers(&ctx, req, &out).ok() && out.customers_size() == 1 &&
               out.customers(0).contacts(0).sealed().erased();
      },
      absl::Seconds(30)));
  ASSERT_TRUE(Eventually([&] { return probe("rebuilt").state() == lv1::LEAD_STATE_QUEUED; },
                         absl::Seconds(30)));

  // The probes are erased too (live read models, this time), then no file
  // the platform wrote holds either person: not the event stores, the key
  // stores, the read models or the logs.
  for (const std::string& name : probes) EraseLeadContact(*leads, name, "erase-" + name);
  ASSERT_TRUE(Eventually(
      [&] {
        lv1::ListLeadsRequest req;
        req.set_page_size(1000);
        lv1::ListLeadsResponse out;
        grpc::ClientContext ctx;
        As(ctx, "boss", "acme", "admin");
        if (!leads->ListLeads(&ctx, req, &out).ok()) return false;
        for (const auto& l : out.leads()) {
          if (!l.contact_erased()) return false;
        }
        return true;
      },
      absl::Seconds(30)));
  for (const char* name : {"lead", "customer", "opportunity", "contract", "analytics"}) {
    p.process(name).Stop(SIGTERM);
  }
  const std::string everything = ReadTree(p.dir());
  ExpectNoneOf(everything, kXavier, "the platform's files");
  ExpectNoneOf(everything, kZelda, "the platform's files");
}

}  // namespace
}  // namespace crm::test
