// Opportunity service's memory with a million opportunities (P8,
// docs/benchmarks.md): a child process stores N opportunities through the
// service's command handler (16 writers, its list projection following);
// a second child opens the data as the service does, serves 1,000
// ListOpportunities and 1,000 RecordNeed calls over loopback gRPC and
// reports its resident memory.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "libs/bus/log_tailer.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/projection_runner.h"
#include "libs/readstore/read_store.h"
#include "services/opportunity/app/opportunity_commands.h"
#include "services/opportunity/projection/opportunity_list.h"
#include "services/opportunity/rpc/opportunity_service.h"
#include "tools/bench/memory_child.h"

namespace {

namespace v1 = crm::opportunity::v1;

// Every rep owns 100 customers with one opportunity each.
std::string Rep(int64_t i) { return absl::StrCat("rep-", i / 100); }

int MemoryChild(const std::string& mode, const std::string& dir, int64_t n) {
  auto stores = crm::bench::OpenStores(mode, dir, /*sealed=*/false);
  if (!stores) return 1;
  crm::opportunity::OpportunityCommandHandler commands(stores->events.get(), crm::SystemClock());
  // What the customer topic would say: customer-i is in its rep's pool.
  commands.SetCustomerFacts([](const std::string&, const std::string& customer_id) {
    int64_t i = 0;
    crm::opportunity::CustomerFacts facts;
    facts.known = absl::SimpleAtoi(absl::string_view(customer_id).substr(9), &i);
    facts.owner = Rep(i);
    return facts;
  });
  crm::opportunity::OpportunityListProjection list(stores->events.get());
  crm::readstore::ProjectionRunner runner(stores->read.get(), &list);
  crm::bus::LogTailer tailer(stores->events.get(), &runner);
  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    std::cerr << "catch up: " << s << "\n";
    return 1;
  }
  tailer.Start();
  if (mode == "fill") {
    const bool filled = crm::bench::FillFromWriters(n, [&](int64_t i) {
      crm::opportunity::Create cmd;
      cmd.customer_id = absl::StrCat("customer-", i);
      cmd.name = absl::StrCat("Rollout for customer ", i);
      cmd.need = "Replace the spreadsheets the sales team forecasts with";
      cmd.user = Rep(i);
      return commands
          .Create("bench", absl::StrCat("fill-", i), std::move(cmd), {},
                  crm::opportunity::Role::kRep)
          .status();
    });
    if (!filled) return 1;
    return tailer.WaitFor(stores->events->LastPosition(), absl::Minutes(10)) ? 0 : 1;
  }
  crm::opportunity::OpportunityServiceImpl service(&commands, stores->read.get());
  std::unique_ptr<grpc::Server> server;
  auto stub = v1::OpportunityService::NewStub(crm::bench::Serve({&service}, &server));
  for (int i = 0; i < 1000; ++i) {
    const std::string rep = Rep((i * 7919LL * 100) % std::max<int64_t>(100, n));
    grpc::ClientContext list_ctx;
    crm::rpc::SetBearer(list_ctx, crm::test::TestToken(rep, "bench"));
    v1::ListOpportunitiesRequest list_req;
    list_req.set_owner_id(rep);
    list_req.set_page_size(20);
    v1::ListOpportunitiesResponse listed;
    if (grpc::Status s = stub->ListOpportunities(&list_ctx, list_req, &listed);
        !s.ok() || listed.opportunities().empty()) {
      std::cerr << "list: " << s.error_message() << "\n";
      return 1;
    }
    grpc::ClientContext need_ctx;
    crm::rpc::SetBearer(need_ctx, crm::test::TestToken(rep, "bench"));
    v1::RecordNeedRequest need;
    need.set_request_id(absl::StrCat("memory-need-", i, "-", absl::ToUnixNanos(absl::Now())));
    need.set_name(listed.opportunities(0).name());
    need.set_need(absl::StrCat("Forecasts every Monday, revision ", i));
    v1::Opportunity out;
    if (grpc::Status s = stub->RecordNeed(&need_ctx, need, &out); !s.ok()) {
      std::cerr << "record need: " << s.error_message() << "\n";
      return 1;
    }
  }
  return crm::bench::WriteMemory(dir + "/memory") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return crm::bench::Main(argc, argv, MemoryChild, "BM_MemoryWithOpportunities");
}
