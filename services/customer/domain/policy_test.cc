#include "services/customer/domain/policy.h"

#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  const auto br = BadRequestOf(s);
  for (const auto& v : br.field_violations()) out.push_back(v.field());
  return out;
}

TEST(PolicyTest, SettingsRoundTripTheDefaults) {
  const ev::PolicySettings s = ToSettings(Policy{});
  EXPECT_EQ(s.default_capacity(), 50);
  EXPECT_EQ(s.smb_no_follow_up_days(), 30);
  EXPECT_EQ(s.ka_no_contract_days(), 180);
  EXPECT_EQ(ToSettings(FromSettings(s)).SerializeAsString(), s.SerializeAsString());
}

TEST(PolicyTest, UpdateChangesOnlyTheMaskedFields) {
  UpdatePolicy cmd;
  cmd.settings.set_smb_no_follow_up_days(10);
  cmd.settings.set_default_capacity(7);  // not in the mask
  cmd.settings.add_mandatory_fields("company_name");
  cmd.settings.add_mandatory_fields("industry");
  cmd.settings.add_banned_phrases("  Will Call Back ");
  cmd.paths = {"smb_no_follow_up_days", "mandatory_fields", "banned_phrases"};
  cmd.user = "admin-1";
  cmd.now = kNow;
  auto set = Decide(Policy{}, cmd);
  ASSERT_TRUE(set.ok()) << set.status();
  const Policy p = FromSettings(set->settings());
  EXPECT_EQ(p.smb_no_follow_up, absl::Hours(24 * 10));
  EXPECT_EQ(p.default_capacity, 50);
  EXPECT_EQ(p.mandatory_fields, (std::vector<std::string>{"company_name", "industry"}));
  EXPECT_EQ(p.banned_phrases, (std::vector<std::string>{"will call back"}));
  EXPECT_EQ(set->paths_size(), 3);
}

TEST(PolicyTest, BadValuesAndPathsAreNamed) {
  UpdatePolicy cmd;
  cmd.paths = {"nonsense"};
  EXPECT_EQ(Fields(Decide(Policy{}, cmd).status()), (std::vector<std::string>{"update_mask"}));
  cmd.paths = {"default_capacity", "mandatory_fields", "low_completeness", "scored_fields"};
  cmd.settings.set_default_capacity(0);
  cmd.settings.add_mandatory_fields("industry");  // company_name dropped
  cmd.settings.set_low_completeness(90);          // above high (80)
  cmd.settings.add_scored_fields("shoe_size");
  EXPECT_EQ(Fields(Decide(Policy{}, cmd).status()),
            (std::vector<std::string>{"policy.default_capacity", "policy.scored_fields[0]",
                                      "policy.mandatory_fields", "policy.low_completeness"}));
}

}  // namespace
}  // namespace crm::customer
