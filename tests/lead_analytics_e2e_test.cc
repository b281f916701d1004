// End to end: broker, lead and analytics as separate processes. Leads created
// over gRPC from several threads are listed by the lead service and counted by
// analytics exactly; kill -9 of either service under load loses nothing and
// counts nothing twice.

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"
#include "tests/platform.h"

namespace crm {
namespace {

using crm::analytics::v1::AnalyticsService;
using crm::lead::v1::LeadService;

using test::Platform;

void Tenant(grpc::ClientContext& ctx, const std::string& tenant = "acme") {
  test::As(ctx, "rep-1", tenant);
}

// Creates a lead, retrying with the same request id until acknowledged; gives
// up (a test failure, not a hang) after 90 s.
std::string CreateUntilAcknowledged(LeadService::Stub& stub, const std::string& request_id,
                                    const std::string& channel) {
  const absl::Time give_up = absl::Now() + absl::Seconds(90);
  while (absl::Now() < give_up) {
    crm::lead::v1::CreateLeadRequest req;
    req.set_request_id(request_id);
    req.mutable_lead()->set_channel_id(channel);
    req.mutable_lead()->set_company_name("Company " + request_id);
    req.mutable_lead()->set_email("buyer@example.com");
    crm::lead::v1::Lead lead;
    grpc::ClientContext ctx;
    Tenant(ctx);
    grpc::Status s = stub.CreateLead(&ctx, req, &lead);
    if (s.ok()) return lead.lead_id();
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
        << s.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "never acknowledged: " << request_id;
  return "";
}

std::map<std::string, int64_t> Counts(AnalyticsService::Stub& stub) {
  crm::analytics::v1::GetLeadCountsByChannelResponse resp;
  grpc::ClientContext ctx;
  Tenant(ctx);
  if (!stub.GetLeadCountsByChannel(&ctx, {}, &resp).ok()) return {};
  std::map<std::string, int64_t> out;
  for (const auto& c : resp.counts()) out[c.channel_id()] = c.lead_count();
  return out;
}

std::vector<std::string> ListAll(LeadService::Stub& stub) {
  std::vector<std::string> ids;
  std::string token;
  do {
    crm::lead::v1::ListLeadsRequest req;
    req.set_page_size(37);
    req.set_page_token(token);
    crm::lead::v1::ListLeadsResponse resp;
    grpc::ClientContext ctx;
    Tenant(ctx);
    if (!stub.ListLeads(&ctx, req, &resp).ok()) return {};
    for (const auto& l : resp.leads()) ids.push_back(l.lead_id());
    token = resp.next_page_token();
  } while (!token.empty());
  return ids;
}

struct Acked {
  std::mutex mu;
  std::map<std::string, std::string> channel_of;  // lead id -> channel
  void Add(const std::string& id, const std::string& channel) {
    std::lock_guard<std::mutex> l(mu);
    channel_of[id] = channel;
  }
  std::map<std::string, int64_t> Expected() {
    std::lock_guard<std::mutex> l(mu);
    std::map<std::string, int64_t> out;
    for (const auto& [id, ch] : channel_of) ++out[ch];
    return out;
  }
};

TEST(LeadAnalyticsE2eTest, LeadsAreCountedExactlyOnceThroughCrashes) {
  Platform p;
  p.StartBroker();
  p.Start("lead", CRM_LEAD_BIN);
  p.Start("analytics", CRM_ANALYTICS_BIN);
  auto leads = LeadService::NewStub(p.Channel("lead"));
  auto analytics = AnalyticsService::NewStub(p.Channel("analytics"));
  Acked acked;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(test::CreateChannel(*leads, absl::StrCat("channel-", i)).ok());
  }

  // Phase 1: concurrent creates, each retried once with its request id.
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          const std::string rid = absl::StrCat("p1-", t, "-", i);
          const std::string channel = absl::StrCat("channel-", (t + i) % 3);
          const std::string id = CreateUntilAcknowledged(*leads, rid, channel);
          EXPECT_EQ(CreateUntilAcknowledged(*leads, rid, channel), id) << "retry created twice";
          acked.Add(id, channel);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  ASSERT_EQ(acked.channel_of.size(), 100u);
  EXPECT_TRUE(
      test::Eventually([&] { return Counts(*analytics) == acked.Expected(); }, absl::Seconds(60)));
  EXPECT_TRUE(test::Eventually([&] { return ListAll(*leads).size() == 100; }, absl::Seconds(10)));

  // Bad input gets a clear error naming the field; nothing is written.
  {
    crm::lead::v1::CreateLeadRequest req;
    req.set_request_id("bad-1");
    req.mutable_lead()->set_channel_id("channel-0");
    req.mutable_lead()->set_company_name("Bad Email Ltd");
    req.mutable_lead()->set_email("nope");
    crm::lead::v1::Lead lead;
    grpc::ClientContext ctx;
    Tenant(ctx);
    grpc::Status s = leads->CreateLead(&ctx, req, &lead);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    auto br = BadRequestOf(rpc::FromGrpcStatus(s));
    ASSERT_EQ(br.field_violations_size(), 1);
    EXPECT_EQ(br.field_violations(0).field(), "lead.email");
  }
  {
    crm::lead::v1::GetLeadRequest req;
    req.set_name("leads/l-unknown");
    crm::lead::v1::Lead lead;
    grpc::ClientContext ctx;
    Tenant(ctx);
    EXPECT_EQ(leads->GetLead(&ctx, req, &lead).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    // Another tenant sees none of acme's leads.
    crm::lead::v1::GetLeadRequest req;
    req.set_name("leads/" + acked.channel_of.begin()->first);
    crm::lead::v1::Lead lead;
    grpc::ClientContext ctx;
    Tenant(ctx, "globex");
    EXPECT_EQ(leads->GetLead(&ctx, req, &lead).error_code(), grpc::StatusCode::NOT_FOUND);
    grpc::ClientContext anonymous;
    EXPECT_EQ(leads->GetLead(&anonymous, req, &lead).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }

  // Phase 2: load from 4 clients while both services are killed -9 and restarted.
  std::atomic<bool> stop{false};
  std::atomic<int> created{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string channel = absl::StrCat("channel-", i % 4);
        acked.Add(CreateUntilAcknowledged(*leads, absl::StrCat("p2-", t, "-", i), channel),
                  channel);
        ++created;
      }
    });
  }
  auto wait_for_more = [&](int n) {
    const int target = created.load() + n;
    ASSERT_TRUE(test::Eventually([&] { return created.load() >= target; }, absl::Seconds(60)));
  };
  // CI kills three times (lead, analytics, lead); the long run
  // (CRM_KILLS=1000) kills the lead service two times in three and
  // analytics the third, after a random number of acknowledged leads.
  const char* kills_env = std::getenv("CRM_KILLS");
  const int kills = kills_env != nullptr ? std::max(1, std::atoi(kills_env)) : 3;
  absl::BitGen gen;
  const absl::Time started = absl::Now();
  int lead_kills = 0, analytics_kills = 0;
  for (int k = 0; k < kills && !::testing::Test::HasFatalFailure(); ++k) {
    wait_for_more(kills == 3 ? 40 : absl::Uniform(gen, 1, 20));
    const std::string victim = k % 3 == 1 ? "analytics" : "lead";
    p.process(victim).Stop(SIGKILL);
    p.Start(victim, victim == "lead" ? CRM_LEAD_BIN : CRM_ANALYTICS_BIN);
    ++(victim == "lead" ? lead_kills : analytics_kills);
  }
  wait_for_more(40);
  stop = true;
  for (auto& th : load) th.join();
  std::cout << "kill -9 run: " << lead_kills << " lead and " << analytics_kills
            << " analytics kills in " << absl::FormatDuration(absl::Now() - started) << ", "
            << acked.channel_of.size() << " leads acknowledged\n";

  const size_t total = acked.channel_of.size();
  ASSERT_GE(total, 260u);
  // Every acknowledged lead is readable from its stream.
  for (const auto& [id, channel] : acked.channel_of) {
    crm::lead::v1::GetLeadRequest req;
    req.set_name("leads/" + id);
    crm::lead::v1::Lead lead;
    grpc::ClientContext ctx;
    Tenant(ctx);
    ASSERT_TRUE(leads->GetLead(&ctx, req, &lead).ok()) << id;
    EXPECT_EQ(lead.channel_id(), channel);
  }
  // Listed exactly once each, and nothing else.
  std::vector<std::string> listed;
  EXPECT_TRUE(test::Eventually(
      [&] {
        listed = ListAll(*leads);
        return listed.size() == total;
      },
      absl::Seconds(30)))
      << listed.size() << " listed, " << total << " acknowledged";
  std::set<std::string> unique(listed.begin(), listed.end());
  EXPECT_EQ(unique.size(), listed.size());
  for (const auto& id : listed) EXPECT_TRUE(acked.channel_of.count(id)) << id;
  // Counted exactly once each.
  std::map<std::string, int64_t> counts;
  EXPECT_TRUE(test::Eventually(
      [&] {
        counts = Counts(*analytics);
        return counts == acked.Expected();
      },
      absl::Seconds(60)));
  int64_t counted = 0;
  for (const auto& [ch, n] : counts) counted += n;
  EXPECT_EQ(counted, static_cast<int64_t>(total));
  // The funnel, from the facts the analytics service keeps with their times,
  // agrees: every lead once, in its channel; nothing converted.
  std::map<std::string, int64_t> funnel;
  EXPECT_TRUE(test::Eventually(
      [&] {
        crm::analytics::v1::GetFunnelRequest req;
        req.set_group_by(crm::analytics::v1::GetFunnelRequest::GROUP_BY_CHANNEL);
        crm::analytics::v1::Funnel resp;
        grpc::ClientContext ctx;
        Tenant(ctx);
        funnel.clear();
        if (!analytics->GetFunnel(&ctx, req, &resp).ok()) return false;
        for (const auto& r : resp.rows()) {
          funnel[r.group()] = r.leads();
          if (r.customers() != 0) return false;
        }
        return funnel == acked.Expected();
      },
      absl::Seconds(60)));

  // The metrics endpoint reports the calls and a drained relay.
  std::string metrics = test::HttpGet(p.MetricsPort("lead"), "/metrics");
  EXPECT_NE(metrics.find("crm_rpc_requests_total{code=\"0\",method=\"/crm.lead.v1.LeadService/"
                         "CreateLead\"}"),
            std::string::npos)
      << metrics;
  EXPECT_TRUE(test::Eventually(
      [&] {
        return test::HttpGet(p.MetricsPort("lead"), "/metrics").find("crm_relay_lag_events 0\n") !=
               std::string::npos;
      },
      absl::Seconds(30)));
  EXPECT_NE(
      test::HttpGet(p.MetricsPort("analytics"), "/metrics").find("crm_projection_parked_events 0"),
      std::string::npos);

  // SIGTERM drains and exits cleanly.
  int status = p.process("lead").Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  status = p.process("analytics").Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace crm
