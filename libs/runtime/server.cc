#include "libs/runtime/server.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/server_interceptor.h"
#include "libs/clock/scaled_clock.h"
#include "libs/rpc/access.h"
#include "libs/runtime/log.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/histogram.h"

namespace crm::runtime {
namespace {

// Counts and times every call per method and status code.
class RpcMetrics {
 public:
  explicit RpcMetrics(prometheus::Registry& registry)
      : requests_(prometheus::BuildCounter()
                      .Name("crm_rpc_requests_total")
                      .Help("gRPC calls handled, by method and status code.")
                      .Register(registry)),
        latency_(prometheus::BuildHistogram()
                     .Name("crm_rpc_latency_seconds")
                     .Help("gRPC call latency, by method.")
                     .Register(registry)) {}

  void Record(const std::string& method, grpc::StatusCode code, absl::Duration latency) {
    requests_.Add({{"method", method}, {"code", absl::StrCat(static_cast<int>(code))}}).Increment();
    static const prometheus::Histogram::BucketBoundaries kBounds = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    latency_.Add({{"method", method}}, kBounds).Observe(absl::ToDoubleSeconds(latency));
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info, RpcMetrics* metrics)
      : method_(info->method()), metrics_(metrics), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Record(method_, methods->GetSendStatus().error_code(), absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  RpcMetrics* metrics_;
  absl::Time start_;
};

class MetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(std::shared_ptr<RpcMetrics> metrics)
      : metrics_(std::move(metrics)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, metrics_.get());
  }

 private:
  std::shared_ptr<RpcMetrics> metrics_;
};

}  // namespace

// Gauges whose values are read from the process's components at scrape time.
class Server::Gauges : public prometheus::Collectable {
 public:
  void Add(const std::string& name, const std::string& help, std::function<double()> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    gauges_.push_back({name, help, std::move(fn)});
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<prometheus::MetricFamily> out;
    for (const auto& g : gauges_) {
      prometheus::MetricFamily f;
      f.name = g.name;
      f.help = g.help;
      f.type = prometheus::MetricType::Gauge;
      prometheus::ClientMetric m;
      m.gauge.value = g.fn();
      f.metric.push_back(m);
      out.push_back(std::move(f));
    }
    return out;
  }

 private:
  struct Gauge {
    std::string name, help;
    std::function<double()> fn;
  };
  mutable std::mutex mu_;
  std::vector<Gauge> gauges_;
};

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::StatusOr<Process> StartProcess(int argc, char** argv, const std::string& service) {
  BlockTerminationSignals();
  // absl::Mutex (gRPC's locks among them) checks every acquisition against a
  // lock-order graph in this build of abseil: ~2% of a durable command's CPU.
  // A serving process does not pay for it; tests keep it, in process and
  // in the services they start (CRM_LOCK_ORDER_CHECK=1, libs/testing).
  absl::SetMutexDeadlockDetectionMode(std::getenv("CRM_LOCK_ORDER_CHECK") != nullptr
                                          ? absl::OnDeadlockCycle::kAbort
                                          : absl::OnDeadlockCycle::kIgnore);
  SetLogService(service);
  auto config = Config::FromArgs(argc, argv);
  if (!config.ok()) return config.status();
  Process p{*std::move(config), "", nullptr, nullptr};
  p.data_dir = p.config.Get("data-dir", "./data/" + service);
  std::error_code ec;
  std::filesystem::create_directories(p.data_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--data-dir ", p.data_dir, " cannot be created: ", ec.message()));
  }
  auth::Verifier::Options auth;
  for (absl::string_view path :
       absl::StrSplit(p.config.Get("auth-keys", ""), ',', absl::SkipWhitespace())) {
    auto key = auth::Key::FromFile(std::string(absl::StripAsciiWhitespace(path)));
    if (!key.ok())
      return absl::InvalidArgumentError(absl::StrCat("--auth-keys: ", key.status().message()));
    auth.keys.push_back(*std::move(key));
  }
  if (auth.keys.empty()) {
    return absl::InvalidArgumentError(
        "no token keys: set --auth-keys (CRM_AUTH_KEYS) to the key files bearer tokens are "
        "verified with");
  }
  auth.issuer = p.config.Get("auth-issuer", "");
  auth.audience = p.config.Get("auth-audience", "");
  std::shared_ptr<const auth::Key> signing;
  if (const std::string path = p.config.Get("auth-signing-key", ""); !path.empty()) {
    auto key = auth::Key::FromFile(path);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth-signing-key: ", key.status().message()));
    }
    signing = *std::move(key);
  } else {
    for (const auto& key : auth.keys) {
      if (key->can_sign()) {
        signing = key;
        break;
      }
    }
  }
  if (signing != nullptr) {
    p.tokens = std::make_shared<rpc::ServiceTokens>(service, *auth::Signer::Create(signing));
  }
  ASSIGN_OR_RETURN(
      p.channel_credentials,
      rpc::ChannelCredentialsFrom(p.config.Get("tls-ca", ""), p.config.Get("tls-client-cert", ""),
                                  p.config.Get("tls-client-key", "")));
  rpc::InstallVerifier(std::make_shared<const auth::Verifier>(std::move(auth)));
  ASSIGN_OR_RETURN(
      std::unique_ptr<ScaledClock> simulated,
      ScaledClockFromSettings(p.config.Get("clock-start", ""), p.config.Get("clock-origin", ""),
                              p.config.Get("clock-rate", ""), p.config.Get("clock-catch-up", "")));
  if (simulated != nullptr) {
    p.clock = simulated.release();  // lives as long as the process
    LogInfo("simulated time", {{"start", p.config.Get("clock-start", "")},
                               {"origin", p.config.Get("clock-origin", "now")},
                               {"rate", p.config.Get("clock-rate", "1")},
                               {"catch-up", p.config.Get("clock-catch-up", "false")}});
  }
  return p;
}

absl::StatusOr<std::unique_ptr<pii::Vault>> OpenVault(const Process& process) {
  const std::string path = process.config.Get("pii-match-key", "");
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "no personal-data match key: set --pii-match-key (CRM_PII_MATCH_KEY) to a file of at "
        "least 32 secret bytes, the same for every service");
  }
  auto secret = pii::Vault::ReadSecret(path);
  if (!secret.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--pii-match-key: ", secret.status().message()));
  }
  return pii::Vault::Open({process.data_dir + "/keys", *std::move(secret)});
}

Server::Server(const Config& config, std::string service, std::string default_grpc_listen)
    : config_(config),
      service_(std::move(service)),
      default_grpc_listen_(std::move(default_grpc_listen)),
      registry_(std::make_shared<prometheus::Registry>()),
      gauges_(std::make_shared<Gauges>()) {}

Server::~Server() {
  readiness_poll_.Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
  if (health_server_) health_server_->Shutdown(std::chrono::system_clock::now());
}

void Server::AddGauge(const std::string& name, const std::string& help,
                      std::function<double()> fn) {
  gauges_->Add(name, help, std::move(fn));
}

absl::Status Server::Start() {
  const std::string metrics_listen = config_.Get("metrics-listen", "127.0.0.1:0");
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(metrics_listen);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint ", metrics_listen, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(gauges_);
  metrics_port_ = exposer_->GetListeningPorts().empty() ? 0 : exposer_->GetListeningPorts()[0];

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      rpc::ServerCredentialsFrom(config_.Get("tls-cert", ""), config_.Get("tls-key", ""),
                                 config_.Get("tls-client-ca", "")));
  const bool tls = !config_.Get("tls-cert", "").empty();
  if (tls) {
    // Kubernetes' gRPC probes speak plaintext: health alone answers there.
    const std::string health_listen = config_.Get("health-listen", "127.0.0.1:0");
    grpc::ServerBuilder health;
    health.AddListeningPort(health_listen, grpc::InsecureServerCredentials(), &health_port_);
    health_server_ = health.BuildAndStart();
    if (!health_server_ || health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen for health on ", health_listen));
    }
  }
  grpc::ServerBuilder builder;
  const std::string listen = config_.Get("grpc-listen", default_grpc_listen_);
  builder.AddListeningPort(listen, credentials, &grpc_port_);
  builder.SetMaxReceiveMessageSize(4 << 20);
  rpc::KeepServerThreads(builder);
  for (grpc::Service* s : services_) builder.RegisterService(s);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(
      std::make_unique<MetricsInterceptorFactory>(std::make_shared<RpcMetrics>(*registry_)));
  factories.push_back(rpc::MethodRecorder());
  builder.experimental().SetInterceptorCreators(std::move(factories));
  server_ = builder.BuildAndStart();
  if (!server_ || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", listen));
  }
  if (const std::string port_file = config_.Get("port-file", ""); !port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << "grpc=" << grpc_port_ << "\nmetrics=" << metrics_port_ << "\n"
                       << (tls ? absl::StrCat("health=", health_port_, "\n") : "");
    std::rename(tmp.c_str(), port_file.c_str());
  }
  SetHealth("", true);
  SetHealth(kReadinessService, false);
  readiness_poll_.Start(absl::Milliseconds(200), [this] {
    if (ready_ || draining_) return absl::OkStatus();
    for (const auto& check : readiness_) {
      if (!check()) return absl::OkStatus();
    }
    ready_ = true;
    SetHealth(kReadinessService, true);
    LogInfo("ready: read models caught up");
    return absl::OkStatus();
  });
  LogInfo("serving",
          {{"grpc_port", absl::StrCat(grpc_port_)},
           {"metrics_port", absl::StrCat(metrics_port_)},
           {"tls", tls ? (config_.Get("tls-client-ca", "").empty() ? "on" : "mutual") : "off"}});
  return absl::OkStatus();
}

void Server::SetHealth(const std::string& name, bool serving) {
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s == nullptr) continue;
    if (name.empty()) {
      s->GetHealthCheckService()->SetServingStatus(serving);
    } else {
      s->GetHealthCheckService()->SetServingStatus(name, serving);
    }
  }
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void Server::WaitForTermination() {
  const int sig = WaitForTerminationSignal();
  auto drain = config_.GetInt("drain-seconds", 10);
  LogInfo("draining", {{"signal", absl::StrCat(sig)}});
  draining_ = true;
  readiness_poll_.Stop();
  SetHealth("", false);
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::seconds(drain.ok() ? *drain : 10));
  server_->Wait();
  if (health_server_) health_server_->Shutdown();
  LogInfo("stopped");
}

}  // namespace crm::runtime
