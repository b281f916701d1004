// Rebuilding analytics from scratch gives the same read models, byte for
// byte: with the demo's history on the topics (leads, conversions, pools,
// deals, a contract), a second analytics process starts with an empty data
// directory and reads every topic from offset zero. Once both have applied
// the same events, every row of their read stores is equal. And the same
// holds for an analytics process killed -9 again and again while the
// history was being written: the projections' crashes leave nothing
// doubled, missing or half-applied.

#include <map>
#include <string>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/ops/v1/ops_service.grpc.pb.h"
#include "libs/readstore/read_store.h"
#include "libs/testing/auth.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

// The analytics process's count of applied events, from its metrics.
int64_t Applied(Platform& p, const std::string& name) {
  const std::string metrics = HttpGet(p.MetricsPort(name), "/metrics");
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (!absl::ConsumePrefix(&line, "crm_projection_applied_events ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line, &v)) return static_cast<int64_t>(v);
  }
  return -1;
}

std::map<std::string, std::string> Rows(const std::string& dir) {
  std::map<std::string, std::string> rows;
  auto store = readstore::ReadStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return rows;
  EXPECT_TRUE((*store)
                  ->Scan("", "",
                         [&](absl::string_view k, absl::string_view v) {
                           rows.emplace(std::string(k), std::string(v));
                           return true;
                         })
                  .ok());
  return rows;
}

// Every row of the read store at `live` equals the one at `rebuilt`.
void ExpectSameRows(const std::string& live, const std::string& rebuilt) {
  const auto live_rows = Rows(live);
  const auto rebuilt_rows = Rows(rebuilt);
  EXPECT_GT(live_rows.size(), 50u);
  EXPECT_EQ(live_rows.size(), rebuilt_rows.size());
  int differing = 0;
  for (const auto& [key, value] : live_rows) {
    auto it = rebuilt_rows.find(key);
    if (it != rebuilt_rows.end() && it->second == value) continue;
    if (++differing <= 5) {
      ADD_FAILURE() << "row " << absl::CHexEscape(key) << " differs: live "
                    << absl::CHexEscape(value) << ", rebuilt "
                    << (it == rebuilt_rows.end() ? "missing" : absl::CHexEscape(it->second));
    }
  }
  EXPECT_EQ(differing, 0);
}

// Waits until both analytics processes stopped applying events (their
// counts unchanged for three seconds; with `same_count`, also equal: neither
// restarted, so both counted every event), then stops them.
void SettleAndStop(Platform& p, bool same_count) {
  int64_t live = -1, rebuilt = -1;
  int still = 0;
  EXPECT_TRUE(Eventually(
      [&] {
        const int64_t l = Applied(p, "analytics"), r = Applied(p, "analytics-rebuilt");
        const bool steady = l >= 0 && r > 0 && l == live && r == rebuilt && (!same_count || l == r);
        still = steady ? still + 1 : 0;
        live = l;
        rebuilt = r;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        return still >= 3;
      },
      absl::Seconds(120)))
      << "live applied " << live << ", rebuilt applied " << rebuilt;
  p.process("analytics").Stop(SIGTERM);
  p.process("analytics-rebuilt").Stop(SIGTERM);
}

// The progress of analytics process `name` as the operators' API reports
// it, once every consumer is caught up (and, with `consumed`, has read
// something: the demo's events reached every topic).
ops::v1::ProjectionProgress CaughtUp(Platform& p, const std::string& name, bool consumed = false) {
  auto stub = ops::v1::OpsService::NewStub(p.Channel(name));
  ops::v1::ProjectionProgress progress;
  EXPECT_TRUE(Eventually(
      [&] {
        grpc::ClientContext ctx;
        Authorize(ctx, "ops", "platform", "operator");
        progress.Clear();
        if (!stub->GetProjectionProgress(&ctx, {}, &progress).ok()) return false;
        for (const auto& c : progress.consumers()) {
          if (!c.caught_up() || (consumed && c.consumed() == 0)) return false;
        }
        return progress.consumers_size() > 0;
      },
      absl::Seconds(120)))
      << progress.DebugString();
  return progress;
}

// Every consumer read what its topic held at connect, all of it.
void ExpectWholeTopicsRead(const ops::v1::ProjectionProgress& progress) {
  std::map<std::string, int64_t> per_topic;
  ASSERT_EQ(progress.consumers_size(), 5) << progress.DebugString();
  for (const auto& c : progress.consumers()) {
    EXPECT_EQ(c.catch_up_left(), 0) << c.projection();
    EXPECT_GT(c.catch_up_events(), 0) << c.projection();
    EXPECT_GE(c.consumed(), c.catch_up_events()) << c.projection();
    EXPECT_GT(c.events_per_second(), 0) << c.projection();
    per_topic[c.topic()] = c.catch_up_events();
  }
  EXPECT_EQ(per_topic.size(), 4u);  // lead (twice), opportunity, customer, contract
}

TEST(RebuildE2eTest, AnalyticsRebuiltFromTheTopicsIsByteIdenticalToTheLiveOne) {
  Platform p;
  p.StartAll(
      {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});
  p.LoadDemo(CRMCTL_BIN, "acme", 12);
  CaughtUp(p, "analytics", /*consumed=*/true);  // the demo is on every topic

  p.Start("analytics-rebuilt", CRM_ANALYTICS_BIN);
  ExpectWholeTopicsRead(CaughtUp(p, "analytics-rebuilt"));
  SettleAndStop(p, /*same_count=*/true);
  ExpectSameRows(p.dir() + "/analytics/read", p.dir() + "/analytics-rebuilt/read");

  // The live one rebuilt in place by its flag: same rows again.
  p.Start("analytics", CRM_ANALYTICS_BIN, {"--rebuild-read-models=true"});
  ExpectWholeTopicsRead(CaughtUp(p, "analytics"));
  p.process("analytics").Stop(SIGTERM);
  ExpectSameRows(p.dir() + "/analytics/read", p.dir() + "/analytics-rebuilt/read");
}

// Projector crashes: analytics is killed -9 eight times while the demo's
// history is being written, restarted each time, and ends with the same
// rows as a process that read the finished topics once.
TEST(RebuildE2eTest, AnalyticsKilledWhileApplyingEqualsARebuild) {
  Platform p;
  p.StartAll(
      {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});
  std::thread demo([&] { p.LoadDemo(CRMCTL_BIN, "acme", 40); });
  absl::BitGen gen;
  for (int kill = 0; kill < 8; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(absl::Uniform(gen, 100, 600)));
    p.process("analytics").Stop(SIGKILL);
    p.Start("analytics", CRM_ANALYTICS_BIN);
  }
  demo.join();
  ASSERT_FALSE(::testing::Test::HasFailure());
  p.Start("analytics-rebuilt", CRM_ANALYTICS_BIN);
  SettleAndStop(p, /*same_count=*/false);
  ExpectSameRows(p.dir() + "/analytics/read", p.dir() + "/analytics-rebuilt/read");
}

}  // namespace
}  // namespace crm::test
