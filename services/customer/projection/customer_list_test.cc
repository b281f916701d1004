#include "services/customer/projection/customer_list.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/eventstore/codec.h"
#include "libs/readstore/read_store.h"
#include "libs/testing/temp_dir.h"

namespace crm::customer {
namespace {

class TierCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *readstore::ReadStore::Open(dir_.path() + "/read");
    runner_ = std::make_unique<readstore::ProjectionRunner>(store_.get(), &list_);
  }

  void Apply(const std::string& tenant, const std::string& customer, const ev::CustomerEvent& e) {
    readstore::Envelope env;
    env.source = "log";
    env.offset = ++position_;
    auto stored = eventstore::ToNewEvent(e);
    ASSERT_TRUE(stored.ok()) << stored.status();
    env.event.set_tenant(tenant);
    env.event.set_stream_id(customer);
    env.event.set_version(++versions_[tenant + "/" + customer]);
    env.event.set_position(position_);
    env.event.set_type(stored->type);
    env.event.set_payload(stored->payload);
    env.event.set_event_id(absl::StrCat("ev-", position_));
    ASSERT_TRUE(runner_->ApplyBatch({env}).ok());
  }

  void Create(const std::string& tenant, const std::string& customer) {
    ev::CustomerEvent e;
    e.mutable_created()->set_customer_id(customer);
    Apply(tenant, customer, e);
  }

  void Sales(const std::string& tenant, const std::string& customer, int32_t year, int64_t amount) {
    ev::CustomerEvent e;
    e.mutable_annual_sales_recorded()->mutable_sales()->set_year(year);
    e.mutable_annual_sales_recorded()->mutable_sales()->set_amount(amount);
    Apply(tenant, customer, e);
  }

  ev::Tier TierOf(TierCache& cache, const std::string& tenant, const std::string& customer) {
    auto tiers = cache.Get(tenant);
    EXPECT_TRUE(tiers.ok()) << tiers.status();
    if (!tiers.ok()) return ev::TIER_UNSPECIFIED;
    auto it = (*tiers)->find(customer);
    return it == (*tiers)->end() ? ev::TIER_C : it->second;
  }

  test::TempDir dir_;
  CustomerListProjection list_;
  std::unique_ptr<readstore::ReadStore> store_;
  std::unique_ptr<readstore::ProjectionRunner> runner_;
  int64_t position_ = 0;
  std::map<std::string, int64_t> versions_;
};

// Five customers each: the one with the most sales is A (the top fifth).
TEST_F(TierCacheTest, TenantsPastTheBoundAreDroppedAndWorkedOutAgainWhenAsked) {
  for (const std::string tenant : {"t1", "t2", "t3"}) {
    for (int i = 0; i < 5; ++i) Create(tenant, absl::StrCat("c", i));
  }
  Sales("t1", "c1", 2026, 500);
  Sales("t2", "c2", 2026, 500);
  Sales("t3", "c3", 2026, 500);

  TierCache cache(store_.get(), /*max_tenants=*/2);
  EXPECT_EQ(TierOf(cache, "t1", "c1"), ev::TIER_A);
  EXPECT_EQ(TierOf(cache, "t2", "c2"), ev::TIER_A);
  EXPECT_EQ(TierOf(cache, "t1", "c2"), ev::TIER_C);  // t1 asked for again: t2 is older
  EXPECT_EQ(TierOf(cache, "t3", "c3"), ev::TIER_A);  // drops t2
  EXPECT_EQ(cache.tenants_kept(), 2u);

  // A sales fact applied since moves the tier of a kept tenant and of the
  // dropped one alike.
  Sales("t1", "c4", 2026, 900);
  Sales("t2", "c0", 2026, 900);
  EXPECT_EQ(TierOf(cache, "t1", "c4"), ev::TIER_A);
  EXPECT_EQ(TierOf(cache, "t1", "c1"), ev::TIER_C);
  EXPECT_EQ(TierOf(cache, "t2", "c0"), ev::TIER_A);
  EXPECT_EQ(TierOf(cache, "t2", "c2"), ev::TIER_C);
  EXPECT_EQ(cache.tenants_kept(), 2u);

  // Ten customers: the top fifth is two.
  for (int i = 5; i < 10; ++i) Create("t1", absl::StrCat("c", i));
  EXPECT_EQ(TierOf(cache, "t1", "c1"), ev::TIER_A);
}

}  // namespace
}  // namespace crm::customer
