#include "services/customer/domain/tiering.h"

#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
absl::Duration Days(double d) { return absl::Hours(24 * d); }

SalesHistory Sales(const std::string& id, std::map<int32_t, int64_t> by_year) {
  return {id, std::move(by_year)};
}

TEST(TieringTest, TopTwentyPercentOfAllCustomersAreAGrowersAreB) {
  const std::vector<SalesHistory> h = {
      Sales("big", {{2025, 900}}),
      Sales("bigger", {{2025, 1000}}),
      Sales("tied", {{2025, 900}}),  // loses the tie on id
      Sales("grower", {{2023, 100}, {2024, 110}, {2025, 121}}),
      Sales("almost", {{2023, 100}, {2024, 109}, {2025, 200}}),  // 9% in 2024
      Sales("old", {{2024, 5000}}),                              // nothing in 2025
  };
  // 10 customers in all (4 without any sales): the top 2 are A.
  auto tiers = AssignTiers(h, 10);
  EXPECT_EQ(tiers["bigger"], ev::TIER_A);
  EXPECT_EQ(tiers["big"], ev::TIER_A);
  EXPECT_EQ(tiers.count("tied"), 0u);
  EXPECT_EQ(tiers["grower"], ev::TIER_B);
  EXPECT_EQ(tiers.count("almost"), 0u);
  EXPECT_EQ(tiers.count("old"), 0u);
  // With 11 customers, 20% rounds up to 3.
  EXPECT_EQ(AssignTiers(h, 11)["tied"], ev::TIER_A);
  // Nobody with sales: everyone is C.
  EXPECT_TRUE(AssignTiers({}, 10).empty());
}

TEST(TieringTest, ATopCustomerIsANotB) {
  auto tiers = AssignTiers({Sales("g", {{2023, 100}, {2024, 200}, {2025, 400}})}, 1);
  EXPECT_EQ(tiers["g"], ev::TIER_A);
}

TEST(TieringTest, ScoreWeighsCompletenessTierAndRecency) {
  EXPECT_EQ(CustomerScore(100, ev::TIER_A, kNow - Days(10), kNow), 100);
  EXPECT_EQ(CustomerScore(57, ev::TIER_C, absl::InfinitePast(), kNow), 29);
  EXPECT_EQ(CustomerScore(0, ev::TIER_B, kNow - Days(30), kNow), 40);
  EXPECT_EQ(CustomerScore(0, ev::TIER_B, kNow - Days(31), kNow), 30);
  EXPECT_EQ(CustomerScore(0, ev::TIER_C, kNow - Days(91), kNow), 0);
}

TEST(TieringTest, SegmentRulesMatchEveryConditionSet) {
  SegmentCandidate c{{"vip", "steel"}, ev::TIER_B, "Berlin", kNow - Days(40), 55};
  ev::SegmentRule rule;
  rule.add_tags("vip");
  rule.add_tiers(ev::TIER_A);
  rule.add_tiers(ev::TIER_B);
  rule.set_region("berlin");
  *rule.mutable_last_touch_before() = ToTimestamp(kNow - Days(30));
  rule.set_score_above(54);
  EXPECT_TRUE(InSegment(rule, c));
  rule.set_score_above(55);  // above, not at
  EXPECT_FALSE(InSegment(rule, c));
  rule.clear_score_above();
  rule.add_tags("chemicals");
  EXPECT_FALSE(InSegment(rule, c));
  rule.clear_tags();
  *rule.mutable_last_touch_before() = ToTimestamp(kNow - Days(50));
  EXPECT_FALSE(InSegment(rule, c));
  c.last_valid_touch = absl::InfinitePast();  // never followed up: before anything
  EXPECT_TRUE(InSegment(rule, c));
  c.tier = ev::TIER_C;
  EXPECT_FALSE(InSegment(rule, c));
}

TEST(TieringTest, SavingASegmentNamesEachBadField) {
  SaveSegment cmd{"s1", " ", {}, "rep-1", kNow};
  cmd.rule.add_tiers(ev::TIER_UNSPECIFIED);
  cmd.rule.set_score_above(101);
  auto saved = Decide(cmd);
  ASSERT_EQ(saved.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> fields;
  const auto br = BadRequestOf(saved.status());
  for (const auto& v : br.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields, (std::vector<std::string>{"segment.display_name", "segment.rule.tiers[0]",
                                              "segment.rule.score_above"}));
  cmd.display_name = "Neglected A";
  cmd.rule.set_tiers(0, ev::TIER_A);
  cmd.rule.set_score_above(10);
  ASSERT_TRUE(Decide(cmd).ok());
  EXPECT_EQ(Decide(cmd)->display_name(), "Neglected A");
}

}  // namespace
}  // namespace crm::customer
