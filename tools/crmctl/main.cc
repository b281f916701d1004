// crmctl: command-line client of the platform's gRPC APIs.
//
//   crmctl [global flags] lead create --channel=C [--company=N] [--contact=N]
//                                     [--email=E] [--phone=P] [--request-id=R]
//   crmctl [global flags] lead get LEAD_ID
//   crmctl [global flags] lead list [--page-size=N] [--page-token=T] [--all]
//   crmctl [global flags] analytics lead-counts
//   crmctl [global flags] demo load [--leads=N] [--seed=S]
//
// Global flags (or environment): --lead=ADDR (CRM_LEAD_ADDR, default
// 127.0.0.1:50051), --analytics=ADDR (CRM_ANALYTICS_ADDR, 127.0.0.1:50055),
// --tenant=T (CRM_TENANT, "demo"), --user=U (CRM_USER, "cli"), --json.
//
// Exit codes: 0 ok; 2 usage; 3 invalid argument; 4 not found; 5 unavailable
// or timed out; 6 refused by a rule (failed precondition, aborted); 1 other.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"

namespace {

struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> words;
  std::string Flag(const std::string& name, const std::string& env,
                   const std::string& def) const {
    if (auto it = flags.find(name); it != flags.end()) return it->second;
    if (const char* v = env.empty() ? nullptr : std::getenv(env.c_str())) return v;
    return def;
  }
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

constexpr char kUsage[] =
    "usage: crmctl [--lead=ADDR] [--analytics=ADDR] [--tenant=T] [--user=U] [--json] COMMAND\n"
    "commands:\n"
    "  lead create --channel=C [--company=N] [--contact=N] [--email=E] [--phone=P]\n"
    "              [--request-id=R]     create a lead (safe to retry with the same id)\n"
    "  lead get LEAD_ID                  read a lead\n"
    "  lead list [--page-size=N] [--page-token=T] [--all]\n"
    "  analytics lead-counts             leads per channel\n"
    "  demo load [--leads=N] [--seed=S]  create N demo leads (default 40)\n";

int ExitCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return 0;
    case grpc::StatusCode::INVALID_ARGUMENT: return 3;
    case grpc::StatusCode::NOT_FOUND: return 4;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 5;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED: return 6;
    default: return 1;
  }
}

int Fail(const grpc::Status& s) {
  absl::Status st = crm::rpc::FromGrpcStatus(s);
  std::cerr << "error: " << absl::StatusCodeToString(st.code()) << ": " << st.message() << "\n";
  const google::rpc::BadRequest bad_request = crm::BadRequestOf(st);
  for (const auto& v : bad_request.field_violations()) {
    std::cerr << "  field " << v.field() << ": " << v.description() << "\n";
  }
  if (std::string reason = crm::ErrorReason(st); !reason.empty()) {
    std::cerr << "  reason " << reason << "\n";
  }
  return ExitCode(s.error_code());
}

class Client {
 public:
  explicit Client(const Args& a)
      : tenant_(a.Flag("tenant", "CRM_TENANT", "demo")),
        user_(a.Flag("user", "CRM_USER", "cli")),
        json_(a.Has("json")),
        lead_(crm::lead::v1::LeadService::NewStub(grpc::CreateChannel(
            a.Flag("lead", "CRM_LEAD_ADDR", "127.0.0.1:50051"),
            grpc::InsecureChannelCredentials()))),
        analytics_(crm::analytics::v1::AnalyticsService::NewStub(grpc::CreateChannel(
            a.Flag("analytics", "CRM_ANALYTICS_ADDR", "127.0.0.1:50055"),
            grpc::InsecureChannelCredentials()))) {}

  void Prepare(grpc::ClientContext& ctx) const {
    ctx.AddMetadata(crm::rpc::kTenantMetadata, tenant_);
    ctx.AddMetadata(crm::rpc::kUserMetadata, user_);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }
  void Print(const google::protobuf::Message& m) const {
    std::string out;
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = true;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
    std::cout << out;
  }
  bool json() const { return json_; }
  crm::lead::v1::LeadService::Stub& lead() { return *lead_; }
  crm::analytics::v1::AnalyticsService::Stub& analytics() { return *analytics_; }

 private:
  std::string tenant_, user_;
  bool json_;
  std::unique_ptr<crm::lead::v1::LeadService::Stub> lead_;
  std::unique_ptr<crm::analytics::v1::AnalyticsService::Stub> analytics_;
};

void PrintLeadRow(const crm::lead::v1::Lead& l) {
  std::cout << absl::StrFormat("%-22s %-12s %-28s %-20s %-26s %s\n", l.lead_id(), l.channel_id(),
                               l.company_name(), l.contact_name(), l.email(), l.phone());
}

std::string RandomRequestId() {
  std::random_device rd;
  return absl::StrFormat("cli-%08x%08x", rd(), rd());
}

int LeadCreate(Client& c, const Args& a) {
  crm::lead::v1::CreateLeadRequest req;
  req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
  auto* l = req.mutable_lead();
  l->set_channel_id(a.Flag("channel", "", ""));
  l->set_company_name(a.Flag("company", "", ""));
  l->set_contact_name(a.Flag("contact", "", ""));
  l->set_email(a.Flag("email", "", ""));
  l->set_phone(a.Flag("phone", "", ""));
  crm::lead::v1::Lead out;
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  grpc::Status s = c.lead().CreateLead(&ctx, req, &out);
  if (!s.ok()) return Fail(s);
  if (c.json()) {
    c.Print(out);
  } else {
    std::cout << "created " << out.name() << " (request id " << req.request_id() << ")\n";
  }
  return 0;
}

int LeadGet(Client& c, const Args& a) {
  if (a.words.size() < 3) {
    std::cerr << "lead get needs a LEAD_ID\n" << kUsage;
    return 2;
  }
  crm::lead::v1::GetLeadRequest req;
  req.set_name(absl::StartsWith(a.words[2], "leads/") ? a.words[2] : "leads/" + a.words[2]);
  crm::lead::v1::Lead out;
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  grpc::Status s = c.lead().GetLead(&ctx, req, &out);
  if (!s.ok()) return Fail(s);
  c.Print(out);
  return 0;
}

int LeadList(Client& c, const Args& a) {
  int size = 50;
  if (a.Has("page-size") && !absl::SimpleAtoi(a.Flag("page-size", "", ""), &size)) {
    std::cerr << "--page-size must be an integer\n";
    return 2;
  }
  std::string token = a.Flag("page-token", "", "");
  crm::lead::v1::ListLeadsResponse all;
  if (!c.json()) {
    std::cout << absl::StrFormat("%-22s %-12s %-28s %-20s %-26s %s\n", "LEAD", "CHANNEL",
                                 "COMPANY", "CONTACT", "EMAIL", "PHONE");
  }
  do {
    crm::lead::v1::ListLeadsRequest req;
    req.set_page_size(size);
    req.set_page_token(token);
    crm::lead::v1::ListLeadsResponse resp;
    grpc::ClientContext ctx;
    c.Prepare(ctx);
    grpc::Status s = c.lead().ListLeads(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    for (const auto& l : resp.leads()) {
      if (c.json()) {
        *all.add_leads() = l;
      } else {
        PrintLeadRow(l);
      }
    }
    token = resp.next_page_token();
    all.set_next_page_token(token);
  } while (a.Has("all") && !token.empty());
  if (c.json()) {
    c.Print(all);
  } else if (!token.empty()) {
    std::cout << "next page: --page-token=" << token << "\n";
  }
  return 0;
}

int LeadCounts(Client& c) {
  crm::analytics::v1::GetLeadCountsByChannelResponse resp;
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  grpc::Status s = c.analytics().GetLeadCountsByChannel(&ctx, {}, &resp);
  if (!s.ok()) return Fail(s);
  if (c.json()) {
    c.Print(resp);
    return 0;
  }
  std::cout << absl::StrFormat("%-20s %10s\n", "CHANNEL", "LEADS");
  for (const auto& r : resp.counts()) {
    std::cout << absl::StrFormat("%-20s %10d\n", r.channel_id(), r.lead_count());
  }
  std::cout << absl::StrFormat("%-20s %10d\n", "total", resp.total_leads());
  return 0;
}

// Deterministic demo leads from a seed: the same seed gives the same leads,
// and a rerun creates nothing new (request ids derive from seed and index).
int DemoLoad(Client& c, const Args& a) {
  int n = 40, seed = 7;
  if (!absl::SimpleAtoi(a.Flag("leads", "", "40"), &n) ||
      !absl::SimpleAtoi(a.Flag("seed", "", "7"), &seed) || n < 0) {
    std::cerr << "--leads and --seed must be integers\n";
    return 2;
  }
  static const char* kChannels[] = {"web-form", "trade-fair", "partner", "paid-search"};
  static const char* kCompanies[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli",
                                     "Stark", "Wayne", "Wonka", "Tyrell", "Soylent"};
  static const char* kSuffixes[] = {"GmbH", "Ltd", "Inc.", "AG", "LLC"};
  static const char* kPeople[] = {"Ann Lee", "Bo Chen", "Cara Diaz", "Dev Patel", "Eli Novak"};
  std::mt19937 rng(seed);
  int created = 0;
  for (int i = 0; i < n; ++i) {
    crm::lead::v1::CreateLeadRequest req;
    req.set_request_id(absl::StrCat("demo-", seed, "-", i));
    auto* l = req.mutable_lead();
    const std::string company = kCompanies[rng() % 10];
    l->set_channel_id(kChannels[rng() % 4]);
    l->set_company_name(absl::StrCat(company, " ", i / 10 + 1, " ", kSuffixes[rng() % 5]));
    l->set_contact_name(kPeople[rng() % 5]);
    l->set_email(absl::StrFormat("buyer%d@%s.example", i, absl::AsciiStrToLower(company)));
    l->set_phone(absl::StrFormat("+49 30 %07d", rng() % 10000000));
    crm::lead::v1::Lead out;
    grpc::Status s;
    for (int attempt = 0; attempt < 50; ++attempt) {  // the service may still be starting
      grpc::ClientContext ctx;
      c.Prepare(ctx);
      ctx.set_wait_for_ready(true);
      s = c.lead().CreateLead(&ctx, req, &out);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    }
    if (!s.ok()) return Fail(s);
    ++created;
  }
  std::cout << "demo: " << created << " leads in place (seed " << seed << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (absl::StartsWith(arg, "--")) {
      const size_t eq = arg.find('=');
      if (eq == std::string::npos) {
        a.flags[arg.substr(2)] = "true";
      } else {
        a.flags[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      }
    } else {
      a.words.push_back(arg);
    }
  }
  if (a.words.size() < 2) {
    std::cerr << kUsage;
    return 2;
  }
  Client c(a);
  const std::string cmd = a.words[0] + " " + a.words[1];
  if (cmd == "lead create") return LeadCreate(c, a);
  if (cmd == "lead get") return LeadGet(c, a);
  if (cmd == "lead list") return LeadList(c, a);
  if (cmd == "analytics lead-counts") return LeadCounts(c);
  if (cmd == "demo load") return DemoLoad(c, a);
  std::cerr << "unknown command: " << cmd << "\n" << kUsage;
  return 2;
}
