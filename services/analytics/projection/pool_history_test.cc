// Ownership, pools and pool health from customer events, through the
// projection runner into RocksDB, asked now and as of earlier days.

#include "services/analytics/projection/pool_history.h"

#include <map>

#include "crm/customer/events/v1/customer_events.pb.h"
#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/testing/temp_dir.h"

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
    auto ne = *eventstore::ToNewEvent(wrapper);
    readstore::Envelope e;
    e.source = "crm.customer.events.v1";
    e.offset = offset_++;
    e.event.set_tenant("acme");
    e.event.set_stream_id(stream);
    e.event.set_version(++versions_[stream]);
    e.event.set_type(ne.type);
    e.event.set_payload(ne.payload);
    e.event.set_event_id(absl::StrCat("e", e.offset));
    *e.event.mutable_time() = ToTimestamp(when);
    ASSERT_TRUE(runner_->ApplyBatch({e}).ok());
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
  void Created(const std::string& customer, const std::string& owner, int completeness, int day) {
    cev::CustomerEvent e;
    e.mutable_created()->set_customer_id(customer);
    e.mutable_created()->set_owner_id(owner);
    e.mutable_created()->set_completeness(completeness);
    Move(customer, e, "", owner, Day(day));
  }
  void Released(const std::string& customer, const std::string& owner, cev::ReleaseReason why,
                int day) {
    cev::CustomerEvent e;
    e.mutable_released()->set_customer_id(customer);
    e.mutable_released()->set_previous_owner_id(owner);
    e.mutable_released()->set_reason(why);
    Move(customer, e, owner, "", Day(day));
  }
  void Claimed(const std::string& customer, const std::string& rep, int day) {
    cev::CustomerEvent e;
    e.mutable_claimed()->set_customer_id(customer);
    e.mutable_claimed()->set_owner_id(rep);
    Move(customer, e, "", rep, Day(day));
  }

  test::TempDir dir_;
  std::unique_ptr<readstore::ReadStore> store_;
  PoolHistoryProjection projection_;
  std::unique_ptr<readstore::ProjectionRunner> runner_;
  int64_t offset_ = 0;
  std::map<std::string, int64_t> versions_;
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
template <typename T>
std::string Text(const absl::StatusOr<T>& answer) {
  return answer.ok() ? answer->SerializeAsString() : answer.status().ToString();
}

// Ownership, pools and pool health as of a moment equal the answers of a
// store fed only the events up to that moment.
TEST_F(PoolHistoryTest, AsOfAnswersEqualAReplayCutAtThatMoment) {
  auto history = [&] {
    Created("c1", "ann", 40, 0);
    Created("c2", "ann", 90, 1);
    Created("c3", "", 10, 2);
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
    versions_.clear();
    cut_ = Day(day);
    history();
    const absl::Time at = Day(day);
    for (const char* c : {"c1", "c2", "c3"}) {
      EXPECT_EQ(Text(BuildOwnership(full.get(), "acme", c, at)),
                Text(BuildOwnership(store_.get(), "acme", c, at)))
          << c << " day " << day;
    }
    for (const char* rep : {"ann", "bo", "cy"}) {
      EXPECT_EQ(Text(BuildRepPool(full.get(), "acme", rep, at)),
                Text(BuildRepPool(store_.get(), "acme", rep, at)))
          << rep << " day " << day;
    }
    for (const Window& w : {Window{absl::InfinitePast(), at, at}, Window{Day(30), at, at}}) {
      const auto health = BuildPoolHealth(full.get(), "acme", w);
      ASSERT_TRUE(health.ok()) << health.status();
      EXPECT_EQ(Text(health), Text(BuildPoolHealth(store_.get(), "acme", w))) << "day " << day;
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

}  // namespace
}  // namespace crm::analytics
