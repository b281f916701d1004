#include "libs/clock/scaled_clock.h"

#include "gtest/gtest.h"

namespace crm {
namespace {

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

TEST(ScaledClockTest, RunsFromTheStartAtTheRate) {
  const absl::Time origin = absl::Now();
  ScaledClock clock(At("2026-01-05T00:00:00Z"), origin, 86400);
  EXPECT_GE(clock.Now(), At("2026-01-05T00:00:00Z"));
  EXPECT_LT(clock.Now(), At("2026-01-05T00:00:00Z") + absl::Hours(24 * 30));
  EXPECT_EQ(clock.CatchUpTime(), absl::InfiniteFuture());
  // A simulated day later is a wall second later.
  EXPECT_EQ(clock.WallTimeAt(At("2026-01-06T00:00:00Z")), origin + absl::Seconds(1));
}

TEST(ScaledClockTest, CatchingUpTurnsIntoWallTime) {
  // Ten days ago, at 86,400 times the wall clock: it reaches the wall clock
  // after ten days / 86,399 and follows it from then on.
  const absl::Time origin = absl::Now();
  const absl::Time start = origin - absl::Hours(240);
  ScaledClock clock(start, origin, 86400, true);
  const absl::Time up = clock.CatchUpTime();
  EXPECT_EQ(up, origin + absl::Hours(240) / 86399);
  EXPECT_EQ(clock.WallTimeAt(start + absl::Hours(24)), origin + absl::Seconds(1));
  EXPECT_EQ(clock.WallTimeAt(up + absl::Hours(1)), up + absl::Hours(1));
  EXPECT_LE(clock.Now(), absl::Now());

  // Started at the wall clock: it is wall time at once.
  ScaledClock already(origin, origin, 100, true);
  EXPECT_EQ(already.CatchUpTime(), origin);
  const absl::Time before = absl::Now();
  const absl::Time now = already.Now();
  EXPECT_GE(now, before);
  EXPECT_LE(now, absl::Now());
}

TEST(ScaledClockTest, SettingsAreParsedOrRefusedByName) {
  auto none = ScaledClockFromSettings("", "", "", "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);

  auto clock =
      ScaledClockFromSettings("2026-01-05T00:00:00Z", "2026-12-01T00:00:00Z", "8640", "true");
  ASSERT_TRUE(clock.ok()) << clock.status();
  EXPECT_EQ((*clock)->WallTimeAt(At("2026-01-05T00:00:10Z")),
            At("2026-12-01T00:00:00Z") + absl::Milliseconds(10) / 8.64);
  EXPECT_NE((*clock)->CatchUpTime(), absl::InfiniteFuture());

  const struct {
    const char *start, *origin, *rate, *catch_up, *named;
  } bad[] = {{"yesterday", "", "", "", "--clock-start"},
             {"2026-01-05T00:00:00Z", "noon", "", "", "--clock-origin"},
             {"2026-01-05T00:00:00Z", "", "0", "", "--clock-rate"},
             {"2026-01-05T00:00:00Z", "", "fast", "", "--clock-rate"},
             {"2026-01-05T00:00:00Z", "", "2e6", "", "--clock-rate"},
             {"2026-01-05T00:00:00Z", "", "", "maybe", "--clock-catch-up"}};
  for (const auto& b : bad) {
    auto s = ScaledClockFromSettings(b.start, b.origin, b.rate, b.catch_up).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << b.named;
    EXPECT_NE(s.message().find(b.named), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace crm
