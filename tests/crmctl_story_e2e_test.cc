// The operator's and the rep's tool, scripted: crmctl against the running
// platform (the broker and the five services) takes one lead all the way to
// a signed contract and a payment, each step a separate crmctl process whose
// --json output is read back as the API's own messages. Then the figures:
// the contract service's receivables and analytics' (fed only by the
// topics) agree, and the funnel counts the story. Bad input and refusals
// exit with the documented codes and name the field or the reason.

#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/contract/v1/contract_service.pb.h"
#include "crm/customer/v1/customer_service.pb.h"
#include "crm/lead/v1/lead_service.pb.h"
#include "crm/opportunity/v1/opportunity_service.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

namespace av1 = crm::analytics::v1;
namespace kv1 = crm::contract::v1;
namespace lv1 = crm::lead::v1;
namespace ov1 = crm::opportunity::v1;

struct CrmctlRun {
  int exit = -1;
  std::string output;  // stdout and stderr
};

class CrmctlStoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_.StartAll(
        {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});
  }

  // crmctl as `user` with `roles`, --json, the words and flags given.
  CrmctlRun Crmctl(const std::string& user, const std::string& roles,
                   std::vector<std::string> args) {
    std::vector<std::string> argv = p_.CrmctlArgv(CRMCTL_BIN, "acme");
    argv.insert(argv.end(), {"--user=" + user, "--roles=" + roles, "--json"});
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = absl::StrCat(p_.dir(), "/crmctl-", ++runs_, ".log");
    auto process = Process::Start(argv, log);
    CrmctlRun r;
    if (!process.ok()) {
      ADD_FAILURE() << process.status();
      return r;
    }
    r.exit = process->Wait();
    r.output = ReadFile(log);
    return r;
  }

  // Runs crmctl, expects exit 0 and reads its JSON output as a `Message`.
  template <typename Message>
  Message Ok(const std::string& user, const std::string& roles, std::vector<std::string> args) {
    const CrmctlRun r = Crmctl(user, roles, args);
    Message m;
    EXPECT_EQ(r.exit, 0) << args[0] << " " << args[1] << ": " << r.output;
    const auto parsed = google::protobuf::util::JsonStringToMessage(r.output, &m);
    EXPECT_TRUE(parsed.ok()) << args[0] << " " << args[1] << ": " << parsed << "\n" << r.output;
    return m;
  }

  Platform p_;
  int runs_ = 0;
};

TEST_F(CrmctlStoryTest, ALeadBecomesAPaidContractAndTheFiguresAgree) {
  // The admin sets up a paid channel and the price book.
  EXPECT_EQ(Crmctl("ops-admin", "admin",
                   {"channel", "create", "web", "--name=Web ads", "--kind=paid",
                    "--monthly-cost=300000", "--assign=claim"})
                .exit,
            0);
  Ok<ov1::Product>("ops-admin", "admin",
                   {"product", "save", "seat", "--name=CRM seat", "--price=120000"});

  // A lead arrives, a rep claims, qualifies and converts it with a deal.
  const auto lead = Ok<lv1::Lead>(
      "rep-1", "",
      {"lead", "create", "--channel=web", "--company=Northwind Steel", "--contact=Ann Lee",
       "--email=ann@northwind.example", "--industry=steel", "--region=north"});
  ASSERT_FALSE(lead.lead_id().empty());
  EXPECT_EQ(Ok<lv1::Lead>("rep-1", "", {"lead", "claim", lead.lead_id()}).owner_id(), "rep-1");
  Ok<lv1::Lead>("rep-1", "",
                {"lead", "qualify", lead.lead_id(), "--budget", "--decision-maker",
                 "--need=one pipeline for 10 sellers"});
  Ok<lv1::Lead>("rep-1", "", {"lead", "follow-up", lead.lead_id(), "--note=called Ann"});
  const auto converted =
      Ok<lv1::Lead>("rep-1", "", {"lead", "convert", lead.lead_id(), "--with-opportunity=Rollout"});
  ASSERT_FALSE(converted.customer_id().empty());
  ASSERT_FALSE(converted.opportunity_id().empty());

  // The deal gets its lines from the price book and is won: the contract
  // service drafts the contract.
  const std::string opp = converted.opportunity_id();
  const auto priced = Ok<ov1::Opportunity>("rep-1", "", {"opp", "lines", opp, "--lines=seat:10"});
  EXPECT_EQ(priced.amount(), 1'200'000);
  const auto won = Ok<ov1::Opportunity>("rep-1", "", {"opp", "win", opp});
  ASSERT_FALSE(won.contract_id().empty()) << won.DebugString();
  const std::string contract = won.contract_id();

  // Through approval (each step by its approver), to the customer, signed.
  auto k = Ok<kv1::Contract>("rep-1", "", {"contract", "submit", contract});
  for (int step = k.approval_steps_done(); step < k.approval_steps_size(); ++step) {
    const auto role = k.approval_steps(step).role();
    const std::string who = role == crm::contract::events::v1::APPROVER_ROLE_LEGAL ? "legal"
                            : role == crm::contract::events::v1::APPROVER_ROLE_DIRECTOR
                                ? "director"
                                : "team-lead";
    k = Ok<kv1::Contract>("approver-" + who, who, {"contract", "approve", contract});
  }
  Ok<kv1::Contract>("rep-1", "", {"contract", "send", contract});
  k = Ok<kv1::Contract>("rep-1", "", {"contract", "confirm", contract});
  EXPECT_EQ(k.state(), kv1::CONTRACT_STATE_ACTIVE) << k.DebugString();

  // A plan of two installments, the first already overdue, and a payment.
  const auto day = [](int days) {
    return absl::FormatTime("%Y-%m-%d", absl::Now() + absl::Hours(24 * days), absl::UTCTimeZone());
  };
  Ok<kv1::Contract>("rep-1", "",
                    {"contract", "plan", contract,
                     absl::StrCat("--installments=600000@", day(-40), ",600000@", day(30))});
  k = Ok<kv1::Contract>("finance-1", "", {"contract", "pay", contract, "--amount=200000"});
  ASSERT_EQ(k.installments_size(), 2);
  EXPECT_EQ(k.installments(0).paid(), 200'000);

  // The contract service's receivables: 400,000 overdue 31-60 days, 600,000
  // not yet due.
  const auto receivables = Ok<kv1::Receivables>("rep-1", "", {"contract", "receivables"});
  ASSERT_EQ(receivables.rows_size(), 1);
  EXPECT_EQ(receivables.rows(0).days_31_60(), 400'000);
  EXPECT_EQ(receivables.rows(0).not_due(), 600'000);

  // Analytics, fed only by the topics, comes to the same figures, and its
  // funnel counts the story once.
  av1::ReceivablesAging aging;
  EXPECT_TRUE(Eventually(
      [&] {
        aging = Ok<av1::ReceivablesAging>("rep-1", "", {"analytics", "receivables", "--by=rep"});
        return aging.rows_size() == 1 && aging.rows(0).total() == 1'000'000;
      },
      absl::Seconds(30)))
      << aging.DebugString();
  EXPECT_EQ(aging.rows(0).group(), "rep-1");
  EXPECT_EQ(aging.rows(0).days_31_60(), receivables.rows(0).days_31_60());
  EXPECT_EQ(aging.rows(0).not_due(), receivables.rows(0).not_due());
  av1::Funnel funnel;
  EXPECT_TRUE(Eventually(
      [&] {
        funnel = Ok<av1::Funnel>("rep-1", "", {"analytics", "funnel", "--by=channel"});
        return funnel.rows_size() == 1 && funnel.rows(0).won() == 1;
      },
      absl::Seconds(30)))
      << funnel.DebugString();
  EXPECT_EQ(funnel.rows(0).group(), "web");
  EXPECT_EQ(funnel.rows(0).leads(), 1);
  EXPECT_EQ(funnel.rows(0).customers(), 1);
  EXPECT_EQ(funnel.rows(0).won_amount(), 1'200'000);

  // Any RPC by name, here one without a command of its own.
  const auto rules = Ok<crm::contract::events::v1::ApprovalRules>(
      "rep-1", "", {"call", "contract", "GetApprovalRules"});
  EXPECT_GT(rules.director_above_amount(), 0);
}

// Customers from CSV: the bad row is reported with its field, the good
// ones kept; running the same import again creates nothing twice.
TEST_F(CrmctlStoryTest, CustomersImportFromCsvKeepGoodRowsAndResume) {
  const std::string csv = p_.dir() + "/customers.csv";
  {
    std::ofstream out(csv);
    out << "company_name,industry,region,kp_name,kp_email\n"
        << "Contoso Ltd,retail,east,Bo Chen,bo@contoso.example\n"
        << ",retail,east,,\n"
        << "\"Fabrikam, Inc.\",steel,north,,\n";
  }
  for (int run = 0; run < 2; ++run) {
    const CrmctlRun r = Crmctl("rep-2", "", {"customer", "import", csv, "--import-id=q4-fair"});
    EXPECT_EQ(r.exit, 3) << r.output;  // a row was refused
    EXPECT_NE(r.output.find("3 rows: 2 imported, 1 refused"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("row 2: customer.company_name"), std::string::npos) << r.output;
  }
  const auto mine =
      Ok<crm::customer::v1::ListCustomersResponse>("rep-2", "", {"customer", "list", "--mine"});
  ASSERT_EQ(mine.customers_size(), 2) << mine.DebugString();
  std::set<std::string> names;
  for (const auto& cu : mine.customers()) names.insert(cu.company_name());
  EXPECT_EQ(names, (std::set<std::string>{"Contoso Ltd", "Fabrikam, Inc."}));
}

TEST_F(CrmctlStoryTest, BadInputAndRefusalsExitWithTheirCodesAndSayWhy) {
  // INVALID_ARGUMENT: exit 3, naming the field.
  CrmctlRun r = Crmctl("rep-1", "", {"lead", "create", "--company=No channel"});
  EXPECT_EQ(r.exit, 3) << r.output;
  EXPECT_NE(r.output.find("channel_id: is required"), std::string::npos) << r.output;
  // NOT_FOUND: exit 4.
  r = Crmctl("rep-1", "", {"contract", "get", "no-such-contract"});
  EXPECT_EQ(r.exit, 4) << r.output;
  // PERMISSION_DENIED (a rep may not define channels): exit 7, the reason.
  r = Crmctl("rep-1", "", {"channel", "create", "web", "--name=Web", "--kind=paid"});
  EXPECT_EQ(r.exit, 7) << r.output;
  EXPECT_NE(r.output.find("reason ROLE_NOT_ALLOWED"), std::string::npos) << r.output;
  // A call crmctl cannot even make: exit 2 with the usage.
  r = Crmctl("rep-1", "", {"call", "contract", "NoSuchMethod"});
  EXPECT_EQ(r.exit, 2) << r.output;
  EXPECT_NE(r.output.find("GetApprovalRules"), std::string::npos) << r.output;
  r = Crmctl("rep-1", "", {"call", "contract", "GetContract", "{not json"});
  EXPECT_EQ(r.exit, 2) << r.output;
}

}  // namespace
}  // namespace crm::test
