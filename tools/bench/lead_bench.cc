// Lead service's memory with a million leads (P8, docs/benchmarks.md): a
// child process creates N leads through the service's command handler (16
// writers, with the service's duplicate matching and its list projection
// following; each rep claims a fifth of its block of 100, the rest stay
// queued); a second child opens the data as the service does, runs a pass
// of the work scheduler, serves 1,000 owner-filtered ListLeads and 1,000
// RecordFollowUp calls over loopback gRPC and reports its resident memory.

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "libs/bus/log_tailer.h"
#include "libs/eventstore/event_store.h"
#include "libs/pii/vault.h"
#include "libs/readstore/projection_runner.h"
#include "libs/readstore/read_store.h"
#include "services/lead/app/lead_commands.h"
#include "services/lead/app/work_scheduler.h"
#include "services/lead/projection/customer_directory.h"
#include "services/lead/projection/lead_list.h"
#include "services/lead/rpc/lead_service.h"
#include "tools/bench/memory_child.h"

namespace {

namespace v1 = crm::lead::v1;
namespace ev = crm::lead::events::v1;

// Blocks of 100 leads per rep; a rep claims the first 20 of its block
// (capacity is 30 open leads).
std::string Rep(int64_t i) { return absl::StrCat("rep-", i / 100); }
bool Claimed(int64_t i) { return i % 100 < 20; }

int MemoryChild(const std::string& mode, const std::string& dir, int64_t n) {
  auto stores = crm::bench::OpenStores(mode, dir, /*sealed=*/true);
  if (!stores) return 1;
  crm::eventstore::EventStore* es = stores->events.get();
  crm::readstore::ReadStore* rs = stores->read.get();
  if (absl::Status s = crm::lead::IndexStoredLeads(rs); !s.ok()) {
    std::cerr << "index: " << s << "\n";
    return 1;
  }
  crm::lead::LeadListProjection list(es);
  crm::readstore::ProjectionRunner runner(rs, &list);
  crm::bus::LogTailer tailer(es, &runner);
  // As the service: duplicates are matched on the list's index, after it
  // has caught up with this process's own writes.
  crm::lead::LeadCommandHandler commands(es, crm::SystemClock());
  commands.SetVault(stores->vault.get());
  commands.SetLeadMatcher([&](const std::string& tenant, const std::vector<std::string>& keys) {
    tailer.WaitFor(es->LastPosition(), absl::Seconds(2));
    return crm::lead::FindLeadMatches(rs, tenant, keys);
  });
  commands.SetCustomerMatcher([rs, v = stores->vault.get()](const std::string& tenant,
                                                            const std::vector<std::string>& keys) {
    return crm::lead::FindCustomer(rs, tenant, crm::lead::TagKeys(*v, tenant, keys));
  });
  if (absl::Status s = tailer.CatchUp(); !s.ok()) {
    std::cerr << "catch up: " << s << "\n";
    return 1;
  }
  tailer.Start();
  if (mode == "fill") {
    ev::ChannelSaved web;
    web.set_channel_id("web");
    web.set_name("Web form");
    web.set_kind(ev::CHANNEL_KIND_FREE);
    if (auto saved = commands.SaveChannel("bench", "channel-web", web, true); !saved.ok()) {
      std::cerr << "channel: " << saved.status() << "\n";
      return 1;
    }
    const bool filled = crm::bench::FillFromWriters(n, [&](int64_t i) {
      crm::lead::CreateLead cmd;
      cmd.channel_id = "web";
      cmd.company_name = absl::StrCat("Lead Bench Prospect ", i);
      cmd.contact_name = absl::StrCat("Buyer ", i);
      cmd.email = absl::StrCat("buyer", i, "@prospect", i, ".example");
      cmd.phone = absl::StrCat("+4930", 1000000 + i);
      cmd.industry = "manufacturing";
      cmd.region = "berlin";
      cmd.user = "web-form";
      auto lead = commands.Create("bench", absl::StrCat("fill-", i), std::move(cmd));
      if (!lead.ok() || !Claimed(i)) return lead.status();
      return commands.Claim("bench", absl::StrCat("claim-", i), lead->id, Rep(i)).status();
    });
    if (!filled) return 1;
    return tailer.WaitFor(es->LastPosition(), absl::Minutes(10)) ? 0 : 1;
  }
  // A pass of the work scheduler, as the service runs every 30 s.
  crm::lead::WorkScheduler scheduler(rs, &commands);
  if (auto acted = scheduler.Tick(); !acted.ok()) {
    std::cerr << "scheduler: " << acted.status() << "\n";
    return 1;
  }
  crm::lead::LeadServiceImpl service(&commands, rs);
  std::unique_ptr<grpc::Server> server;
  auto stub = v1::LeadService::NewStub(crm::bench::Serve({&service}, &server));
  for (int i = 0; i < 1000; ++i) {
    const std::string rep = Rep((i * 7919LL * 100) % std::max<int64_t>(100, n));
    grpc::ClientContext list_ctx;
    crm::rpc::SetBearer(list_ctx, crm::test::TestToken(rep, "bench"));
    v1::ListLeadsRequest list_req;
    list_req.set_owner_id(rep);
    list_req.set_page_size(20);
    v1::ListLeadsResponse listed;
    if (grpc::Status s = stub->ListLeads(&list_ctx, list_req, &listed);
        !s.ok() || listed.leads().empty()) {
      std::cerr << "list: " << s.error_message() << "\n";
      return 1;
    }
    grpc::ClientContext follow_ctx;
    crm::rpc::SetBearer(follow_ctx, crm::test::TestToken(rep, "bench"));
    v1::RecordFollowUpRequest follow;
    follow.set_request_id(absl::StrCat("memory-follow-", i, "-", absl::ToUnixNanos(absl::Now())));
    follow.set_name(listed.leads(0).name());
    follow.set_note(absl::StrCat("Called; sending the deck, round ", i));
    v1::Lead out;
    if (grpc::Status s = stub->RecordFollowUp(&follow_ctx, follow, &out); !s.ok()) {
      std::cerr << "follow up: " << s.error_message() << "\n";
      return 1;
    }
  }
  return crm::bench::WriteMemory(dir + "/memory") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return crm::bench::Main(argc, argv, MemoryChild, "BM_MemoryWithLeads");
}
