// Receivables and payment-prediction error from contract events, through
// the projection runners into RocksDB, with figures worked out by hand, and
// as-of answers equal to a store fed only the events up to then.

#include "services/analytics/projection/receivables.h"

#include <map>

#include "crm/contract/events/v1/contract_events.pb.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/testing/answer.h"
#include "libs/testing/temp_dir.h"
#include "services/analytics/projection/event_feed.h"
#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/projection/ranking.h"

namespace crm::analytics {
namespace {

namespace kev = crm::contract::events::v1;
namespace cev = crm::customer::events::v1;
namespace oev = crm::opportunity::events::v1;
using Req = v1::GetFunnelRequest;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
absl::Time Day(int d) { return kT0 + absl::Hours(24 * d); }

// The history (days):
//   k1 c1 ann, from opportunity o1 of team t1: signed day 1; i1 1000 due 10
//      (paid day 12), i2 2000 due 40 (500 paid day 45), i3 3000 due 120
//   k2 c2 bo, made directly: signed day 2; j1 4000 due 5 (paid day 15),
//      j2 4000 due 65
//   k3 c3 bo: never signed; a plan of 9000 due day 20
//   k4 c1 ann: signed day 2; m1 500 due 30 (paid day 37), m2 800 due 60;
//      terminated day 50
// c1 and c2 are in the steel industry.
class ReceivablesTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_ = *readstore::ReadStore::Open(dir_->path());
    contracts_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &contract_facts_);
    customers_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &pool_history_);
    opportunities_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &opp_facts_);
  }

  void Apply(readstore::ProjectionRunner* runner, const std::string& topic,
             const std::string& stream, const google::protobuf::Message& e, int day) {
    if (Day(day) > cut_) return;  // a replay cut at `cut_` never saw it
    ASSERT_TRUE(runner->ApplyBatch({feed_.Next(topic, stream, e, Day(day))}).ok());
  }
  void Contract(const std::string& id, const std::string& customer, const std::string& owner,
                const std::string& opportunity, int day) {
    kev::ContractEvent e;
    auto* c = e.mutable_created();
    c->set_contract_id(id);
    c->set_customer_id(customer);
    c->set_owner_id(owner);
    c->set_opportunity_id(opportunity);
    c->add_lines()->set_product_name("never stored by analytics");
    Apply(contracts_.get(), "crm.contract.events.v1", id, e, day);
  }
  void Signed(const std::string& id, int day) {
    kev::ContractEvent e;
    e.mutable_contract_signed()->set_contract_id(id);
    *e.mutable_contract_signed()->mutable_sign_time() = ToTimestamp(Day(day));
    Apply(contracts_.get(), "crm.contract.events.v1", id, e, day);
  }
  void Plan(const std::string& id, const std::vector<std::tuple<std::string, int64_t, int>>& plan,
            int day) {
    kev::ContractEvent e;
    e.mutable_payment_plan_set()->set_contract_id(id);
    for (const auto& [installment, amount, due] : plan) {
      auto* i = e.mutable_payment_plan_set()->add_installments();
      i->set_installment_id(installment);
      i->set_amount(amount);
      *i->mutable_due_time() = ToTimestamp(Day(due));
    }
    Apply(contracts_.get(), "crm.contract.events.v1", id, e, day);
  }
  void Paid(const std::string& id, const std::string& installment, int64_t amount, int day) {
    kev::ContractEvent e;
    auto* p = e.mutable_payment_received();
    p->set_contract_id(id);
    p->set_amount(amount);
    *p->mutable_receive_time() = ToTimestamp(Day(day));
    p->add_allocations()->set_installment_id(installment);
    p->mutable_allocations(0)->set_amount(amount);
    Apply(contracts_.get(), "crm.contract.events.v1", id, e, day);
  }
  void Terminated(const std::string& id, int day) {
    kev::ContractEvent e;
    e.mutable_ended()->set_contract_id(id);
    e.mutable_ended()->set_reason(kev::END_REASON_TERMINATED);
    Apply(contracts_.get(), "crm.contract.events.v1", id, e, day);
  }
  void Customer(const std::string& id, const std::string& industry, int day) {
    cev::CustomerEvent e;
    e.mutable_created()->set_customer_id(id);
    e.mutable_created()->mutable_profile()->set_industry(industry);
    Apply(customers_.get(), "crm.customer.events.v1", id, e, day);
  }

  void History() {
    Customer("c1", "steel", 0);
    Customer("c2", "steel", 0);
    Customer("c3", "", 0);
    oev::OpportunityEvent o;
    o.mutable_created()->set_opportunity_id("o1");
    o.mutable_created()->set_team_id("t1");
    Apply(opportunities_.get(), "crm.opportunity.events.v1", "o1", o, 0);
    Contract("k1", "c1", "ann", "o1", 0);
    Contract("k2", "c2", "bo", "", 0);
    Signed("k1", 1);
    Plan("k1", {{"i1", 1000, 10}, {"i2", 2000, 40}, {"i3", 3000, 120}}, 1);
    Signed("k2", 2);
    Plan("k2", {{"j1", 4000, 5}, {"j2", 4000, 65}}, 2);
    Contract("k4", "c1", "ann", "", 2);
    Signed("k4", 2);
    Plan("k4", {{"m1", 500, 30}, {"m2", 800, 60}}, 2);
    Contract("k3", "c3", "bo", "", 3);
    Plan("k3", {{"n1", 9000, 20}}, 3);
    Paid("k1", "i1", 1000, 12);
    Paid("k2", "j1", 4000, 15);
    Paid("k4", "m1", 500, 37);
    Paid("k1", "i2", 500, 45);
    Terminated("k4", 50);
  }

  std::map<std::string, v1::ReceivablesRow> Rows(Req::GroupBy by, int day) {
    auto r = BuildReceivables(store_.get(), "acme", by, Day(day));
    EXPECT_TRUE(r.ok()) << r.status();
    std::map<std::string, v1::ReceivablesRow> out;
    if (r.ok())
      for (const auto& row : r->rows()) out[row.group()] = row;
    return out;
  }

  std::unique_ptr<test::TempDir> dir_ = std::make_unique<test::TempDir>();
  std::unique_ptr<readstore::ReadStore> store_;
  ContractFactsProjection contract_facts_;
  PoolHistoryProjection pool_history_;
  OpportunityFactsProjection opp_facts_;
  std::unique_ptr<readstore::ProjectionRunner> contracts_, customers_, opportunities_;
  EventFeed feed_;
  absl::Time cut_ = absl::InfiniteFuture();
};

// On day 100: i2 has 1500 open 60 days overdue, j2 4000 35 days overdue,
// i3 3000 not due; k3 was never signed, k4's 800 ended with it.
// Predictions (each from the payments before min(due, paid)):
//   i1: nothing paid before day 10: the due date; 2 days late -> +2
//   j1: nothing paid before day 5; 10 days late -> +10
//   m1: before day 30 c1 had paid i1 2 days late: predicted +2, 7 late -> +5
TEST_F(ReceivablesTest, AgingAndPredictionErrorPerTenantRepAndTeam) {
  History();
  auto tenant = Rows(Req::GROUP_BY_UNSPECIFIED, 100);
  ASSERT_EQ(tenant.size(), 1u);
  const v1::ReceivablesRow& t = tenant[""];
  EXPECT_EQ(t.not_due(), 3000);
  EXPECT_EQ(t.days_0_30(), 0);
  EXPECT_EQ(t.days_31_60(), 5500);
  EXPECT_EQ(t.days_61_90(), 0);
  EXPECT_EQ(t.over_90(), 0);
  EXPECT_EQ(t.total(), 8500);
  EXPECT_EQ(t.overdue_amount(), 5500);
  EXPECT_EQ(t.overdue_installments(), 2);
  EXPECT_EQ(t.prediction_samples(), 3);
  EXPECT_NEAR(t.prediction_error_days(), 17.0 / 3, 1e-9);
  EXPECT_NEAR(t.prediction_within_7_days(), 2.0 / 3, 1e-9);
  EXPECT_NEAR(t.prediction_bias_days(), 17.0 / 3, 1e-9);

  auto reps = Rows(Req::GROUP_BY_REP, 100);
  ASSERT_EQ(reps.size(), 2u);
  EXPECT_EQ(reps["ann"].not_due(), 3000);
  EXPECT_EQ(reps["ann"].days_31_60(), 1500);
  EXPECT_EQ(reps["ann"].overdue_installments(), 1);
  EXPECT_EQ(reps["ann"].prediction_samples(), 2);
  EXPECT_NEAR(reps["ann"].prediction_error_days(), 3.5, 1e-9);
  EXPECT_NEAR(reps["ann"].prediction_within_7_days(), 1.0, 1e-9);
  EXPECT_EQ(reps["bo"].days_31_60(), 4000);
  EXPECT_NEAR(reps["bo"].prediction_error_days(), 10, 1e-9);
  EXPECT_NEAR(reps["bo"].prediction_within_7_days(), 0, 1e-9);

  auto teams = Rows(Req::GROUP_BY_TEAM, 100);
  ASSERT_EQ(teams.size(), 2u);
  EXPECT_EQ(teams["t1"].total(), 4500);  // k1 only
  EXPECT_EQ(teams["t1"].prediction_samples(), 1);
  EXPECT_EQ(teams[""].total(), 4000);
  EXPECT_EQ(teams[""].prediction_samples(), 2);

  // On day 40: i2 (due that day) 2000 overdue 0 days, j2 and i3 not due,
  // m2 still on a live contract; m1 paid day 37.
  const v1::ReceivablesRow then = Rows(Req::GROUP_BY_TENANT, 40)[""];
  EXPECT_EQ(then.not_due(), 4000 + 3000 + 800);
  EXPECT_EQ(then.days_0_30(), 2000);
  EXPECT_EQ(then.overdue_installments(), 1);
  EXPECT_EQ(then.prediction_samples(), 3);
  // On day 11 nothing was paid yet and i1 was a day late.
  const v1::ReceivablesRow early = Rows(Req::GROUP_BY_TENANT, 11)[""];
  EXPECT_EQ(early.days_0_30(), 1000 + 4000);
  EXPECT_EQ(early.prediction_samples(), 0);

  EXPECT_EQ(BuildReceivables(store_.get(), "acme", Req::GROUP_BY_CHANNEL, Day(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReceivablesTest, RankingsOnReceivables) {
  History();
  Window w;
  w.as_of = Day(100);
  w.to = Day(100);
  auto overdue =
      BuildRanking(store_.get(), "acme", "receivables.overdue_amount", Req::GROUP_BY_REP, 10, w);
  ASSERT_TRUE(overdue.ok()) << overdue.status();
  EXPECT_TRUE(overdue->ascending());
  ASSERT_EQ(overdue->rows_size(), 2);
  EXPECT_EQ(overdue->rows(0).group(), "ann");  // 1500 overdue beats 4000
  EXPECT_EQ(overdue->rows(0).value(), 1500);
  EXPECT_EQ(overdue->rows(1).group(), "bo");
  auto error = BuildRanking(store_.get(), "acme", "receivables.prediction_error_days",
                            Req::GROUP_BY_REP, 1, w);
  ASSERT_TRUE(error.ok());
  ASSERT_EQ(error->rows_size(), 1);
  EXPECT_EQ(error->rows(0).group(), "ann");
  for (const char* bad : {"receivables.group", "receivables.nope", "nope.total", "pool."}) {
    EXPECT_EQ(BuildRanking(store_.get(), "acme", bad, Req::GROUP_BY_REP, 10, w).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(BuildRanking(store_.get(), "acme", "receivables.total", Req::GROUP_BY_CHANNEL, 10, w)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReceivablesTest, AsOfAnswersEqualAReplayCutAtThatMoment) {
  History();
  std::unique_ptr<readstore::ReadStore> full = std::move(store_);
  for (int day : {0, 1, 2, 10, 11, 12, 15, 37, 40, 45, 50, 70, 100}) {
    auto cut_dir = std::make_unique<test::TempDir>();
    std::swap(dir_, cut_dir);
    Open();
    feed_.RestartVersions();
    cut_ = Day(day);
    History();
    for (Req::GroupBy by : {Req::GROUP_BY_TENANT, Req::GROUP_BY_REP, Req::GROUP_BY_TEAM}) {
      EXPECT_EQ(test::AnswerBytes(BuildReceivables(full.get(), "acme", by, Day(day))),
                test::AnswerBytes(BuildReceivables(store_.get(), "acme", by, Day(day))))
          << "day " << day << " by " << by;
    }
    contracts_.reset();
    customers_.reset();
    opportunities_.reset();
    store_.reset();
    std::swap(dir_, cut_dir);
  }
}

}  // namespace
}  // namespace crm::analytics
