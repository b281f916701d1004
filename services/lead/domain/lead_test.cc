#include "services/lead/domain/lead.h"

#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

CreateLead ValidCommand() {
  CreateLead c;
  c.lead_id = "l1";
  c.channel_id = "web-form";
  c.company_name = "  ACME, Inc. ";
  c.contact_name = "Ann Lee";
  c.email = "Ann.Lee@Acme.COM";
  c.phone = "+49 (30) 123-4567";
  c.user = "rep-1";
  c.now = absl::FromUnixSeconds(1'800'000'000);
  return c;
}

// given no events, when CreateLead, then LeadCreated with normalised fields.
TEST(LeadTest, CreateNormalisesInput) {
  auto events = Decide(Lead{}, ValidCommand());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const LeadCreated& c = (*events)[0].created();
  EXPECT_EQ(c.lead_id(), "l1");
  EXPECT_EQ(c.company_name(), "ACME, Inc.");
  EXPECT_EQ(c.normalized_company_name(), "acme");
  EXPECT_EQ(c.email(), "ann.lee@acme.com");
  EXPECT_EQ(c.phone(), "+49301234567");
  EXPECT_EQ(c.created_by(), "rep-1");
  EXPECT_EQ(c.create_time().seconds(), 1'800'000'000);

  Lead lead = Evolve(Lead{}, (*events)[0]);
  EXPECT_TRUE(lead.exists());
  EXPECT_EQ(lead.version, 1);
  EXPECT_EQ(lead.id, "l1");
}

TEST(LeadTest, CreateRefusesEveryBadFieldAtOnce) {
  CreateLead c = ValidCommand();
  c.channel_id = "";
  c.company_name = "";
  c.contact_name = " ";
  c.email = "not-an-email";
  c.phone = "12ab";
  auto events = Decide(Lead{}, c);
  ASSERT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  auto br = BadRequestOf(events.status());
  std::vector<std::string> fields;
  for (const auto& v : br.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields, (std::vector<std::string>{"lead.channel_id", "lead.company_name", "lead.email",
                                              "lead.phone"}));
}

TEST(LeadTest, CreateOfAnExistingLeadIsRefused) {
  Lead lead = Evolve(Lead{}, (*Decide(Lead{}, ValidCommand()))[0]);
  EXPECT_EQ(Decide(lead, ValidCommand()).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(LeadTest, ContactNameAloneIsEnough) {
  CreateLead c = ValidCommand();
  c.company_name = "";
  c.email = "";
  c.phone = "";
  EXPECT_TRUE(Decide(Lead{}, c).ok());
}

}  // namespace
}  // namespace crm::lead
