// Contract service's memory with a million contracts (P8,
// docs/benchmarks.md): a child process stores N draft contracts through the
// service's command handler (16 writers, its list projection following); a
// second child opens the data as the service does, serves 1,000
// ListContracts and 1,000 ChangeContract calls over loopback gRPC and
// reports its resident memory.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "libs/bus/log_tailer.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/projection_runner.h"
#include "libs/readstore/read_store.h"
#include "services/contract/app/contract_commands.h"
#include "services/contract/projection/contract_list.h"
#include "services/contract/rpc/contract_service.h"
#include "tools/bench/memory_child.h"

namespace {

namespace v1 = crm::contract::v1;

// Every rep owns 100 contracts, one per customer.
std::string Rep(int64_t i) { return absl::StrCat("rep-", i / 100); }

int MemoryChild(const std::string& mode, const std::string& dir, int64_t n) {
  auto stores = crm::bench::OpenStores(mode, dir, /*sealed=*/false);
  if (!stores) return 1;
  crm::contract::ContractCommandHandler commands(stores->events.get(), crm::SystemClock());
  crm::contract::ContractListProjection list(stores->events.get());
  crm::readstore::ProjectionRunner runner(stores->read.get(), &list);
  crm::bus::LogTailer tailer(stores->events.get(), &runner);
  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    std::cerr << "catch up: " << s << "\n";
    return 1;
  }
  tailer.Start();
  if (mode == "fill") {
    const bool filled = crm::bench::FillFromWriters(n, [&](int64_t i) {
      crm::contract::Create cmd;
      cmd.customer_id = absl::StrCat("customer-", i);
      cmd.user = Rep(i);
      crm::contract::TermsInput terms;
      terms.document_ref = absl::StrCat("dms://contracts/", i, ".pdf");
      terms.payment_terms_days = 30;
      terms.duration_months = 12;
      auto& line = terms.lines.emplace_back();
      line.set_product_id("seat");
      line.set_product_name("Seat");
      line.set_quantity(10 + i % 40);
      line.set_list_price(50'000);
      return commands.Create("bench", absl::StrCat("fill-", i), std::move(cmd), terms).status();
    });
    if (!filled) return 1;
    return tailer.WaitFor(stores->events->LastPosition(), absl::Minutes(10)) ? 0 : 1;
  }
  crm::contract::ContractServiceImpl service(&commands, stores->read.get());
  std::unique_ptr<grpc::Server> server;
  auto stub = v1::ContractService::NewStub(crm::bench::Serve({&service}, &server));
  for (int i = 0; i < 1000; ++i) {
    const std::string rep = Rep((i * 7919LL * 100) % std::max<int64_t>(100, n));
    grpc::ClientContext list_ctx;
    crm::rpc::SetBearer(list_ctx, crm::test::TestToken(rep, "bench"));
    v1::ListContractsRequest list_req;
    list_req.set_owner_id(rep);
    v1::ListContractsResponse listed;
    if (grpc::Status s = stub->ListContracts(&list_ctx, list_req, &listed);
        !s.ok() || listed.contracts().empty()) {
      std::cerr << "list: " << s.error_message() << "\n";
      return 1;
    }
    grpc::ClientContext change_ctx;
    crm::rpc::SetBearer(change_ctx, crm::test::TestToken(rep, "bench"));
    v1::ChangeContractRequest change;
    change.set_request_id(absl::StrCat("memory-change-", i, "-", absl::ToUnixNanos(absl::Now())));
    v1::Contract* terms = change.mutable_contract();
    *terms = listed.contracts(0);
    terms->set_document_ref(absl::StrCat("dms://contracts/revised-", i, ".pdf"));
    v1::Contract out;
    if (grpc::Status s = stub->ChangeContract(&change_ctx, change, &out); !s.ok()) {
      std::cerr << "change: " << s.error_message() << "\n";
      return 1;
    }
  }
  return crm::bench::WriteMemory(dir + "/memory") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return crm::bench::Main(argc, argv, MemoryChild, "BM_MemoryWithContracts");
}
