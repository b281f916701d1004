// End to end: broker, lead and analytics as separate processes. Leads created
// over gRPC from several threads are listed by the lead service and counted by
// analytics exactly; kill -9 of either service under load loses nothing and
// counts nothing twice.

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

namespace crm {
namespace {

using crm::analytics::v1::AnalyticsService;
using crm::lead::v1::LeadService;

class Platform {
 public:
  Platform()
      : bootstrap_file_(dir_.path() + "/bootstrap"),
        lead_port_(test::FreePort()),
        analytics_port_(test::FreePort()) {}

  void StartBroker() {
    broker_ = *test::Process::Start(
        {CRM_BROKER_BIN, "--bootstrap-file=" + bootstrap_file_}, dir_.path() + "/broker.log");
    ASSERT_TRUE(test::Eventually([&] { return !test::ReadFile(bootstrap_file_).empty(); },
                                 absl::Seconds(10)));
  }
  void StartLead() { Start(lead_, CRM_LEAD_BIN, "lead", lead_port_); }
  void StartAnalytics() { Start(analytics_, CRM_ANALYTICS_BIN, "analytics", analytics_port_); }
  test::Process& lead() { return lead_; }
  test::Process& analytics() { return analytics_; }

  std::shared_ptr<grpc::Channel> Channel(int port) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials(), args);
  }
  int lead_port() const { return lead_port_; }
  // The metrics port `name` wrote to its port file.
  int MetricsPort(const std::string& name) {
    const std::string ports = test::ReadFile(dir_.path() + "/" + name + ".ports");
    const size_t at = ports.find("metrics=");
    return at == std::string::npos ? 0 : std::atoi(ports.c_str() + at + 8);
  }
  int analytics_port() const { return analytics_port_; }

 private:
  void Start(test::Process& p, const char* bin, const std::string& name, int port) {
    const std::string port_file = dir_.path() + "/" + name + ".ports";
    std::filesystem::remove(port_file);
    p = *test::Process::Start(
        {bin, "--data-dir=" + dir_.path() + "/" + name,
         absl::StrCat("--grpc-listen=127.0.0.1:", port), "--metrics-listen=127.0.0.1:0",
         "--kafka-bootstrap-file=" + bootstrap_file_, "--port-file=" + port_file},
        dir_.path() + "/" + name + ".log");
    ASSERT_TRUE(test::Eventually([&] { return !test::ReadFile(port_file).empty(); },
                                 absl::Seconds(20)))
        << name << " did not start: " << test::ReadFile(dir_.path() + "/" + name + ".log");
  }

  test::TempDir dir_;
  std::string bootstrap_file_;
  int lead_port_;
  int analytics_port_;
  test::Process broker_, lead_, analytics_;
};

void Tenant(grpc::ClientContext& ctx, const std::string& tenant = "acme") {
  ctx.AddMetadata(rpc::kTenantMetadata, tenant);
  ctx.AddMetadata(rpc::kUserMetadata, "rep-1");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
}

// Creates a lead, retrying with the same request id until acknowledged.
std::string CreateUntilAcknowledged(LeadService::Stub& stub, const std::string& request_id,
                                    const std::string& channel) {
  for (int attempt = 0; attempt < 600; ++attempt) {
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
  p.StartLead();
  p.StartAnalytics();
  auto leads = LeadService::NewStub(p.Channel(p.lead_port()));
  auto analytics = AnalyticsService::NewStub(p.Channel(p.analytics_port()));
  Acked acked;

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
  EXPECT_TRUE(test::Eventually([&] { return Counts(*analytics) == acked.Expected(); },
                               absl::Seconds(60)));
  EXPECT_TRUE(test::Eventually([&] { return ListAll(*leads).size() == 100; }, absl::Seconds(10)));

  // Bad input gets a clear error naming the field; nothing is written.
  {
    crm::lead::v1::CreateLeadRequest req;
    req.set_request_id("bad-1");
    req.mutable_lead()->set_channel_id("web");
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
  wait_for_more(40);
  p.lead().Stop(SIGKILL);
  p.StartLead();
  wait_for_more(40);
  p.analytics().Stop(SIGKILL);
  p.StartAnalytics();
  wait_for_more(40);
  p.lead().Stop(SIGKILL);
  p.StartLead();
  wait_for_more(40);
  stop = true;
  for (auto& th : load) th.join();

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
  EXPECT_NE(test::HttpGet(p.MetricsPort("analytics"), "/metrics")
                .find("crm_projection_parked_events 0"),
            std::string::npos);

  // SIGTERM drains and exits cleanly.
  int status = p.lead().Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  status = p.analytics().Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace crm
