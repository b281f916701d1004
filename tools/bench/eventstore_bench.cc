// Event store benchmarks, each next to its baseline on the same disk in the
// same run (docs/benchmarks.md):
// - P2: batched appends (10 and 100 events per command) against a raw
//   RocksDB WriteBatch with sync;
// - group commit: one-event commands from 1-64 concurrent clients against
//   raw synced RocksDB puts from as many threads.
// Every figure is items (events) per second; `syncs_per_append` shows how
// many commands share one fsync.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
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

}  // namespace

BENCHMARK_MAIN();
