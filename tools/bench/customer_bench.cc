// Customer service over real gRPC (loopback, real RocksDB), each figure next
// to its baseline on the same server in the same run (docs/benchmarks.md):
// - P1: durable commands (RecordTouch: one event each, 1,000 customers)
//   against a no-op unary RPC served as the services' methods are (a
//   synchronous handler), and beside it gRPC's health Check and the same
//   no-op making one synced write to a raw RocksDB (a durable RPC's floor);
// - P6: read-model queries (ListCustomers, 20 rows) against the same no-ops
//   and one answering the bytes of such a page;
// - P5: the customer list rebuilt from the log into an empty read store
//   against raw unsynced RocksDB writes of as many rows;
// - P8: the resident memory of a process serving the customer service with
//   N customers stored (children of this one, so that nothing else counts).
// Latency counters are each client's p50/p99, averaged over the clients;
// `cores` is the CPU the whole process used over the run's wall time.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "libs/bus/log_tailer.h"
#include "libs/pii/vault.h"
#include "libs/rpc/access.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/auth.h"
#include "libs/testing/temp_dir.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "services/customer/projection/customer_list.h"
#include "services/customer/rpc/customer_service.h"
#include "tools/bench/memory_child.h"

namespace {

namespace v1 = crm::customer::v1;
constexpr int kCustomers = 1000;

using crm::bench::Serve;

// No-ops served as the services are: synchronous handlers on the server's
// request threads. (gRPC's own health service is served through its
// callback API, a different and cheaper path.) `Call` answers at once;
// `SyncedPut` first writes one 200-byte row to a raw RocksDB on the same
// disk with sync, which RocksDB's own group commit shares between
// concurrent calls: the least a durable RPC can cost on this machine.
// `Page` answers with the bytes of a page P6's query answered once: the
// least answering those 20 rows can cost.
class SyncNoOp : public grpc::Service {
 public:
  static constexpr char kMethod[] = "/crm.bench.v1.NoOp/Call";
  static constexpr char kSyncedPutMethod[] = "/crm.bench.v1.NoOp/SyncedPut";
  static constexpr char kPageMethod[] = "/crm.bench.v1.NoOp/Page";

  explicit SyncNoOp(rocksdb::DB* raw) : raw_(raw) {
    Add(kMethod, [](SyncNoOp*, grpc::ByteBuffer*) { return grpc::Status::OK; });
    Add(kSyncedPutMethod, [](SyncNoOp* self, grpc::ByteBuffer*) {
      rocksdb::WriteOptions synced;
      synced.sync = true;
      const rocksdb::Status s =
          self->raw_->Put(synced, absl::StrCat("row/", self->next_++), std::string(200, 'r'));
      return s.ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::INTERNAL, s.ToString());
    });
    Add(kPageMethod, [](SyncNoOp* self, grpc::ByteBuffer* out) {
      grpc::Slice page(self->page_);
      *out = grpc::ByteBuffer(&page, 1);
      return grpc::Status::OK;
    });
  }

  // Before any call of `Page`.
  void set_page(std::string page) { page_ = std::move(page); }
  size_t page_size() const { return page_.size(); }

 private:
  // `body` may replace the empty answer.
  template <typename Body>
  void Add(const char* method, Body body) {
    AddMethod(new grpc::internal::RpcServiceMethod(
        method, grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<SyncNoOp, grpc::ByteBuffer, grpc::ByteBuffer>(
            [body](SyncNoOp* self, grpc::ServerContext*, const grpc::ByteBuffer*,
                   grpc::ByteBuffer* out) {
              grpc::Slice empty("");
              *out = grpc::ByteBuffer(&empty, 1);
              return body(self, out);
            },
            this)));
  }

  rocksdb::DB* raw_;
  std::atomic<int64_t> next_{0};
  std::string page_;
};

// One server for every benchmark: the customer service with its list
// projection tailing the log, and the no-ops: gRPC's health service and the
// synchronous ones (the durable one writing to a raw RocksDB beside the
// service's stores).
struct Platform {
  crm::test::TempDir dir;
  std::unique_ptr<crm::eventstore::EventStore> store;
  std::unique_ptr<crm::readstore::ReadStore> read;
  std::unique_ptr<crm::customer::CustomerCommandHandler> commands;
  crm::customer::CustomerListProjection list;
  std::unique_ptr<crm::readstore::ProjectionRunner> runner;
  std::unique_ptr<crm::bus::LogTailer> tailer;
  std::unique_ptr<crm::customer::CustomerServiceImpl> service;
  std::unique_ptr<rocksdb::DB> raw = OpenRaw(dir.path() + "/raw");
  SyncNoOp no_op{raw.get()};
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::vector<std::string> customers;

  Platform() {
    store = *crm::eventstore::EventStore::Open({.path = dir.path() + "/events"});
    read = *crm::readstore::ReadStore::Open(dir.path() + "/read");
    crm::customer::Policy policy;
    policy.default_capacity = kCustomers;
    commands = std::make_unique<crm::customer::CustomerCommandHandler>(store.get(),
                                                                       crm::SystemClock(), policy);
    runner = std::make_unique<crm::readstore::ProjectionRunner>(read.get(), &list);
    tailer = std::make_unique<crm::bus::LogTailer>(store.get(), runner.get());
    tailer->Start();
    service = std::make_unique<crm::customer::CustomerServiceImpl>(commands.get(), read.get());
    grpc::EnableDefaultHealthCheckService(true);
    channel = Serve({service.get(), &no_op}, &server);
    auto stub = v1::CustomerService::NewStub(channel);
    for (int i = 0; i < kCustomers; ++i) {
      v1::CreateCustomerRequest req;
      req.set_request_id(absl::StrCat("setup-", i));
      req.mutable_customer()->set_company_name(absl::StrCat("Bench ", i));
      v1::Customer out;
      grpc::ClientContext ctx;
      Prepare(ctx);
      if (!stub->CreateCustomer(&ctx, req, &out).ok()) std::abort();
      customers.push_back(out.name());
    }
    if (!tailer->WaitFor(store->LastPosition(), absl::Minutes(1))) std::abort();
    v1::ListCustomersResponse page;
    grpc::ClientContext ctx;
    Prepare(ctx);
    if (!stub->ListCustomers(&ctx, PageRequest(), &page).ok() || page.customers_size() != 20) {
      std::abort();
    }
    no_op.set_page(page.SerializeAsString());
  }

  // P6's query: the first page of 20 of the caller's own customers.
  static v1::ListCustomersRequest PageRequest() {
    v1::ListCustomersRequest req;
    req.set_filter(v1::ListCustomersRequest::FILTER_MY_POOL);
    req.set_page_size(20);
    return req;
  }

  static std::unique_ptr<rocksdb::DB> OpenRaw(const std::string& path) {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    if (!rocksdb::DB::Open(options, path, &db).ok()) std::abort();
    return std::unique_ptr<rocksdb::DB>(db);
  }

  // Every call verifies a bearer token, as in production.
  static void Prepare(grpc::ClientContext& ctx) {
    static const std::string token = crm::test::TestToken("rep-1", "bench");
    crm::rpc::SetBearer(ctx, token);
  }
};

Platform& P() {
  static auto* p = new Platform();
  return *p;
}

// CPU time used so far by this whole process (server and clients alike).
absl::Duration ProcessCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) + absl::DurationFromTimeval(usage.ru_stime);
}

// Times each call of `call` (returns false on failure) and reports items/s,
// this client's p50/p99 in microseconds and, from the first client, the
// cores the process kept busy: cores / items_per_second is the CPU one
// call costs, whatever rate the run happened to reach.
template <typename Call>
void Run(benchmark::State& state, Call call) {
  std::vector<double> micros;
  const absl::Time wall_start = absl::Now();
  const absl::Duration cpu_start = ProcessCpu();
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    if (!call()) {
      state.SkipWithError("call failed");
      break;
    }
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["cores"] =
        absl::FDivDuration(ProcessCpu() - cpu_start, absl::Now() - wall_start);
  }
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) {
    return micros[std::min(micros.size() - 1, size_t(q * micros.size()))];
  };
  state.counters["p50_us"] = benchmark::Counter(at(0.50), benchmark::Counter::kAvgThreads);
  state.counters["p99_us"] = benchmark::Counter(at(0.99), benchmark::Counter::kAvgThreads);
}

// range(0) 0: gRPC's health Check (served through the callback API);
// 1: SyncNoOp's Call, served as the services' methods are; 2: its
// SyncedPut, the same with one synced raw RocksDB write; 3: its Page, each
// answer parsed as P6's clients parse theirs.
void BM_NoOpRpc(benchmark::State& state) {
  grpc::GenericStub stub(P().channel);
  grpc::CompletionQueue cq;
  const char* const methods[] = {"/grpc.health.v1.Health/Check", SyncNoOp::kMethod,
                                 SyncNoOp::kSyncedPutMethod, SyncNoOp::kPageMethod};
  const char* method = methods[state.range(0)];
  const bool page = method == SyncNoOp::kPageMethod;
  if (page) {
    state.counters["answer_bytes"] = benchmark::Counter(static_cast<double>(P().no_op.page_size()),
                                                        benchmark::Counter::kAvgThreads);
  }
  v1::ListCustomersResponse rows;
  Run(state, [&] {
    grpc::ClientContext ctx;
    grpc::Slice empty("");
    grpc::ByteBuffer request(&empty, 1), response;
    auto call = stub.PrepareUnaryCall(&ctx, method, request, &cq);
    call->StartCall();
    grpc::Status status;
    call->Finish(&response, &status, &status);
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok) || !ok || !status.ok()) return false;
    return !page ||
           (grpc::SerializationTraits<v1::ListCustomersResponse>::Deserialize(&response, &rows)
                .ok() &&
            rows.customers_size() == 20);
  });
}

void BM_DurableCommand(benchmark::State& state) {
  auto stub = v1::CustomerService::NewStub(P().channel);
  int64_t i = 0;
  Run(state, [&] {
    v1::RecordTouchRequest req;
    req.set_request_id(
        absl::StrCat("t-", state.thread_index(), "-", i, "-", absl::ToUnixNanos(absl::Now())));
    req.set_customer(P().customers[(state.thread_index() * 7919 + i++) % kCustomers]);
    req.mutable_touch()->set_channel(crm::customer::events::v1::TOUCH_CHANNEL_PHONE);
    req.mutable_touch()->set_note("Discussed the renewal terms with their buyer");
    v1::Touch out;
    grpc::ClientContext ctx;
    Platform::Prepare(ctx);
    return stub->RecordTouch(&ctx, req, &out).ok();
  });
}

void BM_ReadModelQuery(benchmark::State& state) {
  auto stub = v1::CustomerService::NewStub(P().channel);
  const v1::ListCustomersRequest req = Platform::PageRequest();
  // Each client parses every page into the same response, as a load driver
  // should: parsing reuses the rows' memory, so the client, on the server's
  // two cores, spends less of them allocating and freeing 20 rows per call.
  v1::ListCustomersResponse out;
  Run(state, [&] {
    grpc::ClientContext ctx;
    Platform::Prepare(ctx);
    return stub->ListCustomers(&ctx, req, &out).ok() && out.customers_size() == 20;
  });
}

// Records touches from 16 clients until the log holds `events` events.
void GrowLog(int64_t events) {
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([t, events] {
      auto stub = v1::CustomerService::NewStub(P().channel);
      for (int64_t i = 0; P().store->LastPosition() < events; ++i) {
        v1::RecordTouchRequest req;
        req.set_request_id(absl::StrCat("grow-", t, "-", i, "-", absl::ToUnixNanos(absl::Now())));
        req.set_customer(P().customers[(t * 7919 + i) % kCustomers]);
        req.mutable_touch()->set_channel(crm::customer::events::v1::TOUCH_CHANNEL_MEETING);
        req.mutable_touch()->set_note("Walked their team through the rollout plan");
        v1::Touch out;
        grpc::ClientContext ctx;
        Platform::Prepare(ctx);
        if (!stub->RecordTouch(&ctx, req, &out).ok()) std::abort();
      }
    });
  }
  for (auto& c : clients) c.join();
}

// P5: the customer list projection rebuilt from a log of range(0) events
// (1,000 customers and their touches) into an empty read store, through the
// same tailer and runner the service uses. Items are events.
void BM_RebuildCustomerList(benchmark::State& state) {
  GrowLog(state.range(0));
  const int64_t events = P().store->LastPosition();
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<crm::test::TempDir>();
    auto read = *crm::readstore::ReadStore::Open(dir->path() + "/read");
    auto list = std::make_unique<crm::customer::CustomerListProjection>();
    auto runner = std::make_unique<crm::readstore::ProjectionRunner>(read.get(), list.get());
    auto tailer = std::make_unique<crm::bus::LogTailer>(P().store.get(), runner.get());
    state.ResumeTiming();
    if (!tailer->CatchUp().ok() || tailer->position() < events) {
      state.SkipWithError("the rebuild did not reach the log's end");
      break;
    }
    state.PauseTiming();
    tailer.reset();
    runner.reset();
    read.reset();
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * events);
}

// P5's baseline: as many 200-byte rows as the log holds events, written to
// a raw RocksDB without sync in batches of 500 (the tailer's batches reach
// 5,000, but raw batches of 5,000 ran a fifth slower than of 500).
void BM_RawRocksDbUnsyncedRows(benchmark::State& state) {
  GrowLog(state.range(0));
  const int64_t rows = P().store->LastPosition();
  const std::string value(200, 'r');
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<crm::test::TempDir>();
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(options, dir->path() + "/raw", &raw).ok()) std::abort();
    state.ResumeTiming();
    for (int64_t done = 0; done < rows;) {
      rocksdb::WriteBatch batch;
      for (int i = 0; i < 500 && done < rows; ++i, ++done) {
        batch.Put(absl::StrCat("row/", done), value);
      }
      if (!raw->Write(rocksdb::WriteOptions(), &batch).ok()) std::abort();
    }
    state.PauseTiming();
    delete raw;
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

// P8's children. "fill": creates `customers` customers (100 per rep, each
// with a key person whose contact is sealed with a key of their own)
// through the service's command handler into `dir`, its list projection
// following, unsynced for speed. "serve": opens `dir` as the service does
// (the event store synced, the read store, the list projection caught up),
// serves 1,000 ListCustomers and 1,000 RecordTouch calls over loopback gRPC
// and writes its VmRSS and VmHWM (KiB) to dir/memory.
int MemoryChild(const std::string& mode, const std::string& dir, int64_t customers) {
  // Contacts are sealed with a key per person, as in the service.
  auto stores = crm::bench::OpenStores(mode, dir, /*sealed=*/true);
  if (!stores) return 1;
  crm::customer::Policy policy;
  policy.default_capacity = 100;
  crm::customer::CustomerCommandHandler commands(stores->events.get(), crm::SystemClock(), policy);
  commands.SetVault(stores->vault.get());
  crm::customer::CustomerListProjection list;
  crm::readstore::ProjectionRunner runner(stores->read.get(), &list);
  crm::bus::LogTailer tailer(stores->events.get(), &runner);
  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    std::cerr << "catch up: " << s << "\n";
    return 1;
  }
  tailer.Start();
  if (mode == "fill") {
    // The key store syncs every new key; concurrent writers share the syncs,
    // as the service's callers do.
    const bool filled = crm::bench::FillFromWriters(customers, [&](int64_t i) {
      crm::customer::CreateCustomer cmd;
      cmd.user = absl::StrCat("rep-", i / 100);
      cmd.profile.set_company_name(absl::StrCat("Memory Bench Customer ", i));
      auto* contact = cmd.profile.add_contacts();
      contact->set_name(absl::StrCat("Buyer ", i));
      contact->set_email(absl::StrCat("buyer", i, "@customer", i, ".example"));
      contact->set_phone(absl::StrCat("+4930", 1000000 + i));
      contact->set_key_person(true);
      return commands.Create("bench", absl::StrCat("fill-", i), std::move(cmd)).status();
    });
    if (!filled) return 1;
    return tailer.WaitFor(stores->events->LastPosition(), absl::Minutes(10)) ? 0 : 1;
  }
  crm::customer::CustomerServiceImpl service(&commands, stores->read.get());
  std::unique_ptr<grpc::Server> server;
  auto stub = v1::CustomerService::NewStub(Serve({&service}, &server));
  for (int i = 0; i < 1000; ++i) {
    const std::string rep =
        absl::StrCat("rep-", (i * 7919) % std::max<int64_t>(1, customers / 100));
    grpc::ClientContext list_ctx;
    crm::rpc::SetBearer(list_ctx, crm::test::TestToken(rep, "bench"));
    v1::ListCustomersRequest list_req;
    list_req.set_filter(v1::ListCustomersRequest::FILTER_MY_POOL);
    list_req.set_page_size(20);
    v1::ListCustomersResponse listed;
    if (grpc::Status s = stub->ListCustomers(&list_ctx, list_req, &listed);
        !s.ok() || listed.customers().empty()) {
      std::cerr << "list: " << s.error_message() << "\n";
      return 1;
    }
    grpc::ClientContext touch_ctx;
    crm::rpc::SetBearer(touch_ctx, crm::test::TestToken(rep, "bench"));
    v1::RecordTouchRequest touch;
    touch.set_request_id(absl::StrCat("memory-touch-", i, "-", absl::ToUnixNanos(absl::Now())));
    touch.set_customer(listed.customers(0).name());
    touch.mutable_touch()->set_channel(crm::customer::events::v1::TOUCH_CHANNEL_PHONE);
    touch.mutable_touch()->set_note("Checked in on the rollout");
    v1::Touch out;
    if (grpc::Status s = stub->RecordTouch(&touch_ctx, touch, &out); !s.ok()) {
      std::cerr << "touch: " << s.error_message() << "\n";
      return 1;
    }
  }
  return crm::bench::WriteMemory(dir + "/memory") ? 0 : 1;
}

BENCHMARK(BM_NoOpRpc)->Arg(0)->Arg(1)->Arg(2)->Threads(16)->Threads(64)->UseRealTime();
BENCHMARK(BM_NoOpRpc)->Arg(3)->Threads(16)->UseRealTime();
BENCHMARK(BM_DurableCommand)->Threads(16)->Threads(64)->UseRealTime();
BENCHMARK(BM_ReadModelQuery)->Threads(16)->UseRealTime();
// Each log size: the baseline, then the rebuild (the log only grows).
BENCHMARK(BM_RawRocksDbUnsyncedRows)->Arg(20'000)->Iterations(3)->UseRealTime();
BENCHMARK(BM_RebuildCustomerList)->Arg(20'000)->Iterations(3)->UseRealTime();
BENCHMARK(BM_RawRocksDbUnsyncedRows)->Arg(100'000)->Iterations(3)->UseRealTime();
BENCHMARK(BM_RebuildCustomerList)->Arg(100'000)->Iterations(3)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  return crm::bench::Main(argc, argv, MemoryChild, "BM_MemoryWithCustomers");
}
