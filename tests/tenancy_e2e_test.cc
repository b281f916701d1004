// Tenancy across the whole API: tenant "acme" gets the demo data (leads,
// customers, deals, a contract, analytics) through crmctl; tenant "globex",
// holding every role, then calls every RPC of every service (libs/rpc's
// access table) aimed at acme's resources. No answer may carry acme's data,
// every Get of an acme id is NOT_FOUND, acme's records stay unchanged, and
// analytics counts only globex's own leads.

#include <future>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "crm/ops/v1/ops_service.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "libs/rpc/access.h"
#include "libs/status/status.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

namespace lv1 = crm::lead::v1;
namespace cv1 = crm::customer::v1;
namespace ov1 = crm::opportunity::v1;
namespace kv1 = crm::contract::v1;
namespace av1 = crm::analytics::v1;

constexpr char kEveryRole[] = "rep,manager,admin,team-lead,director,legal,bi,operator";

struct Resource {
  std::string name;  // "customers/c01..."
  std::string id;
};

// Acme's records as acme's admin sees them: resource name -> etag (or
// state), and strings only acme's data holds.
struct Snapshot {
  std::map<std::string, std::string> versions;
  std::vector<Resource> resources;
  std::set<std::string> secrets;
};

Snapshot Snap(Platform& p) {
  Snapshot s;
  auto as_admin = [](grpc::ClientContext& ctx) { As(ctx, "boss", "acme", "admin"); };
  {
    auto stub = lv1::LeadService::NewStub(p.Channel("lead"));
    lv1::ListLeadsRequest req;
    req.set_page_size(1000);
    lv1::ListLeadsResponse out;
    grpc::ClientContext ctx;
    as_admin(ctx);
    EXPECT_TRUE(stub->ListLeads(&ctx, req, &out).ok());
    for (const auto& l : out.leads()) {
      s.versions[l.name()] = absl::StrCat(l.state(), "/", l.owner_id(), "/", l.score());
      s.resources.push_back({l.name(), l.lead_id()});
      if (!l.company_name().empty()) s.secrets.insert(l.company_name());
      if (!l.email().empty()) s.secrets.insert(l.email());
    }
  }
  {
    auto stub = cv1::CustomerService::NewStub(p.Channel("customer"));
    cv1::ListCustomersRequest req;
    req.set_page_size(1000);
    cv1::ListCustomersResponse out;
    grpc::ClientContext ctx;
    as_admin(ctx);
    EXPECT_TRUE(stub->ListCustomers(&ctx, req, &out).ok());
    for (const auto& c : out.customers()) {
      s.versions[c.name()] = c.etag();
      s.resources.push_back({c.name(), c.customer_id()});
      s.secrets.insert(c.company_name());
    }
  }
  {
    auto stub = ov1::OpportunityService::NewStub(p.Channel("opportunity"));
    ov1::ListOpportunitiesRequest req;
    req.set_page_size(1000);
    ov1::ListOpportunitiesResponse out;
    grpc::ClientContext ctx;
    as_admin(ctx);
    EXPECT_TRUE(stub->ListOpportunities(&ctx, req, &out).ok());
    for (const auto& o : out.opportunities()) {
      s.versions[o.name()] = o.etag();
      s.resources.push_back({o.name(), o.opportunity_id()});
    }
  }
  {
    auto stub = kv1::ContractService::NewStub(p.Channel("contract"));
    kv1::ListContractsRequest req;
    kv1::ListContractsResponse out;
    grpc::ClientContext ctx;
    as_admin(ctx);
    EXPECT_TRUE(stub->ListContracts(&ctx, req, &out).ok());
    for (const auto& k : out.contracts()) {
      s.versions[k.name()] = k.etag();
      s.resources.push_back({k.name(), k.contract_id()});
    }
  }
  return s;
}

// The request of `method` aimed at `target`: its name in `name` and
// `customer`, its id in every `*_id` field, a fresh request id.
std::unique_ptr<google::protobuf::Message> RequestAt(const google::protobuf::MethodDescriptor* m,
                                                     const Resource& target, int serial) {
  std::unique_ptr<google::protobuf::Message> req(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(m->input_type())->New());
  const auto* d = m->input_type();
  const auto* r = req->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->type() != google::protobuf::FieldDescriptor::TYPE_STRING || f->is_repeated()) continue;
    if (f->name() == "request_id") {
      r->SetString(req.get(), f, absl::StrCat("tenancy-", serial));
    } else if (f->name() == "name" || f->name() == "customer") {
      r->SetString(req.get(), f, target.name);
    } else if (absl::EndsWith(f->name(), "_id")) {
      r->SetString(req.get(), f, target.id);
    }
  }
  return req;
}

TEST(TenancyE2eTest, NoRpcOfAnyServiceShowsCountsOrChangesAnotherTenantsData) {
  Platform p;
  auto channels = p.StartAll(
      {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});

  // Acme's data, the way an operator loads the demo.
  p.LoadDemo(CRMCTL_BIN, "acme", 12);

  // Globex's own three leads.
  auto leads = lv1::LeadService::NewStub(channels["lead"]);
  ASSERT_TRUE(CreateChannel(*leads, "web", "globex", "g-admin").ok());
  for (int i = 0; i < 3; ++i) {
    lv1::CreateLeadRequest req;
    req.set_request_id(absl::StrCat("g-lead-", i));
    req.mutable_lead()->set_channel_id("web");
    req.mutable_lead()->set_company_name(absl::StrCat("Globex Unit ", i));
    lv1::Lead out;
    grpc::ClientContext ctx;
    As(ctx, "g-rep", "globex");
    ASSERT_TRUE(leads->CreateLead(&ctx, req, &out).ok());
  }

  // Acme's records once the services have acted on each other's topics
  // (signed contracts, pool reviews...): two snapshots a second apart agree.
  Snapshot before = Snap(p);
  for (int i = 0; i < 30; ++i) {
    absl::SleepFor(absl::Seconds(1));
    Snapshot again = Snap(p);
    const bool settled = again.versions == before.versions;
    before = std::move(again);
    if (settled) break;
  }
  ASSERT_GE(before.resources.size(), 20u);
  ASSERT_FALSE(before.secrets.empty());

  // Every RPC, aimed at each of a sample of acme's resources of every kind.
  std::vector<Resource> targets;
  std::map<std::string, int> per_kind;
  for (const auto& r : before.resources) {
    const std::string kind = r.name.substr(0, r.name.find('/'));
    if (per_kind[kind]++ < 2) targets.push_back(r);
  }
  const std::string globex = TestToken("g-admin", "globex", kEveryRole);
  (void)crm::ops::v1::ListParkedEventsRequest::descriptor();  // links its descriptors
  int calls = 0;
  for (const auto& [method, roles] : rpc::AccessTable()) {
    std::string full = method;
    full[full.find('/')] = '.';
    const auto* m = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
    ASSERT_NE(m, nullptr) << method;
    std::vector<std::string> parts = absl::StrSplit(method, '.');
    const auto& channel = channels[parts[1] == "ops" ? "lead" : parts[1]];
    for (const auto& target : targets) {
      auto request = RequestAt(m, target, ++calls);
      std::string bytes;
      const grpc::Status status =
          RawCall(channel, "/" + method, request->SerializeAsString(), globex, &bytes);
      for (const auto& secret : before.secrets) {
        EXPECT_EQ(bytes.find(secret), std::string::npos)
            << method << " at " << target.name << " answered globex with acme's " << secret;
      }
      const bool get = absl::StartsWith(m->name(), "Get") &&
                       absl::EndsWith(target.name.substr(0, target.name.find('/')),
                                      absl::AsciiStrToLower(m->name().substr(3)) + "s");
      if (get) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << method << " " << target.name;
      }
    }
  }
  EXPECT_GT(calls, 300);

  // Nothing of acme's changed.
  absl::SleepFor(absl::Seconds(1));
  const Snapshot after = Snap(p);
  EXPECT_EQ(after.versions, before.versions);

  // Counts are per tenant: globex's three leads, not acme's twelve.
  auto analytics = av1::AnalyticsService::NewStub(channels["analytics"]);
  int64_t counted = -1;
  EXPECT_TRUE(Eventually(
      [&] {
        av1::GetLeadCountsByChannelRequest req;
        av1::GetLeadCountsByChannelResponse out;
        grpc::ClientContext ctx;
        As(ctx, "g-bi", "globex", "bi");
        if (!analytics->GetLeadCountsByChannel(&ctx, req, &out).ok()) return false;
        counted = out.total_leads();
        return counted == 3;
      },
      absl::Seconds(30)))
      << counted;
}

}  // namespace
}  // namespace crm::test
