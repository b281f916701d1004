// The sales-organisation simulator against the whole platform on simulated
// time (a day a second): fourteen days of leads, claims, conversions,
// deals won and lost, contracts with milestones, payments, touches,
// releases, claims and reservations, conflicts, after which analytics, fed
// only by the topics, agrees with what the simulator did (crmctl checks the
// funnel, receivables and pool health and exits 0). The events carry
// simulated time: the funnel as of the second day counts fewer leads than
// at the end.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "libs/clock/timestamp.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

namespace av1 = crm::analytics::v1;

TEST(SimulatorE2eTest, AnalyticsAgreesWithFourteenSimulatedDays) {
  const absl::Time start = absl::FromCivil(absl::CivilDay(2026, 3, 2), absl::UTCTimeZone());
  const std::vector<std::string> clock = {
      "--clock-start=" + absl::FormatTime(absl::RFC3339_full, start, absl::UTCTimeZone()),
      "--clock-origin=" + absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()),
      "--clock-rate=86400"};
  Platform p;
  p.SetFlagsForAll(clock);
  auto channels = p.StartAll(
      {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});

  std::vector<std::string> argv = p.CrmctlArgv(CRMCTL_BIN, "acme");
  argv.insert(argv.end(), {"simulate", "--days=14", "--seed=3", "--reps=4", "--leads-per-day=4"});
  argv.insert(argv.end(), clock.begin(), clock.end());
  auto sim = Process::Start(argv, p.dir() + "/simulate.log");
  ASSERT_TRUE(sim.ok()) << sim.status();
  const int exit = sim->Wait();
  const std::string out = ReadFile(p.dir() + "/simulate.log");
  ASSERT_EQ(exit, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "analytics agrees")) << out;
  // It did a bit of everything.
  for (const char* what : {" won for ", " contracts signed", " touches"}) {
    EXPECT_TRUE(absl::StrContains(out, what)) << what << "\n" << out;
  }
  for (const char* none : {" 0 contracts signed", " 0 paid,", "delivered; 0 touches", " 0 released",
                           " 0 reserved", " 0 conflicts filed", "0 of 0 milestones"}) {
    EXPECT_FALSE(absl::StrContains(out, none)) << none << "\n" << out;
  }
  EXPECT_TRUE(absl::StrContains(out, "calls: ")) << out;

  // Simulated time: as of the second day fewer leads had arrived. The
  // simulation's first day is the clock's time when it began (it prints
  // it), some simulated days after the clock's start while the platform
  // started.
  const size_t from = out.find(" days from ");
  ASSERT_NE(from, std::string::npos) << out;
  const std::string first_day = out.substr(from + 11, out.find(": ", from) - from - 11);
  absl::Time day0;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, first_day, &day0, &err)) << first_day << err;
  EXPECT_GE(day0, start);
  auto analytics = av1::AnalyticsService::NewStub(channels["analytics"]);
  auto leads_as_of = [&](absl::Time as_of) {
    grpc::ClientContext ctx;
    Authorize(ctx, "analyst");
    av1::GetFunnelRequest req;
    *req.mutable_period()->mutable_as_of() = ToTimestamp(as_of);
    av1::Funnel funnel;
    EXPECT_TRUE(analytics->GetFunnel(&ctx, req, &funnel).ok());
    return funnel.rows_size() > 0 ? funnel.rows(0).leads() : 0;
  };
  const int64_t early = leads_as_of(day0 + absl::Hours(36));
  const int64_t late = leads_as_of(day0 + absl::Hours(24 * 15));
  EXPECT_GT(early, 0);
  EXPECT_LT(early, late);
}

}  // namespace
}  // namespace crm::test
