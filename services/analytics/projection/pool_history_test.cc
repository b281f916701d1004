// Ownership, pools and pool health from customer events, through the
// projection runner into RocksDB, asked now and as of earlier days; and the
// pool rules backtested over the same history.

#include "services/analytics/projection/pool_history.h"

#include <map>

#include "absl/strings/str_format.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/testing/answer.h"
#include "libs/testing/temp_dir.h"
#include "services/analytics/projection/backtest.h"
#include "services/analytics/projection/event_feed.h"
#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/ranking.h"
#include "services/customer/domain/policy.h"

namespace crm::analytics {
namespace {

namespace cev = crm::customer::events::v1;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
absl::Time Day(int d) { return kT0 + absl::Hours(24 * d); }

class PoolHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *readstore::ReadStore::Open(dir_.path());
    runner_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &projection_);
  }

  void Apply(const std::string& stream, const google::protobuf::Message& wrapper, absl::Time when) {
    if (when > cut_) return;  // a replay cut at `cut_` never saw it
    ASSERT_TRUE(
        runner_->ApplyBatch({feed_.Next("crm.customer.events.v1", stream, wrapper, when)}).ok());
  }
  // A customer event and the pool events the customer service appends with
  // it: `from` loses it, `to` gains it.
  void Move(const std::string& customer, const cev::CustomerEvent& e, const std::string& from,
            const std::string& to, absl::Time when) {
    Apply(customer, e, when);
    if (!from.empty()) {
      cev::RepPoolEvent removed;
      removed.mutable_customer_removed()->set_rep_id(from);
      removed.mutable_customer_removed()->set_customer_id(customer);
      Apply("pool:" + from, removed, when);
    }
    if (!to.empty()) {
      cev::RepPoolEvent added;
      added.mutable_customer_added()->set_rep_id(to);
      added.mutable_customer_added()->set_customer_id(customer);
      Apply("pool:" + to, added, when);
    }
  }
  void Created(const std::string& customer, const std::string& owner, int completeness, int day,
               cev::Segment segment = cev::SEGMENT_SMB, const std::string& region = "") {
    cev::CustomerEvent e;
    e.mutable_created()->set_customer_id(customer);
    e.mutable_created()->set_owner_id(owner);
    e.mutable_created()->set_completeness(completeness);
    e.mutable_created()->mutable_profile()->set_segment(segment);
    e.mutable_created()->mutable_profile()->set_region(region);
    *e.mutable_created()->mutable_create_time() = ToTimestamp(Day(day));
    Move(customer, e, "", owner, Day(day));
  }
  void Released(const std::string& customer, const std::string& owner, cev::ReleaseReason why,
                int day) {
    cev::CustomerEvent e;
    e.mutable_released()->set_customer_id(customer);
    e.mutable_released()->set_previous_owner_id(owner);
    e.mutable_released()->set_reason(why);
    *e.mutable_released()->mutable_release_time() = ToTimestamp(Day(day));
    Move(customer, e, owner, "", Day(day));
  }
  void Claimed(const std::string& customer, const std::string& rep, int day) {
    cev::CustomerEvent e;
    e.mutable_claimed()->set_customer_id(customer);
    e.mutable_claimed()->set_owner_id(rep);
    *e.mutable_claimed()->mutable_claim_time() = ToTimestamp(Day(day));
    Move(customer, e, "", rep, Day(day));
  }

  void Touched(const std::string& customer, bool valid, int day) {
    cev::CustomerEvent e;
    e.mutable_touch_recorded()->set_customer_id(customer);
    e.mutable_touch_recorded()->set_valid(valid);
    e.mutable_touch_recorded()->set_note("a note the backtest never stores");
    *e.mutable_touch_recorded()->mutable_touch_time() = ToTimestamp(Day(day));
    Apply(customer, e, Day(day));
  }
  void Signed(const std::string& customer, int day) {
    cev::CustomerEvent e;
    e.mutable_contract_signed_noted()->set_customer_id(customer);
    e.mutable_contract_signed_noted()->set_contract_id("k-" + customer);
    *e.mutable_contract_signed_noted()->mutable_sign_time() = ToTimestamp(Day(day));
    Apply(customer, e, Day(day));
  }
  void PolicySet(int smb_no_contract_days, int day) {
    cev::PolicyEvent e;
    *e.mutable_set()->mutable_settings() = customer::ToSettings(customer::Policy{});
    e.mutable_set()->mutable_settings()->set_smb_no_contract_days(smb_no_contract_days);
    Apply("policy", e, Day(day));
  }

  test::TempDir dir_;
  std::unique_ptr<readstore::ReadStore> store_;
  PoolHistoryProjection projection_;
  std::unique_ptr<readstore::ProjectionRunner> runner_;
  EventFeed feed_;
  absl::Time cut_ = absl::InfiniteFuture();
};

TEST_F(PoolHistoryTest, WhoOwnedACustomerAndWhatARepsPoolHeldOnAnyDay) {
  Created("c1", "ann", 40, 0);
  Created("c2", "ann", 90, 1);
  Released("c1", "ann", cev::RELEASE_REASON_NO_VALID_FOLLOW_UP, 31);
  Claimed("c1", "bo", 33);
  cev::CustomerEvent settled;
  settled.mutable_conflict_settled()->set_customer_id("c2");
  settled.mutable_conflict_settled()->set_conflict_id("x1");
  settled.mutable_conflict_settled()->set_previous_owner_id("ann");
  settled.mutable_conflict_settled()->set_owner_id("bo");
  Move("c2", settled, "ann", "bo", Day(40));

  auto then = BuildOwnership(store_.get(), "acme", "c1", Day(32));
  ASSERT_TRUE(then.ok()) << then.status();
  EXPECT_EQ(then->owner_id(), "");  // public on day 32
  ASSERT_EQ(then->spans_size(), 2);
  EXPECT_EQ(then->spans(0).owner_id(), "ann");
  EXPECT_EQ(then->spans(0).how(), "created");
  EXPECT_EQ(FromTimestamp(then->spans(0).to()), Day(31));
  EXPECT_EQ(then->spans(1).how(), "released:no-valid-follow-up");
  auto now = BuildOwnership(store_.get(), "acme", "c1", absl::InfiniteFuture());
  EXPECT_EQ(now->owner_id(), "bo");
  EXPECT_EQ(now->spans(2).how(), "claimed");
  EXPECT_EQ(BuildOwnership(store_.get(), "acme", "c9", Day(50)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(BuildOwnership(store_.get(), "acme", "c2", Day(0)).status().code(),
            absl::StatusCode::kNotFound);  // not yet created
  EXPECT_EQ(BuildOwnership(store_.get(), "acme", "c2", Day(41))->spans(1).how(), "conflict:x1");

  auto pool = [&](const std::string& rep, int day) {
    auto p = BuildRepPool(store_.get(), "acme", rep, Day(day));
    EXPECT_TRUE(p.ok());
    return std::vector<std::string>(p->customer_ids().begin(), p->customer_ids().end());
  };
  EXPECT_EQ(pool("ann", 10), (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(pool("ann", 35), std::vector<std::string>{"c2"});
  EXPECT_TRUE(pool("ann", 45).empty());
  EXPECT_EQ(pool("bo", 45), (std::vector<std::string>{"c1", "c2"}));
}

// An answer as text, or its error.
// Ownership, pools and pool health as of a moment equal the answers of a
// store fed only the events up to that moment.
TEST_F(PoolHistoryTest, AsOfAnswersEqualAReplayCutAtThatMoment) {
  auto history = [&] {
    Created("c1", "ann", 40, 0, cev::SEGMENT_SMB, "north");
    Created("c2", "ann", 90, 1, cev::SEGMENT_SMB, "south");
    Created("c3", "", 10, 2, cev::SEGMENT_SMB, "north");
    Released("c1", "ann", cev::RELEASE_REASON_NO_VALID_FOLLOW_UP, 31);
    Claimed("c1", "bo", 33);
    Released("c2", "ann", cev::RELEASE_REASON_BY_OWNER, 35);
    Claimed("c3", "bo", 36);
    cev::CustomerEvent reserved;
    reserved.mutable_reserved()->set_customer_id("c2");
    reserved.mutable_reserved()->set_rep_id("cy");
    Apply("c2", reserved, Day(37));
  };
  history();
  std::unique_ptr<readstore::ReadStore> full = std::move(store_);
  for (int day : {0, 1, 2, 20, 31, 32, 33, 35, 36, 37, 50}) {
    test::TempDir cut_dir;
    store_ = *readstore::ReadStore::Open(cut_dir.path());
    runner_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &projection_);
    feed_.RestartVersions();
    cut_ = Day(day);
    history();
    const absl::Time at = Day(day);
    for (const char* c : {"c1", "c2", "c3"}) {
      EXPECT_EQ(test::AnswerBytes(BuildOwnership(full.get(), "acme", c, at)),
                test::AnswerBytes(BuildOwnership(store_.get(), "acme", c, at)))
          << c << " day " << day;
    }
    for (const char* rep : {"ann", "bo", "cy"}) {
      EXPECT_EQ(test::AnswerBytes(BuildRepPool(full.get(), "acme", rep, at)),
                test::AnswerBytes(BuildRepPool(store_.get(), "acme", rep, at)))
          << rep << " day " << day;
    }
    for (const Window& w : {Window{absl::InfinitePast(), at, at}, Window{Day(30), at, at}}) {
      for (const auto by :
           {v1::GetPoolHealthRequest::GROUP_BY_UNSPECIFIED, v1::GetPoolHealthRequest::GROUP_BY_REP,
            v1::GetPoolHealthRequest::GROUP_BY_REGION}) {
        const auto health = BuildPoolHealth(full.get(), "acme", w, by);
        ASSERT_TRUE(health.ok()) << health.status();
        EXPECT_EQ(test::AnswerBytes(health),
                  test::AnswerBytes(BuildPoolHealth(store_.get(), "acme", w, by)))
            << "day " << day << " by " << by;
      }
    }
    runner_.reset();
    store_.reset();
  }
}

TEST_F(PoolHistoryTest, PoolHealthCountsTheSnapshotAtAsOfAndTheMovesInThePeriod) {
  Created("c1", "ann", 40, 0);
  Created("c2", "ann", 90, 1);
  Created("c3", "", 10, 2);
  Released("c1", "ann", cev::RELEASE_REASON_NO_VALID_FOLLOW_UP, 31);
  Released("c2", "ann", cev::RELEASE_REASON_BY_OWNER, 35);
  Claimed("c3", "bo", 36);
  cev::CustomerEvent reserved;
  reserved.mutable_reserved()->set_customer_id("c1");
  reserved.mutable_reserved()->set_rep_id("bo");
  Apply("c1", reserved, Day(37));
  cev::ConflictEvent judged;
  judged.mutable_judged()->set_conflict_id("x1");
  Apply("conflict:x1", judged, Day(38));

  Window w;
  w.from = Day(30);
  w.to = Day(40);
  w.as_of = Day(40);
  auto h = BuildPoolHealth(store_.get(), "acme", w);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->customers(), 3);
  EXPECT_EQ(h->public_pool(), 2);  // c1, c2
  EXPECT_EQ(h->private_pool(), 1);
  EXPECT_EQ(
      std::vector<int64_t>(h->completeness_buckets().begin(), h->completeness_buckets().end()),
      (std::vector<int64_t>{1, 0, 1, 0, 1}));
  EXPECT_EQ(h->average_completeness(), 46);
  EXPECT_EQ(h->claims(), 1);
  EXPECT_EQ(h->releases_by_drop_protection(), 1);
  EXPECT_EQ(h->releases_by_owner(), 1);
  EXPECT_EQ(h->conflicts_judged(), 1);
  EXPECT_EQ(h->reservations_made(), 1);
  EXPECT_EQ(h->reservations_open(), 1);

  // As of day 20: everything was private, nothing had moved yet.
  w.as_of = Day(20);
  w.from = absl::InfinitePast();
  w.to = Day(20);
  h = BuildPoolHealth(store_.get(), "acme", w);
  EXPECT_EQ(h->public_pool(), 1);  // c3 was created public
  EXPECT_EQ(h->private_pool(), 2);
  EXPECT_EQ(h->claims(), 0);
  EXPECT_EQ(h->reservations_open(), 0);
}

// Pool health per rep, team and region, with reservation-lead signings:
//   c1 ann north 40%: released by drop protection day 31, reserved by bo
//      day 37, claimed by bo day 38 (the reservation ends), signed for
//      5000 day 39: a reservation-lead signing of bo's
//   c2 ann south 90%: released by ann day 35
//   c3 public north 10%: claimed by bo day 36, signed for 7000 day 39 (bo
//      never reserved it: not a reservation signing)
// Teams from day 0: ann in t1, bo in t2. Asked for [30, 40) as of day 40.
TEST_F(PoolHistoryTest, PoolHealthPerRepTeamAndRegionWithReservationSignings) {
  LeadFactsProjection lead_facts;
  readstore::ProjectionRunner leads(store_.get(), &lead_facts);
  crm::lead::events::v1::LeadPolicyEvent teams;
  for (const auto& [team, rep] : {std::pair{"t1", "ann"}, std::pair{"t2", "bo"}}) {
    auto* t = teams.mutable_changed()->mutable_settings()->add_teams();
    t->set_team_id(team);
    t->add_members()->set_rep_id(rep);
  }
  ASSERT_TRUE(leads.ApplyBatch({feed_.Next("crm.lead.events.v1", "settings", teams, Day(0))}).ok());
  Created("c1", "ann", 40, 0, cev::SEGMENT_SMB, "north");
  Created("c2", "ann", 90, 1, cev::SEGMENT_SMB, "south");
  Created("c3", "", 10, 2, cev::SEGMENT_SMB, "north");
  Released("c1", "ann", cev::RELEASE_REASON_NO_VALID_FOLLOW_UP, 31);
  Released("c2", "ann", cev::RELEASE_REASON_BY_OWNER, 35);
  Claimed("c3", "bo", 36);
  cev::CustomerEvent e;
  e.mutable_reserved()->set_customer_id("c1");
  e.mutable_reserved()->set_rep_id("bo");
  Apply("c1", e, Day(37));
  Claimed("c1", "bo", 38);
  e.Clear();
  e.mutable_reservation_ended()->set_customer_id("c1");
  e.mutable_reservation_ended()->set_rep_id("bo");
  e.mutable_reservation_ended()->set_reason(cev::RESERVATION_END_REASON_CLAIMED);
  Apply("c1", e, Day(38));
  for (const auto& [customer, amount] : {std::pair{"c1", 5000}, std::pair{"c3", 7000}}) {
    e.Clear();
    e.mutable_contract_signed_noted()->set_customer_id(customer);
    e.mutable_contract_signed_noted()->set_owner_id("bo");
    e.mutable_contract_signed_noted()->set_amount(amount);
    Apply(customer, e, Day(39));
  }

  const Window w{Day(30), Day(40), Day(40)};
  auto groups = [&](v1::GetPoolHealthRequest::GroupBy by) {
    auto h = BuildPoolHealth(store_.get(), "acme", w, by);
    EXPECT_TRUE(h.ok()) << h.status();
    std::map<std::string, v1::PoolHealth> out;
    for (const auto& g : h->groups()) out[g.group()] = g;
    EXPECT_EQ(h->reservation_signings(), 1);
    EXPECT_EQ(h->reservation_signed_amount(), 5000);
    return out;
  };
  auto reps = groups(v1::GetPoolHealthRequest::GROUP_BY_REP);
  ASSERT_EQ(reps.size(), 2u);
  EXPECT_EQ(reps["ann"].customers(), 0);
  EXPECT_EQ(reps["ann"].releases_by_drop_protection(), 1);
  EXPECT_EQ(reps["ann"].releases_by_owner(), 1);
  EXPECT_EQ(reps["ann"].claims(), 0);
  EXPECT_EQ(reps["bo"].customers(), 2);
  EXPECT_EQ(reps["bo"].private_pool(), 2);
  EXPECT_EQ(reps["bo"].public_pool(), 0);
  EXPECT_EQ(std::vector<int64_t>(reps["bo"].completeness_buckets().begin(),
                                 reps["bo"].completeness_buckets().end()),
            (std::vector<int64_t>{1, 0, 1, 0, 0}));
  EXPECT_EQ(reps["bo"].average_completeness(), 25);
  EXPECT_EQ(reps["bo"].claims(), 2);
  EXPECT_EQ(reps["bo"].reservations_made(), 1);
  EXPECT_EQ(reps["bo"].reservations_open(), 0);
  EXPECT_EQ(reps["bo"].reservation_signings(), 1);
  EXPECT_EQ(reps["bo"].reservation_signed_amount(), 5000);

  auto teams_health = groups(v1::GetPoolHealthRequest::GROUP_BY_TEAM);
  ASSERT_EQ(teams_health.size(), 2u);
  EXPECT_EQ(teams_health["t1"].releases_by_owner(), 1);
  EXPECT_EQ(teams_health["t2"].reservation_signings(), 1);
  EXPECT_EQ(teams_health["t2"].customers(), 2);

  auto regions = groups(v1::GetPoolHealthRequest::GROUP_BY_REGION);
  ASSERT_EQ(regions.size(), 2u);
  EXPECT_EQ(regions["north"].customers(), 2);
  EXPECT_EQ(regions["north"].private_pool(), 2);
  EXPECT_EQ(regions["north"].claims(), 2);
  EXPECT_EQ(regions["north"].releases_by_drop_protection(), 1);
  EXPECT_EQ(regions["north"].reservations_made(), 1);
  EXPECT_EQ(regions["north"].reservation_signings(), 1);
  EXPECT_EQ(regions["south"].customers(), 1);
  EXPECT_EQ(regions["south"].public_pool(), 1);
  EXPECT_EQ(regions["south"].releases_by_owner(), 1);

  // Ranked: bo claimed most; ann released most by drop protection, which
  // ranks last (lower is better).
  auto claims =
      BuildRanking(store_.get(), "acme", "pool.claims", v1::GetFunnelRequest::GROUP_BY_REP, 10, w);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->rows(0).group(), "bo");
  EXPECT_EQ(claims->rows(0).value(), 2);
  auto drops = BuildRanking(store_.get(), "acme", "pool.releases_by_drop_protection",
                            v1::GetFunnelRequest::GROUP_BY_TEAM, 10, w);
  ASSERT_TRUE(drops.ok()) << drops.status();
  EXPECT_TRUE(drops->ascending());
  ASSERT_EQ(drops->rows_size(), 2);
  EXPECT_EQ(drops->rows(0).group(), "t2");
  EXPECT_EQ(drops->rows(1).group(), "t1");
}

// Pool rules backtested over 60 days. The live policy (set before the
// window): SMB 30 days without a valid follow-up, 50 without a contract.
//   c1 ann, SMB, from day 0, valid touch day 10: live released day 41
//   c2 ann, SMB, from day 1, valid touches days 15 and 33, contract day 40
//   c3 bo,  KA,  from day 0, valid touch day 50
//   c4 bo from day 2, released by bo day 5, claimed by ann day 6, valid
//      touch day 25: live released day 57
class BacktestTest : public PoolHistoryTest {
 protected:
  void History() {
    PolicySet(50, -10);
    Created("c1", "ann", 50, 0);
    Created("c3", "bo", 50, 0, cev::SEGMENT_KA);
    Created("c2", "ann", 50, 1);
    Created("c4", "bo", 50, 2);
    Released("c4", "bo", cev::RELEASE_REASON_BY_OWNER, 5);
    Claimed("c4", "ann", 6);
    Touched("c1", true, 10);
    Touched("c2", true, 15);
    Touched("c1", false, 20);  // thin: not a follow-up
    Touched("c4", true, 25);
    Touched("c2", true, 33);
    Signed("c2", 40);
    Released("c1", "ann", cev::RELEASE_REASON_NO_VALID_FOLLOW_UP, 41);
    Touched("c3", true, 50);
    Released("c4", "ann", cev::RELEASE_REASON_NO_VALID_FOLLOW_UP, 57);
  }

  absl::StatusOr<v1::PoolRulesBacktest> Backtest(const cev::PolicySettings& proposal,
                                                 std::vector<std::string> paths) {
    v1::BacktestPoolRulesRequest request;
    *request.mutable_from() = ToTimestamp(Day(0));
    *request.mutable_to() = ToTimestamp(Day(60));
    *request.mutable_policy() = proposal;
    for (auto& p : paths) request.mutable_update_mask()->add_paths(p);
    return BacktestPoolRules(store_.get(), "acme", request, Day(100));
  }

  static std::map<std::string, v1::BacktestRepRow> ByRep(const v1::PoolRulesBacktest& b) {
    std::map<std::string, v1::BacktestRepRow> out;
    for (const auto& r : b.reps()) out[r.rep_id()] = r;
    return out;
  }
};

// 20 days without a follow-up, and at most 2 customers a rep:
//   c1: touch day 10 + 20 = day 30 (live: 41)
//   c4: ann's touch day 25 + 20 = day 45 (live: 57)
//   c2: touch day 15 + 20 = 35 > 33, touch day 33 + 20 = day 53 (live: kept)
//   ann's pool: c1, c2, then c4 on day 6 is refused (2 held).
TEST_F(BacktestTest, AShorterFollowUpWindowAndASmallerCapacityPerRep) {
  History();
  cev::PolicySettings proposal;
  proposal.set_smb_no_follow_up_days(20);
  proposal.set_default_capacity(2);
  auto b = Backtest(proposal, {"smb_no_follow_up_days", "default_capacity"});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->policy().smb_no_follow_up_days(), 20);
  EXPECT_EQ(b->policy().smb_no_contract_days(), 50);  // the live policy of then
  EXPECT_EQ(b->policy().default_capacity(), 2);
  auto reps = ByRep(*b);
  ASSERT_EQ(reps.size(), 2u);
  const v1::BacktestRepRow& ann = reps["ann"];
  EXPECT_EQ(ann.released_live(), 2);
  EXPECT_EQ(ann.released_proposed(), 3);
  EXPECT_EQ(ann.released_only_proposed(), 1);
  EXPECT_EQ(ann.kept_under_proposed(), 0);
  EXPECT_EQ(ann.acquired(), 3);
  EXPECT_EQ(ann.refused_proposed(), 1);
  EXPECT_EQ(ann.peak_pool_live(), 3);
  EXPECT_EQ(ann.peak_pool_proposed(), 2);
  const v1::BacktestRepRow& bo = reps["bo"];
  EXPECT_EQ(bo.released_live(), 0);
  EXPECT_EQ(bo.released_proposed(), 0);
  EXPECT_EQ(bo.acquired(), 2);
  EXPECT_EQ(bo.refused_proposed(), 0);
  EXPECT_EQ(bo.peak_pool_live(), 2);
  EXPECT_EQ(b->total().released_proposed(), 3);
  EXPECT_EQ(b->total().acquired(), 5);
  EXPECT_EQ(b->total().refused_proposed(), 1);

  ASSERT_EQ(b->releases_size(), 3);
  EXPECT_EQ(b->releases(0).customer_id(), "c1");
  EXPECT_EQ(FromTimestamp(b->releases(0).release_time()), Day(30));
  EXPECT_EQ(b->releases(0).reason(), cev::RELEASE_REASON_NO_VALID_FOLLOW_UP);
  EXPECT_EQ(FromTimestamp(b->releases(0).live_release_time()), Day(41));
  EXPECT_EQ(b->releases(1).customer_id(), "c4");
  EXPECT_EQ(b->releases(1).rep_id(), "ann");
  EXPECT_EQ(FromTimestamp(b->releases(1).release_time()), Day(45));
  EXPECT_EQ(FromTimestamp(b->releases(1).live_release_time()), Day(57));
  EXPECT_EQ(b->releases(2).customer_id(), "c2");
  EXPECT_EQ(FromTimestamp(b->releases(2).release_time()), Day(53));
  EXPECT_FALSE(b->releases(2).has_live_release_time());
}

// 45 days: c1 (touch day 10) would have lasted to its contract deadline,
// day 50, past the live release on day 41; c4 (ann from day 6) reaches its
// contract deadline on day 56, before the live release on day 57.
TEST_F(BacktestTest, ALongerFollowUpWindowKeepsWhatTheLiveRulesReleased) {
  History();
  cev::PolicySettings proposal;
  proposal.set_smb_no_follow_up_days(45);
  auto b = Backtest(proposal, {"smb_no_follow_up_days"});
  ASSERT_TRUE(b.ok()) << b.status();
  const v1::BacktestRepRow ann = ByRep(*b)["ann"];
  EXPECT_EQ(ann.released_live(), 2);
  EXPECT_EQ(ann.released_proposed(), 1);
  EXPECT_EQ(ann.kept_under_proposed(), 1);
  EXPECT_EQ(ann.released_only_proposed(), 0);
  EXPECT_EQ(ann.refused_proposed(), 0);  // capacity 50 as it stood
  ASSERT_EQ(b->releases_size(), 1);
  EXPECT_EQ(b->releases(0).customer_id(), "c4");
  EXPECT_EQ(b->releases(0).reason(), cev::RELEASE_REASON_NO_SIGNED_CONTRACT);
  EXPECT_EQ(FromTimestamp(b->releases(0).release_time()), Day(56));
}

// The live policy replayed agrees with what happened: every live release
// is found, a day before it was carried out, and nothing else.
TEST_F(BacktestTest, TheLivePolicyReplayedAgreesWithTheHistory) {
  History();
  auto b = Backtest({}, {});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->total().released_live(), 2);
  EXPECT_EQ(b->total().released_proposed(), 2);
  EXPECT_EQ(b->total().released_only_proposed(), 0);
  EXPECT_EQ(b->total().kept_under_proposed(), 0);
  ASSERT_EQ(b->releases_size(), 2);
  EXPECT_EQ(FromTimestamp(b->releases(0).release_time()), Day(40));
  EXPECT_EQ(FromTimestamp(b->releases(1).release_time()), Day(55));
}

TEST_F(BacktestTest, AProposalTheCustomerServiceWouldRefuseIsRefused) {
  History();
  cev::PolicySettings proposal;
  proposal.set_smb_no_follow_up_days(0);
  auto b = Backtest(proposal, {"smb_no_follow_up_days"});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().ToString().find("policy.smb_no_follow_up_days"), std::string::npos)
      << b.status();
  b = Backtest(proposal, {"no_such_rule"});
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().ToString().find("update_mask"), std::string::npos) << b.status();
  v1::BacktestPoolRulesRequest empty;
  *empty.mutable_from() = ToTimestamp(Day(10));
  *empty.mutable_to() = ToTimestamp(Day(10));
  EXPECT_EQ(BacktestPoolRules(store_.get(), "acme", empty, Day(100)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// More proposed releases than a response lists: the earliest 1,000 by time
// (then customer), every one of them counted, whichever customer the rows
// hold first.
TEST_F(BacktestTest, TheEarliestThousandReleasesAreListedAndEveryOneCounted) {
  PolicySet(50, -10);
  for (int i = 0; i < 1005; ++i) Created(absl::StrFormat("c%04d", i), "ann", 50, 1);
  Created("z-first", "bo", 50, 0);  // last in the rows, first to be released
  cev::PolicySettings proposal;
  proposal.set_smb_no_follow_up_days(20);
  auto b = Backtest(proposal, {"smb_no_follow_up_days"});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->total().released_proposed(), 1006);
  EXPECT_EQ(b->total().released_only_proposed(), 1006);
  EXPECT_TRUE(b->releases_truncated());
  ASSERT_EQ(b->releases_size(), 1000);
  EXPECT_EQ(b->releases(0).customer_id(), "z-first");
  EXPECT_EQ(FromTimestamp(b->releases(0).release_time()), Day(20));
  EXPECT_EQ(b->releases(1).customer_id(), "c0000");
  EXPECT_EQ(b->releases(999).customer_id(), "c0998");
  EXPECT_EQ(FromTimestamp(b->releases(999).release_time()), Day(21));
}

// What the backtest keeps of a customer's history carries no free text.
TEST_F(BacktestTest, TheReplayedHistoryKeepsNoNotes) {
  History();
  std::string all;
  ASSERT_TRUE(store_
                  ->Scan("", "",
                         [&](absl::string_view, absl::string_view value) {
                           all.append(value.data(), value.size());
                           return true;
                         })
                  .ok());
  EXPECT_EQ(all.find("a note the backtest never stores"), std::string::npos);
}

}  // namespace
}  // namespace crm::analytics
