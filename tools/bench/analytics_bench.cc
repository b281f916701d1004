// Analytics service's memory with a million aggregates of each kind it
// follows (P8, docs/benchmarks.md): a child process applies N customers
// created into reps' pools, N leads created and N opportunities opened, a
// year of them, through the service's projections and runners into its read
// store, as its topic consumers would; a second child opens the read store
// as the service does, serves its queries over loopback gRPC (1,000 each of
// the per-customer and per-rep ones, 20 each of the tenant-wide ones, which
// read every fact of the tenant) and reports its resident memory.

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/readstore/projection_runner.h"
#include "libs/readstore/read_store.h"
#include "services/analytics/projection/event_feed.h"
#include "services/analytics/projection/funnel.h"
#include "services/analytics/projection/lead_counts.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/rpc/analytics_service.h"
#include "tools/bench/memory_child.h"

namespace {

namespace v1 = crm::analytics::v1;

// 100 aggregates of each kind per rep, created evenly over the year before
// the run.
std::string Rep(int64_t i) { return absl::StrCat("rep-", i / 100); }
const char* const kRegions[] = {"berlin", "hamburg", "munich", "cologne"};
const char* const kChannels[] = {"web", "fair", "partner", "ads"};

// The events of aggregate i: (stream, event oneof) pairs.
using Events = std::vector<std::pair<std::string, std::unique_ptr<google::protobuf::Message>>>;

// Applies the events `make(i, when)` of `n` aggregates through `runner` in
// batches of about 500, as a topic consumer does.
bool Feed(crm::readstore::ProjectionRunner& runner, crm::analytics::EventFeed& feed,
          const std::string& source, int64_t n,
          const std::function<Events(int64_t, absl::Time)>& make) {
  const absl::Time start = absl::Now() - absl::Hours(24 * 365);
  const absl::Duration step = absl::Hours(24 * 365) / std::max<int64_t>(1, n);
  std::vector<crm::readstore::Envelope> batch;
  for (int64_t i = 0; i < n; ++i) {
    const absl::Time when = start + step * i;
    for (const auto& [stream, event] : make(i, when)) {
      batch.push_back(feed.Next(source, stream, *event, when));
    }
    if (batch.size() >= 500 || i == n - 1) {
      if (absl::Status s = runner.ApplyBatch(batch); !s.ok()) {
        std::cerr << source << ": " << s << "\n";
        return false;
      }
      batch.clear();
    }
  }
  return true;
}

int Fill(crm::readstore::ReadStore* rs, int64_t n) {
  crm::analytics::EventFeed feed;
  crm::analytics::PoolHistoryProjection pools;
  crm::analytics::LeadCountsProjection lead_counts;
  crm::analytics::LeadFactsProjection lead_facts;
  crm::analytics::OpportunityFactsProjection opportunity_facts;
  crm::readstore::ProjectionRunner pools_runner(rs, &pools);
  crm::readstore::ProjectionRunner lead_counts_runner(rs, &lead_counts);
  crm::readstore::ProjectionRunner lead_facts_runner(rs, &lead_facts);
  crm::readstore::ProjectionRunner opportunity_facts_runner(rs, &opportunity_facts);
  const bool customers =
      Feed(pools_runner, feed, "crm.customer.events.v1", n, [](int64_t i, absl::Time when) {
        // Created into its rep's pool: the customer's event and the pool's.
        auto e = std::make_unique<crm::customer::events::v1::CustomerEvent>();
        auto* c = e->mutable_created();
        c->set_customer_id(absl::StrCat("customer-", i));
        c->mutable_profile()->set_company_name(absl::StrCat("Analytics Bench Customer ", i));
        c->mutable_profile()->set_region(kRegions[i % 4]);
        c->mutable_profile()->set_industry("manufacturing");
        c->set_owner_id(Rep(i));
        c->set_created_by(Rep(i));
        c->set_completeness(static_cast<int32_t>(i % 101));
        *c->mutable_create_time() = crm::ToTimestamp(when);
        auto added = std::make_unique<crm::customer::events::v1::RepPoolEvent>();
        added->mutable_customer_added()->set_rep_id(Rep(i));
        added->mutable_customer_added()->set_customer_id(c->customer_id());
        Events out;
        out.emplace_back(c->customer_id(), std::move(e));
        out.emplace_back("pool:" + Rep(i), std::move(added));
        return out;
      });
  auto lead = [](int64_t i, absl::Time when) {
    auto e = std::make_unique<crm::lead::events::v1::LeadEvent>();
    auto* c = e->mutable_created();
    c->set_lead_id(absl::StrCat("lead-", i));
    c->set_channel_id(kChannels[i % 4]);
    c->set_company_name(absl::StrCat("Analytics Bench Prospect ", i));
    c->set_created_by("web-form");
    c->set_region(kRegions[i % 4]);
    c->set_score(static_cast<int32_t>(i % 101));
    *c->mutable_create_time() = crm::ToTimestamp(when);
    Events out;
    out.emplace_back(c->lead_id(), std::move(e));
    return out;
  };
  // Each of the two lead projections consumes the topic on its own.
  const bool leads = customers && Feed(lead_counts_runner, feed, "crm.lead.events.v1", n, lead) &&
                     (feed.RestartVersions(), true) &&
                     Feed(lead_facts_runner, feed, "crm.lead.events.v1", n, lead);
  const bool opportunities =
      leads && Feed(opportunity_facts_runner, feed, "crm.opportunity.events.v1", n,
                    [](int64_t i, absl::Time when) {
                      auto e = std::make_unique<crm::opportunity::events::v1::OpportunityEvent>();
                      auto* c = e->mutable_created();
                      c->set_opportunity_id(absl::StrCat("opp-", i));
                      c->set_customer_id(absl::StrCat("customer-", i));
                      c->set_owner_id(Rep(i));
                      c->set_pipeline_id("default");
                      c->set_stage_id("discovery");
                      c->set_probability(20);
                      c->set_amount(1'000'000 + i % 1000 * 1000);
                      *c->mutable_expected_close_time() =
                          crm::ToTimestamp(when + absl::Hours(24 * 90));
                      *c->mutable_create_time() = crm::ToTimestamp(when);
                      Events out;
                      out.emplace_back(c->opportunity_id(), std::move(e));
                      return out;
                    });
  return opportunities ? 0 : 1;
}

// Calls `rpc` `times` times with a fresh context; false (printed) on an error.
template <typename Call>
bool Repeat(const char* what, int times, Call rpc) {
  for (int i = 0; i < times; ++i) {
    grpc::ClientContext ctx;
    crm::rpc::SetBearer(ctx, crm::test::TestToken("analyst", "acme", "bi"));
    if (grpc::Status s = rpc(i, &ctx); !s.ok()) {
      std::cerr << what << ": " << s.error_message() << "\n";
      return false;
    }
  }
  return true;
}

// OK when the answer was as the fill implies, else the status of the call.
grpc::Status Check(const grpc::Status& s, bool expected) {
  if (!s.ok() || expected) return s;
  return grpc::Status(grpc::StatusCode::INTERNAL, "the answer does not match what was filled");
}

int Serve(crm::readstore::ReadStore* rs, int64_t n) {
  crm::analytics::AnalyticsServiceImpl service(rs);
  std::unique_ptr<grpc::Server> server;
  auto stub = v1::AnalyticsService::NewStub(crm::bench::Serve({&service}, &server));
  auto some = [n](int i) { return (i * 7919LL * 100) % std::max<int64_t>(100, n); };
  const bool served =
      Repeat("ownership", 1000,
             [&](int i, grpc::ClientContext* ctx) {
               v1::GetOwnershipRequest req;
               req.set_customer_id(absl::StrCat("customer-", some(i)));
               v1::Ownership out;
               const grpc::Status s = stub->GetOwnership(ctx, req, &out);
               return Check(s, out.owner_id() == Rep(some(i)));
             }) &&
      Repeat("rep pool", 1000,
             [&](int i, grpc::ClientContext* ctx) {
               v1::GetRepPoolAsOfRequest req;
               req.set_rep_id(Rep(some(i)));
               v1::RepPoolAsOf out;
               const grpc::Status s = stub->GetRepPoolAsOf(ctx, req, &out);
               return Check(s, out.customer_ids_size() == std::min<int64_t>(100, n));
             }) &&
      Repeat("lead counts", 1000,
             [&](int, grpc::ClientContext* ctx) {
               v1::GetLeadCountsByChannelResponse out;
               const grpc::Status s = stub->GetLeadCountsByChannel(ctx, {}, &out);
               return Check(s, out.total_leads() == n);
             }) &&
      Repeat("funnel", 20,
             [&](int, grpc::ClientContext* ctx) {
               v1::GetFunnelRequest req;
               req.set_group_by(v1::GetFunnelRequest::GROUP_BY_CHANNEL);
               v1::Funnel out;
               const grpc::Status s = stub->GetFunnel(ctx, req, &out);
               int64_t leads = 0;
               for (const auto& row : out.rows()) leads += row.leads();
               return Check(s, leads == n);
             }) &&
      Repeat("forecast", 20,
             [&](int, grpc::ClientContext* ctx) {
               v1::GetForecastRequest req;
               req.set_group_by(v1::GetFunnelRequest::GROUP_BY_REP);
               v1::Forecast out;
               const grpc::Status s = stub->GetForecast(ctx, req, &out);
               // A row per rep and period (overdue ones in the current one).
               return Check(s, out.rows_size() >= std::max<int64_t>(1, n / 100));
             }) &&
      Repeat("pool health", 20, [&](int, grpc::ClientContext* ctx) {
        v1::GetPoolHealthRequest req;
        req.set_group_by(v1::GetPoolHealthRequest::GROUP_BY_REGION);
        v1::PoolHealth out;
        const grpc::Status s = stub->GetPoolHealth(ctx, req, &out);
        return Check(s, out.customers() == n);
      });
  return served ? 0 : 1;
}

int MemoryChild(const std::string& mode, const std::string& dir, int64_t n) {
  auto read = crm::readstore::ReadStore::Open(dir + "/read");
  if (!read.ok()) {
    std::cerr << "open " << dir << ": " << read.status() << "\n";
    return 1;
  }
  if (mode == "fill") return Fill(read->get(), n);
  if (Serve(read->get(), n) != 0) return 1;
  return crm::bench::WriteMemory(dir + "/memory") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return crm::bench::Main(argc, argv, MemoryChild, "BM_MemoryWithFacts");
}
