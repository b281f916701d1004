// The forecast and its accuracy from a fixed opportunity history, through
// the projection runner into RocksDB, with figures worked out by hand, and
// as-of answers against a replay cut at that moment.

#include "services/analytics/projection/forecast.h"

#include <map>

#include "absl/time/civil_time.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/testing/answer.h"
#include "libs/testing/temp_dir.h"
#include "services/analytics/projection/event_feed.h"
#include "services/analytics/projection/funnel.h"

namespace crm::analytics {
namespace {

namespace oev = crm::opportunity::events::v1;
using GroupBy = v1::GetFunnelRequest::GroupBy;

absl::Time At(int month, int day, int hour = 0) {
  return absl::FromCivil(absl::CivilHour(2026, month, day, hour), absl::UTCTimeZone());
}

// A read store fed the history up to `cut`.
class Replica {
 public:
  explicit Replica(absl::Time cut) : cut_(cut) {
    store_ = *readstore::ReadStore::Open(dir_.path());
    runner_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &facts_);
    History();
  }
  readstore::ReadStore* store() { return store_.get(); }

 private:
  void Apply(const std::string& stream, const google::protobuf::Message& wrapper, absl::Time when) {
    if (when > cut_) return;
    ASSERT_TRUE(
        runner_->ApplyBatch({feed_.Next("crm.opportunity.events.v1", stream, wrapper, when)}).ok());
  }

  void MinClosed(int32_t n, absl::Time when) {
    oev::CatalogEvent e;
    e.mutable_settings_changed()->mutable_settings()->set_calibration_min_closed(n);
    Apply("catalog", e, when);
  }
  void Created(const std::string& opp, const std::string& rep, const std::string& team,
               const std::string& stage, int32_t probability, int64_t amount, absl::Time close,
               absl::Time when) {
    oev::OpportunityEvent e;
    auto* c = e.mutable_created();
    c->set_opportunity_id(opp);
    c->set_customer_id("c-" + opp);
    c->set_owner_id(rep);
    c->set_team_id(team);
    c->set_pipeline_id("p");
    c->set_stage_id(stage);
    c->set_probability(probability);
    c->set_amount(amount);
    *c->mutable_expected_close_time() = ToTimestamp(close);
    *c->mutable_create_time() = ToTimestamp(when);
    Apply(opp, e, when);
  }
  void Stage(const std::string& opp, const std::string& stage, int32_t probability,
             absl::Time when) {
    oev::OpportunityEvent e;
    e.mutable_stage_changed()->set_to_stage_id(stage);
    e.mutable_stage_changed()->set_probability(probability);
    Apply(opp, e, when);
  }
  void CloseTime(const std::string& opp, absl::Time close, absl::Time when) {
    oev::OpportunityEvent e;
    *e.mutable_close_time_changed()->mutable_expected_close_time() = ToTimestamp(close);
    Apply(opp, e, when);
  }
  void Lines(const std::string& opp, int64_t amount, absl::Time when) {
    oev::OpportunityEvent e;
    e.mutable_lines_changed()->set_amount(amount);
    Apply(opp, e, when);
  }
  void Commit(const std::string& opp, absl::Time when) {
    oev::OpportunityEvent e;
    e.mutable_forecast_category_set()->set_category(oev::FORECAST_CATEGORY_COMMIT);
    Apply(opp, e, when);
  }
  void Won(const std::string& opp, int64_t amount, std::vector<std::string> reached,
           absl::Time when) {
    oev::OpportunityEvent e;
    e.mutable_won()->set_amount(amount);
    *e.mutable_won()->mutable_win_time() = ToTimestamp(when);
    for (auto& s : reached) e.mutable_won()->add_stages_reached(s);
    Apply(opp, e, when);
  }
  void Lost(const std::string& opp, std::vector<std::string> reached, absl::Time when) {
    oev::OpportunityEvent e;
    *e.mutable_close_lost_approved()->mutable_approve_time() = ToTimestamp(when);
    for (auto& s : reached) e.mutable_close_lost_approved()->add_stages_reached(s);
    Apply(opp, e, when);
  }

  // Pipeline "p": s1 20%, s2 50%. Calibration after 2 closed deals.
  void History() {
    MinClosed(2, At(1, 1));
    Created("o1", "ann", "east", "s1", 20, 100'000, At(2, 15), At(1, 5));
    Created("o2", "ann", "east", "s1", 20, 200'000, At(2, 20), At(1, 6));
    Created("o3", "bo", "west", "s2", 50, 50'000, At(2, 28), At(1, 10));
    Stage("o1", "s2", 50, At(1, 20));
    Created("o4", "bo", "west", "s1", 20, 300'000, At(3, 10), At(2, 3));
    Created("o6", "ann", "east", "s1", 20, 40'000, At(2, 27), At(2, 5));
    Won("o1", 100'000, {"s1", "s2"}, At(2, 10));
    Stage("o4", "s2", 50, At(2, 20));
    Lost("o2", {"s1"}, At(2, 25));
    CloseTime("o4", At(4, 15), At(3, 1, 10));
    Commit("o4", At(3, 2));
    Created("o5", "ann", "east", "s2", 50, 80'000, At(3, 31), At(3, 3));
    Lines("o5", 120'000, At(3, 4));
    Won("o3", 60'000, {"s2"}, At(3, 5));
  }

  absl::Time cut_;
  test::TempDir dir_;
  std::unique_ptr<readstore::ReadStore> store_;
  OpportunityFactsProjection facts_;
  std::unique_ptr<readstore::ProjectionRunner> runner_;
  EventFeed feed_;
};

std::map<std::pair<std::string, std::string>, v1::ForecastRow> Rows(
    const absl::StatusOr<v1::Forecast>& f) {
  EXPECT_TRUE(f.ok()) << f.status();
  std::map<std::pair<std::string, std::string>, v1::ForecastRow> out;
  if (f.ok()) {
    for (const auto& r : f->rows()) out[{r.group(), r.period()}] = r;
  }
  return out;
}

// March 15th: o1 and o3 were won, o2 lost; s1 is calibrated to 1 of 2
// (50%), s2 to 2 of 2 (100%). Open: o4 (s2, 300,000, April, commit), o5
// (s2, 120,000, March 31st), o6 (s1, 40,000, overdue since February 27th,
// so expected now).
TEST(ForecastTest, WeighsTheOpenPipelineWithCalibratedProbabilitiesPerPeriod) {
  Replica history(absl::InfiniteFuture());
  auto tenant = Rows(
      BuildForecast(history.store(), "acme", v1::GetFunnelRequest::GROUP_BY_TENANT, At(3, 15)));
  ASSERT_EQ(tenant.size(), 4u);
  const v1::ForecastRow& march = tenant[{"", "2026-03"}];
  EXPECT_EQ(march.won(), 1);  // o3
  EXPECT_EQ(march.won_amount(), 60'000);
  EXPECT_EQ(march.open(), 2);  // o5, o6
  EXPECT_EQ(march.open_amount(), 160'000);
  EXPECT_EQ(march.commit_amount(), 0);
  EXPECT_EQ(march.weighted_amount(), 120'000 / 2 + 40'000 / 5);
  EXPECT_EQ(march.calibrated_amount(), 120'000 + 40'000 / 2);
  EXPECT_EQ(march.forecast_amount(), 60'000 + 140'000);
  const v1::ForecastRow& april = tenant[{"", "2026-04"}];
  EXPECT_EQ(april.open(), 1);  // o4
  EXPECT_EQ(april.commit_amount(), 300'000);
  EXPECT_EQ(april.weighted_amount(), 150'000);
  EXPECT_EQ(april.forecast_amount(), 300'000);
  const v1::ForecastRow& q1 = tenant[{"", "2026-Q1"}];
  EXPECT_EQ(q1.won_amount(), 160'000);  // o1 and o3
  EXPECT_EQ(q1.forecast_amount(), 160'000 + 140'000);
  EXPECT_EQ((tenant[{"", "2026-Q2"}].forecast_amount()), 300'000);

  auto reps =
      Rows(BuildForecast(history.store(), "acme", v1::GetFunnelRequest::GROUP_BY_REP, At(3, 15)));
  EXPECT_EQ((reps[{"ann", "2026-03"}].forecast_amount()), 140'000);
  EXPECT_EQ((reps[{"ann", "2026-Q1"}].forecast_amount()), 240'000);
  EXPECT_EQ((reps[{"bo", "2026-03"}].forecast_amount()), 60'000);
  EXPECT_EQ((reps[{"bo", "2026-04"}].forecast_amount()), 300'000);
  auto teams =
      Rows(BuildForecast(history.store(), "acme", v1::GetFunnelRequest::GROUP_BY_TEAM, At(3, 15)));
  EXPECT_EQ((teams[{"east", "2026-Q1"}].forecast_amount()), 240'000);

  auto f = BuildForecast(history.store(), "acme", v1::GetFunnelRequest::GROUP_BY_TENANT, At(3, 15));
  ASSERT_EQ(f->probabilities_size(), 2);
  EXPECT_EQ(f->probabilities(0).stage_id(), "s1");
  EXPECT_EQ(f->probabilities(0).default_probability(), 20);
  EXPECT_EQ(f->probabilities(0).probability(), 50);
  EXPECT_EQ(f->probabilities(0).closed(), 2);
  EXPECT_EQ(f->probabilities(0).won(), 1);
  EXPECT_TRUE(f->probabilities(0).calibrated());
  EXPECT_EQ(f->probabilities(1).probability(), 100);
}

// February 1st: nothing had closed, so every stage keeps its default; o1
// (s2), o2 (s1) and o3 (s2) were expected in February.
TEST(ForecastTest, AsOfAnEarlierMomentUsesThePipelineAndProbabilitiesOfThen) {
  Replica history(absl::InfiniteFuture());
  auto tenant =
      Rows(BuildForecast(history.store(), "acme", v1::GetFunnelRequest::GROUP_BY_TENANT, At(2, 1)));
  const v1::ForecastRow& feb = tenant[{"", "2026-02"}];
  EXPECT_EQ(feb.open(), 3);
  EXPECT_EQ(feb.open_amount(), 350'000);
  EXPECT_EQ(feb.weighted_amount(), 50'000 + 40'000 + 25'000);
  EXPECT_EQ(feb.calibrated_amount(), feb.weighted_amount());
  EXPECT_EQ((tenant[{"", "2026-03"}].open()), 0);
}

// As of April 2nd, January to March. Each month's forecast is the one made
// at its first moment:
//   ann  Feb: o1 50% of 100,000 + o2 20% of 200,000 = 90,000, won 100,000
//        Mar: o6 overdue, s1 calibrated 50% (o1 won, o2 lost) of 40,000 =
//             20,000 (8,000 at the default), won 0
//   bo   Feb: o3 50% of 50,000 = 25,000, won 0
//        Mar: o3 overdue 25,000 + o4 50% of 300,000 (its close moved to
//             April later that day) = 175,000, won o3 60,000
TEST(ForecastTest, AccuracyComparesEachMonthsForecastWithWhatWasWon) {
  Replica history(absl::InfiniteFuture());
  auto accuracy = BuildForecastAccuracy(history.store(), "acme",
                                        v1::GetFunnelRequest::GROUP_BY_UNSPECIFIED, 3, At(4, 2));
  ASSERT_TRUE(accuracy.ok()) << accuracy.status();
  ASSERT_EQ(accuracy->rows_size(), 2);
  const v1::ForecastAccuracyRow& ann = accuracy->rows(0);
  EXPECT_EQ(ann.group(), "ann");
  ASSERT_EQ(ann.months_size(), 3);
  EXPECT_EQ(ann.months(0).period(), "2026-01");
  EXPECT_EQ(ann.months(0).forecast_amount(), 0);
  EXPECT_EQ(ann.months(1).forecast_amount(), 90'000);
  EXPECT_EQ(ann.months(1).actual_amount(), 100'000);
  EXPECT_EQ(ann.months(2).forecast_amount(), 20'000);
  EXPECT_EQ(ann.months(2).stage_default_amount(), 8'000);
  EXPECT_EQ(ann.months(2).actual_amount(), 0);
  EXPECT_EQ(ann.forecast_total(), 110'000);
  EXPECT_EQ(ann.actual_total(), 100'000);
  EXPECT_DOUBLE_EQ(ann.error(), 0.3);
  EXPECT_DOUBLE_EQ(ann.accuracy(), 0.7);
  EXPECT_DOUBLE_EQ(ann.bias(), 0.1);
  EXPECT_DOUBLE_EQ(ann.stage_default_error(), 0.18);
  const v1::ForecastAccuracyRow& bo = accuracy->rows(1);
  EXPECT_EQ(bo.group(), "bo");
  EXPECT_EQ(bo.months(1).forecast_amount(), 25'000);
  EXPECT_EQ(bo.months(2).forecast_amount(), 175'000);
  EXPECT_EQ(bo.months(2).actual_amount(), 60'000);
  EXPECT_DOUBLE_EQ(bo.error(), 140'000.0 / 60'000);
  EXPECT_DOUBLE_EQ(bo.accuracy(), 0);
  EXPECT_DOUBLE_EQ(bo.bias(), 140'000.0 / 60'000);

  auto tenant = BuildForecastAccuracy(history.store(), "acme",
                                      v1::GetFunnelRequest::GROUP_BY_TENANT, 3, At(4, 2));
  ASSERT_EQ(tenant->rows_size(), 1);
  EXPECT_EQ(tenant->rows(0).forecast_total(), 310'000);
  EXPECT_EQ(tenant->rows(0).actual_total(), 160'000);
}

TEST(ForecastTest, ChannelsAreNotAForecastGrouping) {
  Replica history(absl::InfiniteFuture());
  auto f = BuildForecast(history.store(), "acme", v1::GetFunnelRequest::GROUP_BY_CHANNEL, At(3, 1));
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().ToString().find("group_by"), std::string::npos);
}

// The forecast and its accuracy as of a moment equal those of a store fed
// only the events up to that moment.
TEST(ForecastTest, AsOfAnswersEqualAReplayCutAtThatMoment) {
  Replica full(absl::InfiniteFuture());
  for (absl::Time t : {At(1, 1), At(1, 5), At(1, 20), At(2, 1), At(2, 10), At(2, 25), At(3, 1),
                       At(3, 1, 10), At(3, 4), At(3, 5), At(3, 15), At(4, 2)}) {
    Replica cut(t);
    for (GroupBy by : {v1::GetFunnelRequest::GROUP_BY_TENANT, v1::GetFunnelRequest::GROUP_BY_REP,
                       v1::GetFunnelRequest::GROUP_BY_TEAM}) {
      EXPECT_EQ(test::AnswerBytes(BuildForecast(full.store(), "acme", by, t)),
                test::AnswerBytes(BuildForecast(cut.store(), "acme", by, t)))
          << absl::FormatTime(t) << " by " << by;
      EXPECT_EQ(test::AnswerBytes(BuildForecastAccuracy(full.store(), "acme", by, 3, t)),
                test::AnswerBytes(BuildForecastAccuracy(cut.store(), "acme", by, 3, t)))
          << absl::FormatTime(t) << " by " << by;
    }
  }
}

}  // namespace
}  // namespace crm::analytics
