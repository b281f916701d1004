#ifndef CRM_TESTS_PLATFORM_H_
#define CRM_TESTS_PLATFORM_H_

// The platform for end-to-end tests: the local broker and services as
// separate processes of the real binaries, on free loopback ports, with
// their data, logs and port files under one temporary folder.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/auth.h"
#include "libs/testing/process.h"
#include "libs/testing/temp_dir.h"

namespace crm::test {

class Platform {
 public:
  Platform() : bootstrap_file_(dir_.path() + "/bootstrap") {}

  void StartBroker() {
    broker_ = *Process::Start({CRM_BROKER_BIN, "--bootstrap-file=" + bootstrap_file_},
                              dir_.path() + "/broker.log");
    ASSERT_TRUE(Eventually([&] { return !ReadFile(bootstrap_file_).empty(); }, absl::Seconds(10)));
  }

  // Starts (or restarts) service `name` from `bin` and waits until it serves.
  // Its gRPC port stays the same across restarts.
  void Start(const std::string& name, const char* bin, std::vector<std::string> flags = {}) {
    if (!ports_.count(name)) ports_[name] = FreePort();
    const std::string port_file = dir_.path() + "/" + name + ".ports";
    std::filesystem::remove(port_file);
    std::vector<std::string> argv = {bin,
                                     "--data-dir=" + dir_.path() + "/" + name,
                                     absl::StrCat("--grpc-listen=127.0.0.1:", ports_[name]),
                                     "--metrics-listen=127.0.0.1:0",
                                     "--kafka-bootstrap-file=" + bootstrap_file_,
                                     "--port-file=" + port_file,
                                     TestKeyFlag(dir_.path()),
                                     TestMatchKeyFlag(dir_.path())};
    argv.insert(argv.end(), flags_for_all_.begin(), flags_for_all_.end());
    argv.insert(argv.end(), flags.begin(), flags.end());
    processes_[name] = *Process::Start(argv, dir_.path() + "/" + name + ".log");
    // Generous: a sanitizer build catching up its read models starts slowly.
    ASSERT_TRUE(Eventually([&] { return !ReadFile(port_file).empty(); }, absl::Seconds(60)))
        << name << " did not start: " << ReadFile(dir_.path() + "/" + name + ".log");
  }

  // Flags every service started from now on gets (e.g. simulated time).
  void SetFlagsForAll(std::vector<std::string> flags) { flags_for_all_ = std::move(flags); }

  struct Binaries {
    const char* lead;
    const char* customer;
    const char* opportunity;
    const char* contract;
    const char* analytics;
  };
  // The broker and the five services, wired to each other; a channel to
  // each by name.
  std::map<std::string, std::shared_ptr<grpc::Channel>> StartAll(const Binaries& bin) {
    StartBroker();
    Start("customer", bin.customer);
    Start("contract", bin.contract);
    Start("opportunity", bin.opportunity, {"--contract-endpoint=" + Address("contract")});
    Start("lead", bin.lead,
          {"--customer-endpoint=" + Address("customer"),
           "--opportunity-endpoint=" + Address("opportunity")});
    Start("analytics", bin.analytics);
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
    for (const char* s : {"lead", "customer", "opportunity", "contract", "analytics"}) {
      channels[s] = Channel(s);
    }
    return channels;
  }

  // Loads the demo data into `tenant` with crmctl (at `crmctl`), the way an
  // operator does, on the services StartAll started.
  void LoadDemo(const char* crmctl, const std::string& tenant, int leads) {
    std::vector<std::string> argv = CrmctlArgv(crmctl, tenant);
    argv.insert(argv.end(), {"demo", "load", absl::StrCat("--leads=", leads)});
    auto demo = Process::Start(argv, dir_.path() + "/demo.log");
    ASSERT_TRUE(demo.ok()) << demo.status();
    ASSERT_EQ(demo->Wait(), 0) << ReadFile(dir_.path() + "/demo.log");
  }

  // crmctl (at `crmctl`) aimed at the services StartAll started, minting
  // tokens of `tenant` with the test key; the command follows.
  std::vector<std::string> CrmctlArgv(const char* crmctl, const std::string& tenant) {
    return {crmctl,
            "--lead=" + Address("lead"),
            "--customer=" + Address("customer"),
            "--opportunity=" + Address("opportunity"),
            "--contract=" + Address("contract"),
            "--analytics=" + Address("analytics"),
            "--tenant=" + tenant,
            "--key-file=" + dir_.path() + "/test-hs256.key"};
  }

  Process& process(const std::string& name) { return processes_[name]; }
  Process& broker() { return broker_; }

  // The value of gauge `metric` on service `name`'s metrics endpoint; -1
  // when it cannot be read.
  double Gauge(const std::string& name, const std::string& metric) {
    const std::string text = HttpGet(MetricsPort(name), "/metrics");
    const std::string prefix = metric + " ";
    for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
      if (at == 0 || text[at - 1] == '\n') return std::atof(text.c_str() + at + prefix.size());
    }
    return -1;
  }
  // The gRPC address of started service `name`.
  std::string Address(const std::string& name) { return absl::StrCat("127.0.0.1:", ports_[name]); }
  // Where the local broker writes its address (KafkaOptions::bootstrap_file).
  const std::string& bootstrap_file() const { return bootstrap_file_; }
  const std::string& dir() const { return dir_.path(); }

  // A channel to service `name` that reconnects quickly after a restart.
  std::shared_ptr<grpc::Channel> Channel(const std::string& name) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 300);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", ports_[name]),
                                     grpc::InsecureChannelCredentials(), args);
  }

  // The metrics port `name` wrote to its port file.
  int MetricsPort(const std::string& name) {
    const std::string ports = ReadFile(dir_.path() + "/" + name + ".ports");
    const size_t at = ports.find("metrics=");
    return at == std::string::npos ? 0 : std::atoi(ports.c_str() + at + 8);
  }

 private:
  TempDir dir_;
  std::string bootstrap_file_;
  Process broker_;
  std::map<std::string, int> ports_;
  std::map<std::string, Process> processes_;
  std::vector<std::string> flags_for_all_;
};

// A test token for `user` of `tenant` with `roles`, with a deadline; the
// call waits for a (re)starting service to accept connections.
inline void As(grpc::ClientContext& ctx, const std::string& user,
               const std::string& tenant = "acme", const std::string& roles = "") {
  Authorize(ctx, user, tenant, roles);
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
}

// Creates self-built lead channel `id` as `admin` of `tenant` (request id
// `id` too); the call's status.
inline grpc::Status CreateChannel(crm::lead::v1::LeadService::Stub& leads, const std::string& id,
                                  const std::string& tenant = "acme",
                                  const std::string& admin = "boss") {
  crm::lead::v1::CreateChannelRequest req;
  req.set_request_id(id);
  req.mutable_channel()->set_channel_id(id);
  req.mutable_channel()->set_display_name(id);
  req.mutable_channel()->set_kind(crm::lead::events::v1::CHANNEL_KIND_SELF_BUILT);
  crm::lead::v1::Channel out;
  grpc::ClientContext ctx;
  As(ctx, admin, tenant, "admin");
  return leads.CreateChannel(&ctx, req, &out);
}

// A unary call of `method` ("/pkg.Service/Method") with raw `request`
// bytes, with `token` as its bearer token (none when empty), given up after
// `deadline`; the status, and the answer's bytes in `response` when given.
inline grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel,
                            const std::string& method, const std::string& request,
                            const std::string& token = "", std::string* response = nullptr,
                            absl::Duration deadline = absl::Seconds(10)) {
  grpc::ClientContext ctx;
  if (!token.empty()) rpc::SetBearer(ctx, token);
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return rpc::RawCall(ctx, channel, method, request, response);
}

// Calls `call` until it succeeds, while the service is down or restarting
// (UNAVAILABLE); any other error fails the test. False if it never did.
template <typename Call>
bool UntilAcknowledged(const std::string& what, Call call) {
  const absl::Time give_up = absl::Now() + absl::Seconds(90);
  while (absl::Now() < give_up) {
    const grpc::Status s = call();
    if (s.ok()) return true;
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
        s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      ADD_FAILURE() << what << ": " << s.error_code() << " " << s.error_message();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << what << " was never acknowledged";
  return false;
}

}  // namespace crm::test

#endif  // CRM_TESTS_PLATFORM_H_
