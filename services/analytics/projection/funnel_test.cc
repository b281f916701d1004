// The funnel and channel value from lead and opportunity events, through the
// projection runners into RocksDB, asked now and as of earlier moments.

#include "services/analytics/projection/funnel.h"

#include <map>

#include "crm/lead/events/v1/lead_events.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/testing/answer.h"
#include "libs/testing/temp_dir.h"
#include "services/analytics/projection/event_feed.h"
#include "services/analytics/projection/ranking.h"

namespace crm::analytics {
namespace {

namespace lev = crm::lead::events::v1;
namespace oev = crm::opportunity::events::v1;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
absl::Time Day(int d) { return kT0 + absl::Hours(24 * d); }

class FunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *readstore::ReadStore::Open(dir_.path());
    leads_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &lead_facts_);
    opps_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &opp_facts_);
  }

  // Applies `wrapper`'s event on `stream` at `when`.
  void Lead(const std::string& stream, const google::protobuf::Message& wrapper, absl::Time when) {
    Apply(*leads_, "crm.lead.events.v1", stream, wrapper, when);
  }
  void Opp(const std::string& stream, const google::protobuf::Message& wrapper, absl::Time when) {
    Apply(*opps_, "crm.opportunity.events.v1", stream, wrapper, when);
  }
  void Apply(readstore::ProjectionRunner& runner, const std::string& source,
             const std::string& stream, const google::protobuf::Message& wrapper, absl::Time when) {
    if (when > cut_) return;  // a replay cut at `cut_` never saw it
    ASSERT_TRUE(runner.ApplyBatch({feed_.Next(source, stream, wrapper, when)}).ok());
  }

  void Channel(const std::string& id, int64_t monthly, absl::Time when) {
    lev::ChannelEvent e;
    e.mutable_saved()->set_channel_id(id);
    e.mutable_saved()->set_monthly_cost(monthly);
    *e.mutable_saved()->mutable_save_time() = ToTimestamp(when);
    Lead("channel:" + id, e, when);
  }
  void Created(const std::string& lead, const std::string& channel, absl::Time when) {
    lev::LeadEvent e;
    e.mutable_created()->set_lead_id(lead);
    e.mutable_created()->set_channel_id(channel);
    *e.mutable_created()->mutable_create_time() = ToTimestamp(when);
    Lead(lead, e, when);
  }
  void Assigned(const std::string& lead, const std::string& rep, absl::Time when,
                const std::string& team = "") {
    lev::LeadEvent e;
    e.mutable_assigned()->set_lead_id(lead);
    e.mutable_assigned()->set_owner_id(rep);
    e.mutable_assigned()->set_team_id(team);
    Lead(lead, e, when);
  }
  void Converted(const std::string& lead, const std::string& customer, const std::string& rep,
                 absl::Time when) {
    lev::LeadEvent e;
    e.mutable_converted()->set_lead_id(lead);
    e.mutable_converted()->set_customer_id(customer);
    e.mutable_converted()->set_owner_id(rep);
    *e.mutable_converted()->mutable_convert_time() = ToTimestamp(when);
    Lead(lead, e, when);
  }
  void OppCreated(const std::string& opp, const std::string& customer, absl::Time when) {
    oev::OpportunityEvent e;
    e.mutable_created()->set_opportunity_id(opp);
    e.mutable_created()->set_customer_id(customer);
    *e.mutable_created()->mutable_create_time() = ToTimestamp(when);
    Opp(opp, e, when);
  }
  void Won(const std::string& opp, int64_t amount, absl::Time when) {
    oev::OpportunityEvent e;
    e.mutable_won()->set_opportunity_id(opp);
    e.mutable_won()->set_amount(amount);
    *e.mutable_won()->mutable_win_time() = ToTimestamp(when);
    Opp(opp, e, when);
  }

  std::map<std::string, v1::FunnelRow> Funnel(v1::GetFunnelRequest::GroupBy by, Window w) {
    auto f = BuildFunnel(store_.get(), "acme", by, w);
    EXPECT_TRUE(f.ok()) << f.status();
    std::map<std::string, v1::FunnelRow> out;
    for (const auto& r : f->rows()) out[r.group()] = r;
    return out;
  }

  // Two channels over 60 days: web brings 4 leads (2 customers, 1 won
  // 300,000 after 20 days), fair brings 2 (1 customer, won 100,000).
  void History() {
    Channel("web", 300000, Day(0));
    Channel("fair", 600000, Day(0));
    Channel("web", 150000, Day(30));  // web got cheaper on day 30
    Created("l1", "web", Day(1));
    Created("l2", "web", Day(2));
    Created("l3", "web", Day(3));
    Created("l4", "web", Day(40));
    Created("l5", "fair", Day(5));
    Created("l6", "fair", Day(6));
    Assigned("l1", "ann", Day(1));
    Assigned("l2", "bo", Day(2));
    Assigned("l5", "ann", Day(5));
    Converted("l1", "c1", "ann", Day(11));
    Converted("l2", "c2", "bo", Day(12));
    Converted("l5", "c5", "ann", Day(15));
    OppCreated("o1", "c1", Day(13));
    OppCreated("o2", "c2", Day(14));
    OppCreated("o5", "c5", Day(20));
    Won("o1", 300000, Day(33));
    Won("o5", 100000, Day(50));
  }

  test::TempDir dir_;
  std::unique_ptr<readstore::ReadStore> store_;
  LeadFactsProjection lead_facts_;
  OpportunityFactsProjection opp_facts_;
  std::unique_ptr<readstore::ProjectionRunner> leads_, opps_;
  EventFeed feed_;
  absl::Time cut_ = absl::InfiniteFuture();
};

TEST_F(FunnelTest, CountsRatesAndCycleTimesPerChannelAndRep) {
  History();
  auto by_channel =
      Funnel(v1::GetFunnelRequest::GROUP_BY_CHANNEL, {absl::InfinitePast(), Day(60), Day(60)});
  const v1::FunnelRow& web = by_channel["web"];
  EXPECT_EQ(web.leads(), 4);
  EXPECT_EQ(web.customers(), 2);
  EXPECT_EQ(web.customers_with_opportunities(), 2);
  EXPECT_EQ(web.opportunities(), 2);
  EXPECT_EQ(web.won(), 1);
  EXPECT_EQ(web.won_amount(), 300000);
  EXPECT_DOUBLE_EQ(web.lead_to_customer(), 0.5);
  EXPECT_DOUBLE_EQ(web.opportunity_to_won(), 0.5);
  EXPECT_DOUBLE_EQ(web.days_lead_to_customer(), 10);        // 10 and 10 days
  EXPECT_DOUBLE_EQ(web.days_customer_to_opportunity(), 2);  // 2 and 2 days
  EXPECT_DOUBLE_EQ(web.days_opportunity_to_won(), 20);
  EXPECT_EQ(by_channel["fair"].won_amount(), 100000);

  auto by_rep =
      Funnel(v1::GetFunnelRequest::GROUP_BY_REP, {absl::InfinitePast(), Day(60), Day(60)});
  EXPECT_EQ(by_rep["ann"].leads(), 2);
  EXPECT_EQ(by_rep["ann"].won_amount(), 400000);
  EXPECT_EQ(by_rep["bo"].customers(), 1);
  EXPECT_EQ(by_rep[""].leads(), 3) << "leads nobody took";

  // Only leads created in the period form its cohort.
  auto first_week = Funnel(v1::GetFunnelRequest::GROUP_BY_TENANT, {Day(0), Day(7), Day(60)});
  EXPECT_EQ(first_week[""].leads(), 5);
}

TEST_F(FunnelTest, RepsAreRankedOnAnyFunnelFigureWithTiesSharingARank) {
  History();
  const Window w{absl::InfinitePast(), Day(60), Day(60)};
  auto won = BuildRanking(store_.get(), "acme", "won_amount",
                          v1::GetFunnelRequest::GROUP_BY_UNSPECIFIED, 10, w);
  ASSERT_TRUE(won.ok()) << won.status();
  ASSERT_EQ(won->rows_size(), 2);  // the leads nobody took are not a rep
  EXPECT_EQ(won->rows(0).group(), "ann");
  EXPECT_EQ(won->rows(0).value(), 400000);
  EXPECT_EQ(won->rows(1).rank(), 2);
  EXPECT_FALSE(won->ascending());

  // Shorter cycles rank first; ann and bo both took 10 days: rank 1 each.
  auto days = BuildRanking(store_.get(), "acme", "days_lead_to_customer",
                           v1::GetFunnelRequest::GROUP_BY_REP, 10, w);
  ASSERT_TRUE(days.ok());
  EXPECT_TRUE(days->ascending());
  EXPECT_EQ(days->rows(0).rank(), 1);
  EXPECT_EQ(days->rows(1).rank(), 1);

  auto channels = BuildRanking(store_.get(), "acme", "lead_to_customer",
                               v1::GetFunnelRequest::GROUP_BY_CHANNEL, 1, w);
  ASSERT_EQ(channels->rows_size(), 1);           // the limit
  EXPECT_EQ(channels->rows(0).group(), "fair");  // 1 of 2 and web 2 of 4: a tie, by name
  EXPECT_EQ(BuildRanking(store_.get(), "acme", "group", v1::GetFunnelRequest::GROUP_BY_REP, 10, w)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FunnelTest, TeamsCountTheLeadsAssignedInThemAsOfTheirConversion) {
  Channel("web", 0, Day(0));
  for (const char* lead : {"l1", "l2", "l3", "l4", "l5"}) Created(lead, "web", Day(1));
  Assigned("l1", "ann", Day(2), "north");
  Assigned("l2", "bo", Day(2), "south");
  Assigned("l3", "cy", Day(2), "north");
  Converted("l1", "c1", "ann", Day(5));
  Converted("l2", "c2", "bo", Day(6));
  Assigned("l2", "cy", Day(8), "north");  // after its conversion: still south's
  Assigned("l3", "bo", Day(9), "south");  // open: south's from day 9
  OppCreated("o1", "c1", Day(7));
  OppCreated("o2", "c2", Day(7));
  Won("o1", 500000, Day(10));
  Won("o2", 200000, Day(11));

  auto teams = Funnel(v1::GetFunnelRequest::GROUP_BY_TEAM, {});
  EXPECT_EQ(teams["north"].leads(), 1);  // l1
  EXPECT_EQ(teams["north"].won_amount(), 500000);
  EXPECT_EQ(teams["south"].leads(), 2);  // l2 (converted there), l3 (now there)
  EXPECT_EQ(teams["south"].customers(), 1);
  EXPECT_EQ(teams["south"].won_amount(), 200000);
  EXPECT_EQ(teams[""].leads(), 2);  // l4, l5: never assigned in a team
  // On day 8 l3 was still north's.
  auto then = Funnel(v1::GetFunnelRequest::GROUP_BY_TEAM, {absl::InfinitePast(), Day(8), Day(8)});
  EXPECT_EQ(then["north"].leads(), 2);
  EXPECT_EQ(then["south"].leads(), 1);

  auto ranking =
      BuildRanking(store_.get(), "acme", "won_amount", v1::GetFunnelRequest::GROUP_BY_TEAM, 10, {});
  ASSERT_TRUE(ranking.ok()) << ranking.status();
  ASSERT_EQ(ranking->rows_size(), 2);  // the unteamed group is not ranked
  EXPECT_EQ(ranking->rows(0).group(), "north");
  EXPECT_EQ(ranking->rows(1).group(), "south");
}

TEST_F(FunnelTest, AsOfAnEarlierMomentCountsOnlyWhatHadHappened) {
  History();
  // On day 20: l4 did not exist, o5 had just been created, nothing was won.
  auto then =
      Funnel(v1::GetFunnelRequest::GROUP_BY_CHANNEL, {absl::InfinitePast(), Day(20), Day(20)});
  EXPECT_EQ(then["web"].leads(), 3);
  EXPECT_EQ(then["web"].customers(), 2);
  EXPECT_EQ(then["web"].won(), 0);
  EXPECT_EQ(then["fair"].opportunities(), 1);
  // On day 12 bo's conversion had just happened, ann's second not yet.
  auto earlier =
      Funnel(v1::GetFunnelRequest::GROUP_BY_REP, {absl::InfinitePast(), Day(12), Day(12)});
  EXPECT_EQ(earlier["ann"].customers(), 1);
  EXPECT_EQ(earlier["bo"].customers(), 1);
}

// An answer as text, or its error.
// Every answer as of a moment equals the answer of a store that was fed only
// the events up to that moment (the history replayed and cut there).
TEST_F(FunnelTest, AsOfAnswersEqualAReplayCutAtThatMoment) {
  History();
  std::unique_ptr<readstore::ReadStore> full = std::move(store_);
  for (int day : {0, 1, 5, 11, 12, 13, 15, 20, 29, 30, 33, 40, 50, 60}) {
    test::TempDir cut_dir;
    store_ = *readstore::ReadStore::Open(cut_dir.path());
    leads_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &lead_facts_);
    opps_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &opp_facts_);
    feed_.RestartVersions();
    cut_ = Day(day);
    History();
    if (day == 12) {  // the cut store knows only what had happened: l1-l3, l5, l6
      EXPECT_EQ(BuildFunnel(store_.get(), "acme", v1::GetFunnelRequest::GROUP_BY_TENANT, {})
                    ->rows(0)
                    .leads(),
                5);
    }
    for (const Window& w :
         {Window{absl::InfinitePast(), Day(day), Day(day)}, Window{Day(0), Day(day), Day(day)}}) {
      for (auto by : {v1::GetFunnelRequest::GROUP_BY_TENANT, v1::GetFunnelRequest::GROUP_BY_CHANNEL,
                      v1::GetFunnelRequest::GROUP_BY_REP, v1::GetFunnelRequest::GROUP_BY_TEAM}) {
        const auto funnel = BuildFunnel(full.get(), "acme", by, w);
        ASSERT_TRUE(funnel.ok()) << funnel.status();
        EXPECT_EQ(test::AnswerBytes(funnel),
                  test::AnswerBytes(BuildFunnel(store_.get(), "acme", by, w)))
            << "day " << day << " by " << by;
        EXPECT_EQ(test::AnswerBytes(BuildRanking(full.get(), "acme", "won_amount", by, 10, w)),
                  test::AnswerBytes(BuildRanking(store_.get(), "acme", "won_amount", by, 10, w)))
            << "day " << day << " by " << by;
      }
      EXPECT_EQ(test::AnswerBytes(BuildChannelValue(full.get(), "acme", w)),
                test::AnswerBytes(BuildChannelValue(store_.get(), "acme", w)))
          << "day " << day;
    }
    leads_.reset();
    opps_.reset();
    store_.reset();
  }
}

TEST_F(FunnelTest, ChannelValueWeighsCostsAsTheyStoodAgainstWhatCameIn) {
  History();
  auto value = BuildChannelValue(store_.get(), "acme", {Day(0), Day(60), Day(60)});
  ASSERT_TRUE(value.ok()) << value.status();
  std::map<std::string, v1::ChannelValueRow> rows;
  for (const auto& r : value->rows()) rows[r.channel_id()] = r;
  // web: 3,000.00 a month for 30 days, then 1,500.00 for 30 days.
  const double month_days = 365.25 / 12;
  const int64_t web_cost =
      static_cast<int64_t>(300000 * 30 / month_days + 150000 * 30 / month_days + 0.5);
  EXPECT_EQ(rows["web"].cost(), web_cost);
  EXPECT_EQ(rows["web"].cost_per_lead(), web_cost / 4);
  EXPECT_EQ(rows["web"].cost_per_customer(), web_cost / 2);
  EXPECT_DOUBLE_EQ(rows["web"].cost_per_won_unit(), static_cast<double>(web_cost) / 300000);
  EXPECT_DOUBLE_EQ(rows["web"].revenue_share(), 0.75);
  EXPECT_DOUBLE_EQ(rows["fair"].revenue_share(), 0.25);
  // As of day 40 nothing of fair's was won yet: all revenue is web's.
  auto then = BuildChannelValue(store_.get(), "acme", {Day(0), Day(40), Day(40)});
  for (const auto& r : then->rows()) {
    EXPECT_DOUBLE_EQ(r.revenue_share(), r.channel_id() == "web" ? 1.0 : 0.0) << r.channel_id();
  }
}

TEST_F(FunnelTest, CompanionEventsOnTheTopicAreSkippedUnknownOnesParked) {
  lev::RepLoadEvent load;
  load.mutable_taken()->set_rep_id("ann");
  load.mutable_taken()->set_lead_id("l1");
  Lead("rep:ann", load, Day(1));
  EXPECT_EQ(leads_->stats().parked, 0);
  readstore::Envelope unknown;
  unknown.source = "crm.lead.events.v1";
  unknown.offset = feed_.NextOffset();
  unknown.event.set_tenant("acme");
  unknown.event.set_stream_id("l9");
  unknown.event.set_version(1);
  unknown.event.set_type("crm.lead.events.v1.SomethingNew");
  ASSERT_TRUE(leads_->ApplyBatch({unknown}).ok());
  EXPECT_EQ(leads_->stats().parked, 1);
}

}  // namespace
}  // namespace crm::analytics
