#ifndef CRM_TOOLS_BENCH_MEMORY_CHILD_H_
#define CRM_TOOLS_BENCH_MEMORY_CHILD_H_

// What the benchmarks of a service's memory (P8) share: a loopback gRPC server
// set up as the services' own, child processes of the benchmark (so that only
// the service's memory counts), and the resident memory they report.
//
// A benchmark binary handles `--memory-child=MODE,DIR,N` in its main by
// calling its own child: MODE "fill" stores N aggregates into DIR, "serve"
// opens DIR as the service does, serves calls and calls WriteMemory.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "libs/eventstore/event_store.h"
#include "libs/pii/vault.h"
#include "libs/readstore/read_store.h"
#include "libs/rpc/access.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/auth.h"
#include "libs/testing/temp_dir.h"

namespace crm::bench {

// The stores a child opens in `dir` as the service does: the event store
// (synced to serve; the fill only sets up, unsynced), the read store and,
// with `sealed`, the key store that seals the events' personal fields. Null,
// the error printed, when one cannot be opened.
struct ChildStores {
  std::unique_ptr<pii::Vault> vault;
  std::unique_ptr<eventstore::EventStore> events;
  std::unique_ptr<readstore::ReadStore> read;
};
inline std::unique_ptr<ChildStores> OpenStores(const std::string& mode, const std::string& dir,
                                               bool sealed) {
  auto stores = std::make_unique<ChildStores>();
  if (sealed) {
    auto vault = pii::Vault::Open({dir + "/keys", test::kTestMatchSecret});
    if (!vault.ok()) {
      std::cerr << "open the key store: " << vault.status() << "\n";
      return nullptr;
    }
    stores->vault = std::move(*vault);
  }
  auto events = eventstore::EventStore::Open(
      {.path = dir + "/events", .cipher = stores->vault.get(), .sync = mode == "serve"});
  auto read = readstore::ReadStore::Open(dir + "/read");
  if (!events.ok() || !read.ok()) {
    std::cerr << "open " << dir << ": " << events.status() << " " << read.status() << "\n";
    return nullptr;
  }
  stores->events = std::move(*events);
  stores->read = std::move(*read);
  return stores;
}

// A loopback gRPC server for `services`, every call's bearer token verified
// and request threads kept as in production; returns a channel to it.
inline std::shared_ptr<grpc::Channel> Serve(std::initializer_list<grpc::Service*> services,
                                            std::unique_ptr<grpc::Server>* server) {
  test::InstallTestVerifier();
  grpc::ServerBuilder builder;
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> recorder;
  recorder.push_back(rpc::MethodRecorder());
  builder.experimental().SetInterceptorCreators(std::move(recorder));
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  rpc::KeepServerThreads(builder);  // as libs/runtime's server does
  *server = builder.BuildAndStart();
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

// The fill child's side: calls `create(i)` for i in [0, n) from 16 writers,
// each taking whole blocks of 100 (a rep's aggregates), as concurrent
// callers of the service would; false (the first error printed) when one
// failed.
inline bool FillFromWriters(int64_t n, const std::function<absl::Status(int64_t)>& create) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 16; ++t) {
    writers.emplace_back([&, t] {
      for (int64_t i = t * 100; i < n && !failed; i += i % 100 == 99 ? 1501 : 1) {
        if (absl::Status s = create(i); !s.ok() && !failed.exchange(true)) {
          std::cerr << "create " << i << ": " << s << "\n";
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  return !failed;
}

// The child's side: writes its VmRSS and VmHWM lines to `path`.
inline bool WriteMemory(const std::string& path) {
  std::ifstream status("/proc/self/status");
  std::ofstream result(path);
  for (std::string line; std::getline(status, line);) {
    if (absl::StartsWith(line, "VmRSS:") || absl::StartsWith(line, "VmHWM:")) {
      result << line << "\n";
    }
  }
  return static_cast<bool>(result);
}

// Runs this binary again with `arg`; true when it exits 0.
inline bool RunSelf(const std::string& arg) {
  char* argv[] = {const_cast<char*>("bench"), const_cast<char*>(arg.c_str()), nullptr};
  pid_t child = 0;
  int status = 0;
  return posix_spawn(&child, "/proc/self/exe", nullptr, nullptr, argv, environ) == 0 &&
         waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The benchmark's side: a fill child and a serve child over a fresh
// directory with `n` aggregates; counters rss_mib (after serving) and
// peak_mib (VmHWM).
inline void MeasureServiceMemory(benchmark::State& state, int64_t n) {
  for (auto _ : state) {
    test::TempDir dir;
    if (!RunSelf(absl::StrCat("--memory-child=fill,", dir.path(), ",", n)) ||
        !RunSelf(absl::StrCat("--memory-child=serve,", dir.path(), ",", n))) {
      state.SkipWithError("a memory child failed");
      break;
    }
    std::ifstream in(dir.path() + "/memory");
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
      double kib = 0;
      if (parts.size() >= 2 && absl::SimpleAtod(parts[1], &kib)) {
        state.counters[absl::StartsWith(line, "VmRSS") ? "rss_mib" : "peak_mib"] = kib / 1024;
      }
    }
  }
}

// A benchmark binary's main: runs `child(mode, dir, n)` when argv asks for
// a memory child, else the benchmarks, among them `memory_benchmark`: P8,
// the resident memory (MiB) of a process serving the service with 10,000
// and 1,000,000 aggregates stored (counters rss_mib and peak_mib).
template <typename Child>
int Main(int argc, char** argv, Child child, const char* memory_benchmark) {
  // As the services' processes run (runtime::StartProcess).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  constexpr absl::string_view kChild = "--memory-child=";
  if (argc == 2 && absl::StartsWith(argv[1], kChild)) {
    const std::vector<std::string> parts =
        absl::StrSplit(absl::string_view(argv[1]).substr(kChild.size()), ',');
    int64_t n = 0;
    return parts.size() == 3 && absl::SimpleAtoi(parts[2], &n) ? child(parts[0], parts[1], n) : 2;
  }
  benchmark::RegisterBenchmark(
      memory_benchmark,
      [](benchmark::State& state) { MeasureServiceMemory(state, state.range(0)); })
      ->Arg(10'000)
      ->Arg(1'000'000)
      ->Iterations(1)
      ->Unit(benchmark::kSecond)
      ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace crm::bench

#endif  // CRM_TOOLS_BENCH_MEMORY_CHILD_H_
