#ifndef CRM_LIBS_RUNTIME_SERVER_H_
#define CRM_LIBS_RUNTIME_SERVER_H_

// Server runs one service process's gRPC edge: the service's handlers plus
// grpc.health.v1 health and server reflection, per-method request counts and
// latencies, and a Prometheus text endpoint (/metrics). Run() blocks until
// SIGTERM or SIGINT, then marks the process NOT_SERVING, lets calls in flight
// finish within the drain time, and returns.
//
// Health has two names: "" (liveness) is SERVING while the process serves;
// kReadinessService is SERVING only once every readiness check passed (the
// read models fed from other services' topics caught up with what those
// topics held at start), and NOT_SERVING again while draining.
//
// Flags (or CRM_* environment): --grpc-listen (host:port; port 0 picks one),
// --metrics-listen, --drain-seconds, --port-file (written with the bound
// ports as `grpc=N` / `metrics=N` lines, for launchers and tests).
// TLS: --tls-cert and --tls-key (PEM files) serve gRPC over TLS;
// --tls-client-ca also requires and verifies client certificates (mutual
// TLS). With TLS, plaintext health alone answers on --health-listen (for
// Kubernetes' gRPC probes, which do not speak TLS; `health=N` in the port
// file).

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "libs/clock/clock.h"
#include "libs/pii/vault.h"
#include "libs/rpc/rpc.h"
#include "libs/runtime/config.h"
#include "libs/runtime/periodic.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace crm::runtime {

inline constexpr char kReadinessService[] = "crm.readiness";

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// later, so Server::Run() can wait for them. Call first thing in main().
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT (blocked by BlockTerminationSignals) and
// returns which arrived.
int WaitForTerminationSignal();

// What every service process starts with: termination signals blocked, logs
// named after `service`, flags parsed, the data directory (--data-dir,
// default ./data/<service>) created, and bearer tokens verified with the
// keys of --auth-keys (CRM_AUTH_KEYS: comma-separated key files, HS256
// secrets or RS256 PEM keys; --auth-issuer, --auth-audience when tokens
// must name them). Service tokens are signed with --auth-signing-key, else
// the first listed key that can sign. INVALID_ARGUMENT for bad flags, keys
// or certificates, or when no key is configured.
struct Process {
  Config config;
  std::string data_dir;
  // This service's identity on the calls it makes for users; null when no
  // key that can sign is configured.
  std::shared_ptr<rpc::ServiceTokens> tokens;
  // For the channels to other services: TLS when --tls-ca is set (verifying
  // them against it), presenting --tls-client-cert/--tls-client-key.
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
  // The time commands and queries see: the wall clock, or simulated time
  // with --clock-start=RFC3339 (the time at --clock-origin, an RFC 3339
  // wall time, default the process start) running --clock-rate times
  // faster (default 1), and with --clock-catch-up=true following the wall
  // clock once it reaches it. Every process of a platform given the same
  // settings agrees on the time; `crmctl simulate` plays a sales
  // organisation on it.
  Clock* clock = SystemClock();
};
absl::StatusOr<Process> StartProcess(int argc, char** argv, const std::string& service);

// The key store of a service that keeps personal data (<data-dir>/keys),
// matching with the secret in --pii-match-key (CRM_PII_MATCH_KEY: a file of
// at least 32 bytes, the same for every service). INVALID_ARGUMENT without it.
absl::StatusOr<std::unique_ptr<pii::Vault>> OpenVault(const Process& process);

class Server {
 public:
  Server(const Config& config, std::string service, std::string default_grpc_listen);
  ~Server();

  void AddService(grpc::Service* service) { services_.push_back(service); }
  prometheus::Registry& registry() { return *registry_; }

  // Adds a gauge read at scrape time.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> fn);
  // Readiness waits until `ready` returns true (polled; once true it stays).
  void AddReadinessCheck(std::function<bool()> ready) { readiness_.push_back(std::move(ready)); }

  // Binds and starts serving; returns the error when a port cannot be bound.
  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // Waits for SIGTERM/SIGINT, then drains. Requires BlockTerminationSignals().
  void WaitForTermination();

 private:
  class Gauges;
  Config config_;
  std::string service_;
  std::string default_grpc_listen_;
  std::vector<grpc::Service*> services_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<Gauges> gauges_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<grpc::Server> server_;
  // With TLS: plaintext grpc.health.v1 only, for Kubernetes' probes.
  std::unique_ptr<grpc::Server> health_server_;
  int health_port_ = 0;
  void SetHealth(const std::string& name, bool serving);
  std::vector<std::function<bool()>> readiness_;
  std::atomic<bool> ready_{false}, draining_{false};
  Periodic readiness_poll_{"readiness"};
  int grpc_port_ = 0;
  int metrics_port_ = 0;
};

}  // namespace crm::runtime

#endif  // CRM_LIBS_RUNTIME_SERVER_H_
