// Event store benchmarks, each next to its baseline on the same disk in the
// same run (docs/benchmarks.md):
// - P2: batched appends (10 and 100 events per command) against a raw
//   RocksDB WriteBatch with sync;
// - group commit: one-event commands from 1-64 concurrent clients against
//   raw synced RocksDB puts from as many threads;
// - P7: restart after kill -9: a child process appends N events and kills
//   itself; the time to open the store again and answer;
// - P9: one-event append latency (p50/p99) with 10k and 10M events stored
//   (compacted, and 10M also while still compacting after the fill).
// Throughput figures are items (events) per second; `syncs_per_append`
// shows how many commands share one fsync.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "libs/eventstore/event_store.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace {

const std::string kPayload(200, 'x');  // about a customer event's size

crm::test::TempDir& Dir() {
  static auto* dir = new crm::test::TempDir();
  return *dir;
}

rocksdb::DB* RawDb() {
  static rocksdb::DB* db = [] {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* out = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, Dir().path() + "/raw", &out);
    if (!s.ok()) std::abort();
    return out;
  }();
  return db;
}

crm::eventstore::EventStore* Store() {
  static auto* store = [] {
    auto opened = crm::eventstore::EventStore::Open({.path = Dir().path() + "/events"});
    if (!opened.ok()) std::abort();
    return opened->release();
  }();
  return store;
}

std::atomic<int64_t> next_id{0};

void BM_RawRocksDbSyncedBatch(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  rocksdb::WriteOptions sync;
  sync.sync = true;
  RawDb();  // opened outside the timing
  for (auto _ : state) {
    rocksdb::WriteBatch batch;
    const int64_t id = next_id++;
    for (int i = 0; i < events; ++i) batch.Put(absl::StrCat("raw/", id, "/", i), kPayload);
    if (!RawDb()->Write(sync, &batch).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * events);
}

void BM_EventStoreAppend(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  const auto before = Store()->stats();
  for (auto _ : state) {
    const int64_t id = next_id++;
    std::vector<crm::eventstore::NewEvent> batch(events, {"bench.Event", kPayload});
    auto r = Store()->Append({"bench", absl::StrCat("s", id)}, 0, std::move(batch),
                             absl::StrCat("r", id));
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * events);
  if (state.thread_index() == 0) {
    const auto after = Store()->stats();
    state.counters["syncs_per_append"] =
        double(after.syncs - before.syncs) /
        double(std::max<int64_t>(1, after.appends - before.appends));
  }
}

void BM_RawRocksDbSyncedPut(benchmark::State& state) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  RawDb();
  for (auto _ : state) {
    if (!RawDb()->Put(sync, absl::StrCat("put/", next_id++), kPayload).ok()) {
      state.SkipWithError("put failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Appends `events` events to `store`, `per_append` per append (each with a
// request id of its own) on streams of their own.
void Fill(crm::eventstore::EventStore* store, int64_t events, absl::string_view tag,
          int per_append) {
  for (int64_t done = 0; done < events;) {
    const int n = static_cast<int>(std::min<int64_t>(per_append, events - done));
    std::vector<crm::eventstore::NewEvent> batch(n, {"bench.Event", kPayload});
    auto r = store->Append({"bench", absl::StrCat(tag, "-", done)}, 0, std::move(batch),
                           absl::StrCat(tag, "-", done));
    if (!r.ok()) std::abort();
    done += n;
  }
}

// P9: a one-event append to a new stream, one client, with range(0) events
// already stored (filled unsynced, then reopened synced): with range(1) 0
// right after the fill, while RocksDB still compacts it; 1 once compacted.
// The fill appends 10 events per command, so a tenth as many streams and
// request ids are stored as events, and the append's lookups of its stream
// head and request id (both absent) search stores of that size.
// p50/p99 in ms.
void BM_AppendLatencyAtSize(benchmark::State& state) {
  const int64_t stored = state.range(0);
  const bool settled = state.range(1) != 0;
  // Kept open for the process's life, as the other stores here.
  static auto* stores = new std::map<int64_t, crm::eventstore::EventStore*>;
  auto& store = (*stores)[stored];
  const std::string path = absl::StrCat(Dir().path(), "/p9-", stored);
  if (store == nullptr) {
    auto filling = crm::eventstore::EventStore::Open({.path = path, .sync = false});
    if (!filling.ok()) std::abort();
    Fill(filling->get(), stored, "fill", 10);
    if (settled && !(*filling)->Compact().ok()) std::abort();
  } else {
    delete store;
    if (settled) {
      auto settling = crm::eventstore::EventStore::Open({.path = path, .sync = false});
      if (!settling.ok() || !(*settling)->Compact().ok()) std::abort();
    }
  }
  auto opened = crm::eventstore::EventStore::Open({.path = path});
  if (!opened.ok()) std::abort();
  store = opened->release();
  std::vector<double> ms;
  for (auto _ : state) {
    const int64_t id = next_id++;
    const absl::Time t0 = absl::Now();
    auto r = store->Append({"bench", absl::StrCat("new-", id)}, 0, {{"bench.Event", kPayload}},
                           absl::StrCat("new-", id));
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
  }
  std::sort(ms.begin(), ms.end());
  state.counters["p50_ms"] = ms[ms.size() / 2];
  state.counters["p99_ms"] = ms[ms.size() * 99 / 100];
  state.counters["stored"] = static_cast<double>(stored);
}

// The child of P7: appends `events` durably, then kills itself (-9).
[[noreturn]] void WriteThenKill(const std::string& path, int64_t events) {
  auto store = crm::eventstore::EventStore::Open({.path = path});
  if (!store.ok()) std::abort();
  Fill(store->get(), events, "killed", 1000);
  raise(SIGKILL);
  std::abort();
}

// P7: the time from opening a store whose writer was killed -9 after
// range(0) acknowledged events to answering a read, every event there.
void BM_RestartAfterKill9(benchmark::State& state) {
  const int64_t events = state.range(0);
  int64_t round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string path = absl::StrCat(Dir().path(), "/p7-", events, "-", round++);
    const std::string arg = absl::StrCat("--write-then-kill=", path, ",", events);
    char* argv[] = {const_cast<char*>("eventstore_bench"), const_cast<char*>(arg.c_str()), nullptr};
    pid_t child = 0;
    int status = 0;
    if (posix_spawn(&child, "/proc/self/exe", nullptr, nullptr, argv, environ) != 0 ||
        waitpid(child, &status, 0) != child || !WIFSIGNALED(status) ||
        WTERMSIG(status) != SIGKILL) {
      state.SkipWithError("the writer did not die by SIGKILL");
      break;
    }
    state.ResumeTiming();
    auto store = crm::eventstore::EventStore::Open({.path = path});
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      break;
    }
    auto version = (*store)->StreamVersion({"bench", absl::StrCat("killed-", events - 1000)});
    state.PauseTiming();
    if (!version.ok() || *version != 1000 || (*store)->LastPosition() != events) {
      state.SkipWithError("acknowledged events are missing after the restart");
    }
    store->reset();
    std::filesystem::remove_all(path);
    state.ResumeTiming();
  }
}

BENCHMARK(BM_RawRocksDbSyncedBatch)->Arg(10)->Arg(100)->UseRealTime();
BENCHMARK(BM_EventStoreAppend)->Arg(10)->Arg(100)->UseRealTime();
BENCHMARK(BM_RawRocksDbSyncedPut)->Threads(1)->Threads(4)->Threads(16)->Threads(64)->UseRealTime();
BENCHMARK(BM_EventStoreAppend)
    ->Arg(1)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->Threads(64)
    ->UseRealTime();
BENCHMARK(BM_RestartAfterKill9)
    ->Arg(10'000)
    ->Arg(1'000'000)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_AppendLatencyAtSize)
    ->Args({10'000, 1})
    ->Args({10'000'000, 0})
    ->Args({10'000'000, 1})
    ->Iterations(3000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  constexpr absl::string_view kWriter = "--write-then-kill=";
  if (argc == 2 && absl::StartsWith(argv[1], kWriter)) {  // P7's child
    const std::vector<std::string> parts =
        absl::StrSplit(absl::string_view(argv[1]).substr(kWriter.size()), ',');
    int64_t events = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &events)) return 2;
    WriteThenKill(parts[0], events);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
