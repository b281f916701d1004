// What a platform team operates on: readiness over grpc.health.v1 (the
// readiness name Kubernetes' gRPC probes ask for) and metrics scraped by
// Debian's Prometheus server and queried back through its HTTP API.

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <future>

#include "tests/platform.h"

namespace crm::test {
namespace {

// grpc.health.v1.Health/Check for `service`, sent as raw protobuf bytes
// (field 1, the service name); the answer's status (1 = SERVING), or -1.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  const std::string request = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
  std::string bytes;
  if (!RawCall(channel, "/grpc.health.v1.Health/Check", request, "", &bytes).ok()) return -1;
  return bytes.size() == 2 && bytes[0] == '\x08' ? bytes[1] : (bytes.empty() ? 0 : -1);
}

TEST(OperationsTest, ReadinessComesOnceTheReadModelsCaughtUp) {
  Platform p;
  p.StartBroker();
  p.Start("contract", CRM_CONTRACT_BIN);
  auto channel = p.Channel("contract");
  EXPECT_EQ(HealthStatus(channel, ""), 1);  // live
  EXPECT_TRUE(
      Eventually([&] { return HealthStatus(channel, "crm.readiness") == 1; }, absl::Seconds(60)));
  const int status = p.process("contract").Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(OperationsTest, PrometheusScrapesAServiceAndAnswersForItsMetrics) {
  const char* prometheus = "/usr/bin/prometheus";
  ASSERT_EQ(access(prometheus, X_OK), 0)
      << "Debian's prometheus server is not installed: run tools/install-deps";
  Platform p;
  p.StartBroker();
  p.Start("contract", CRM_CONTRACT_BIN);
  const int metrics = p.MetricsPort("contract");
  ASSERT_GT(metrics, 0);
  const std::string config = p.dir() + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n"
                        << "scrape_configs:\n  - job_name: crm-contract\n"
                        << "    static_configs:\n      - targets: ['127.0.0.1:" << metrics
                        << "']\n";
  const int port = FreePort();
  auto server = Process::Start(
      {prometheus, "--config.file=" + config, "--storage.tsdb.path=" + p.dir() + "/tsdb",
       absl::StrCat("--web.listen-address=127.0.0.1:", port)},
      p.dir() + "/prometheus.log");
  ASSERT_TRUE(server.ok()) << server.status();
  // A sample of one of the service's own gauges, labelled with the job.
  const std::string query =
      "/api/v1/query?query=crm_relay_lag_events%7Bjob%3D%22crm-contract%22%7D";
  std::string answer;
  EXPECT_TRUE(Eventually(
      [&] {
        answer = HttpGet(port, query);
        return answer.find("\"status\":\"success\"") != std::string::npos &&
               answer.find("\"job\":\"crm-contract\"") != std::string::npos;
      },
      absl::Seconds(60)))
      << answer << "\n"
      << ReadFile(p.dir() + "/prometheus.log");
  EXPECT_NE(answer.find("\"__name__\":\"crm_relay_lag_events\""), std::string::npos) << answer;
  server->Stop(SIGTERM);
}

}  // namespace
}  // namespace crm::test
