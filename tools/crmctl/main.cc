// crmctl: command-line client of the platform's gRPC APIs.
//
//   crmctl [global flags] lead create --channel=C [--company=N] [--contact=N]
//                                     [--email=E] [--phone=P] [--request-id=R]
//   crmctl [global flags] lead get LEAD_ID
//   crmctl [global flags] lead list [--page-size=N] [--page-token=T] [--all]
//   crmctl [global flags] customer create --company=N [--industry=I] [--region=R]
//                                         [--kp=NAME] [--kp-email=E] [--public]
//   crmctl [global flags] customer get|claim|release CUSTOMER_ID [--note=TEXT]
//   crmctl [global flags] customer list [--public|--mine]
//   crmctl [global flags] customer touch CUSTOMER_ID --channel=meeting|phone|sms|email|wechat
//                                        [--note=TEXT] [--outcome=TEXT] [--next-step=TEXT]
//   crmctl [global flags] customer history CUSTOMER_ID
//   crmctl [global flags] customer reminders
//   crmctl [global flags] customer pool [REP_ID]
//   crmctl [global flags] customer reserve|unreserve CUSTOMER_ID
//   crmctl [global flags] customer sales CUSTOMER_ID --year=Y --amount=A
//   crmctl [global flags] customer conflict CUSTOMER_ID --with=MY_CUSTOMER_ID [--note=TEXT]
//   crmctl [global flags] customer verdict CONFLICT_ID
//   crmctl [global flags] customer segment-create --name=N [--tiers=A,B] [--tags=T,U]
//                                        [--region=R] [--score-above=S]
//   crmctl [global flags] customer segments
//   crmctl [global flags] customer segment SEGMENT_ID
//   crmctl [global flags] customer contributions [--rep=R | --customer=CUSTOMER_ID]
//   crmctl [global flags] analytics lead-counts
//   crmctl [global flags] demo load [--leads=N] [--seed=S]
//
// Global flags (or environment): --lead=ADDR (CRM_LEAD_ADDR, default
// 127.0.0.1:50051), --customer=ADDR (CRM_CUSTOMER_ADDR, 127.0.0.1:50052), --analytics=ADDR
// (CRM_ANALYTICS_ADDR, 127.0.0.1:50055),
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"

namespace {

struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> words;
  std::string Flag(const std::string& name, const std::string& env, const std::string& def) const {
    if (auto it = flags.find(name); it != flags.end()) return it->second;
    if (const char* v = env.empty() ? nullptr : std::getenv(env.c_str())) return v;
    return def;
  }
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
};

constexpr char kUsage[] =
    "usage: crmctl [--lead=ADDR] [--customer=ADDR] [--analytics=ADDR] [--tenant=T] [--user=U] "
    "[--json] COMMAND\n"
    "commands:\n"
    "  lead create --channel=C [--company=N] [--contact=N] [--email=E] [--phone=P]\n"
    "              [--request-id=R]     create a lead (safe to retry with the same id)\n"
    "  lead get LEAD_ID                  read a lead\n"
    "  lead list [--page-size=N] [--page-token=T] [--all]\n"
    "  customer create --company=N [--industry=I] [--region=R] [--kp=NAME] [--kp-email=E]\n"
    "                  [--public]        create a customer in your pool (or the public pool)\n"
    "  customer get|claim|release ID [--note=TEXT]\n"
    "  customer list [--public|--mine]\n"
    "  customer touch ID --channel=meeting|phone|sms|email|wechat [--note=TEXT]\n"
    "                    [--contact=CONTACT_ID]\n"
    "  customer history ID               everything that happened to a customer\n"
    "  customer reminders                drop warnings and moments of truth due\n"
    "  customer pool [REP_ID]            pool size, capacity, reservations, standing\n"
    "  customer reserve|unreserve ID     reserve a public customer, or give it up\n"
    "  customer sales ID --year=Y --amount=A   record a year's sales (drives tiers)\n"
    "  customer conflict ID --with=MINE [--note=TEXT]   dispute another rep's customer\n"
    "  customer verdict CONFLICT_ID      a conflict's verdict and evidence\n"
    "  customer segment-create --name=N [--tiers=A,B] [--tags=T,U] [--region=R]\n"
    "                  [--score-above=S] save a segment\n"
    "  customer segments                 saved segments\n"
    "  customer segment SEGMENT_ID       the customers in a segment now\n"
    "  customer contributions [--rep=R|--customer=ID]   who set which fields when\n"
    "  analytics lead-counts             leads per channel\n"
    "  demo load [--leads=N] [--seed=S]  create N demo leads (default 40)\n";

int ExitCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 0;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return 3;
    case grpc::StatusCode::NOT_FOUND:
      return 4;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 5;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
      return 6;
    default:
      return 1;
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
        lead_(crm::lead::v1::LeadService::NewStub(
            grpc::CreateChannel(a.Flag("lead", "CRM_LEAD_ADDR", "127.0.0.1:50051"),
                                grpc::InsecureChannelCredentials()))),
        customer_(crm::customer::v1::CustomerService::NewStub(
            grpc::CreateChannel(a.Flag("customer", "CRM_CUSTOMER_ADDR", "127.0.0.1:50052"),
                                grpc::InsecureChannelCredentials()))),
        analytics_(crm::analytics::v1::AnalyticsService::NewStub(
            grpc::CreateChannel(a.Flag("analytics", "CRM_ANALYTICS_ADDR", "127.0.0.1:50055"),
                                grpc::InsecureChannelCredentials()))) {}

  // Names the tenant and the user (`as_user`, or the --user flag) on a call.
  void Prepare(grpc::ClientContext& ctx, const std::string& as_user = "") const {
    ctx.AddMetadata(crm::rpc::kTenantMetadata, tenant_);
    ctx.AddMetadata(crm::rpc::kUserMetadata, as_user.empty() ? user_ : as_user);
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
  crm::customer::v1::CustomerService::Stub& customer() { return *customer_; }
  crm::analytics::v1::AnalyticsService::Stub& analytics() { return *analytics_; }

 private:
  std::string tenant_, user_;
  bool json_;
  std::unique_ptr<crm::lead::v1::LeadService::Stub> lead_;
  std::unique_ptr<crm::customer::v1::CustomerService::Stub> customer_;
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
    std::cout << absl::StrFormat("%-22s %-12s %-28s %-20s %-26s %s\n", "LEAD", "CHANNEL", "COMPANY",
                                 "CONTACT", "EMAIL", "PHONE");
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

namespace cv1 = crm::customer::v1;

void PrintCustomerRow(const cv1::Customer& c) {
  std::cout << absl::StrFormat(
      "%-22s %-28s %-8s %-12s %5d%%  %-4s %5s  %s\n", c.customer_id(), c.company_name(),
      c.pool() == cv1::POOL_STATE_PUBLIC ? "public" : "private", c.owner_id(), c.completeness(),
      c.restricted() ? "" : crm::customer::events::v1::Tier_Name(c.tier()).substr(5),
      c.restricted() ? "" : absl::StrCat(c.score()),
      c.restricted() ? "(restricted)" : c.industry());
}

int PrintCustomer(Client& c, const grpc::Status& s, const cv1::Customer& out) {
  if (!s.ok()) return Fail(s);
  c.Print(out);
  return 0;
}

int CustomerCommand(Client& c, const Args& a) {
  const std::string& verb = a.words[1];
  const std::string id = a.words.size() > 2 ? a.words[2] : "";
  const std::string name = "customers/" + id;
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  cv1::Customer out;
  if (verb == "create") {
    cv1::CreateCustomerRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_into_public_pool(a.Has("public"));
    auto* cu = req.mutable_customer();
    cu->set_company_name(a.Flag("company", "", ""));
    cu->set_industry(a.Flag("industry", "", ""));
    cu->set_region(a.Flag("region", "", ""));
    if (a.Has("kp")) {
      auto* kp = cu->add_contacts();
      kp->set_name(a.Flag("kp", "", ""));
      kp->set_email(a.Flag("kp-email", "", ""));
      kp->set_key_person(true);
    }
    return PrintCustomer(c, c.customer().CreateCustomer(&ctx, req, &out), out);
  }
  if (verb == "list") {
    cv1::ListCustomersRequest req;
    req.set_filter(a.Has("public") ? cv1::ListCustomersRequest::FILTER_PUBLIC_POOL
                   : a.Has("mine") ? cv1::ListCustomersRequest::FILTER_MY_POOL
                                   : cv1::ListCustomersRequest::FILTER_UNSPECIFIED);
    req.set_page_size(1000);
    cv1::ListCustomersResponse resp;
    grpc::Status s = c.customer().ListCustomers(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-22s %-28s %-8s %-12s %6s  %-4s %5s  %s\n", "CUSTOMER",
                                 "COMPANY", "POOL", "OWNER", "DONE", "TIER", "SCORE", "INDUSTRY");
    for (const auto& cu : resp.customers()) PrintCustomerRow(cu);
    return 0;
  }
  if (verb == "reminders") {
    cv1::ListRemindersResponse resp;
    grpc::Status s = c.customer().ListReminders(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& r : resp.reminders()) {
      std::cout << absl::StrFormat(
          "%s  %-30s %-22s due %s\n", r.customer(), r.company_name(), r.rule(),
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(r.due_time().seconds()),
                           absl::UTCTimeZone()));
    }
    return 0;
  }
  if (verb == "pool") {
    cv1::GetRepPoolRequest req;
    req.set_rep_id(id);
    cv1::RepPool pool;
    grpc::Status s = c.customer().GetRepPool(&ctx, req, &pool);
    if (!s.ok()) return Fail(s);
    c.Print(pool);
    return 0;
  }
  if (verb == "segments") {
    cv1::ListSegmentsResponse resp;
    grpc::Status s = c.customer().ListSegments(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    c.Print(resp);
    return 0;
  }
  if (verb == "segment-create") {
    cv1::CreateSegmentRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.mutable_segment()->set_display_name(a.Flag("name", "", ""));
    auto* rule = req.mutable_segment()->mutable_rule();
    for (absl::string_view t : absl::StrSplit(a.Flag("tiers", "", ""), ',', absl::SkipEmpty())) {
      crm::customer::events::v1::Tier tier;
      if (!crm::customer::events::v1::Tier_Parse(absl::StrCat("TIER_", t), &tier)) {
        std::cerr << "--tiers takes A, B and C\n";
        return 2;
      }
      rule->add_tiers(tier);
    }
    for (absl::string_view t : absl::StrSplit(a.Flag("tags", "", ""), ',', absl::SkipEmpty())) {
      rule->add_tags(std::string(t));
    }
    rule->set_region(a.Flag("region", "", ""));
    if (a.Has("score-above")) {
      int score = 0;
      if (!absl::SimpleAtoi(a.Flag("score-above", "", ""), &score)) {
        std::cerr << "--score-above must be an integer\n";
        return 2;
      }
      rule->set_score_above(score);
    }
    cv1::Segment segment;
    grpc::Status s = c.customer().CreateSegment(&ctx, req, &segment);
    if (!s.ok()) return Fail(s);
    c.Print(segment);
    return 0;
  }
  if (verb == "contributions") {
    cv1::ListContributionsRequest req;
    req.set_rep_id(a.Has("customer") ? "" : a.Flag("rep", "", a.Flag("user", "CRM_USER", "cli")));
    if (a.Has("customer")) req.set_customer("customers/" + a.Flag("customer", "", ""));
    req.set_page_size(1000);
    cv1::ListContributionsResponse resp;
    grpc::Status s = c.customer().ListContributions(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& e : resp.contributions()) {
      std::cout << absl::StrFormat(
          "%s  %-12s %-32s %s\n",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(e.time().seconds()),
                           absl::UTCTimeZone()),
          e.rep_id(), e.customer(), absl::StrJoin(e.fields(), ","));
    }
    return 0;
  }
  if (id.empty()) {
    std::cerr << "customer " << verb << " needs an id\n" << kUsage;
    return 2;
  }
  if (verb == "history") {
    cv1::ListCustomerHistoryRequest req;
    req.set_name(name);
    req.set_page_size(1000);
    cv1::ListCustomerHistoryResponse resp;
    grpc::Status s = c.customer().ListCustomerHistory(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& e : resp.entries()) {
      std::cout << absl::StrFormat(
          "%s  v%-3d %-16s %s\n",
          absl::FormatTime(absl::RFC3339_sec, absl::FromUnixSeconds(e.time().seconds()),
                           absl::UTCTimeZone()),
          e.version(), e.actor(), e.summary());
    }
    return 0;
  }
  if (verb == "get") {
    cv1::GetCustomerRequest req;
    req.set_name(name);
    return PrintCustomer(c, c.customer().GetCustomer(&ctx, req, &out), out);
  }
  if (verb == "claim") {
    cv1::ClaimCustomerRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_name(name);
    return PrintCustomer(c, c.customer().ClaimCustomer(&ctx, req, &out), out);
  }
  if (verb == "release") {
    cv1::ReleaseCustomerRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_name(name);
    req.set_note(a.Flag("note", "", ""));
    return PrintCustomer(c, c.customer().ReleaseCustomer(&ctx, req, &out), out);
  }
  if (verb == "reserve") {
    cv1::ReserveCustomerRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_name(name);
    return PrintCustomer(c, c.customer().ReserveCustomer(&ctx, req, &out), out);
  }
  if (verb == "unreserve") {
    cv1::CancelReservationRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_name(name);
    return PrintCustomer(c, c.customer().CancelReservation(&ctx, req, &out), out);
  }
  if (verb == "sales") {
    cv1::RecordAnnualSalesRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_customer(name);
    int year = 0;
    int64_t amount = 0;
    if (!absl::SimpleAtoi(a.Flag("year", "", ""), &year) ||
        !absl::SimpleAtoi(a.Flag("amount", "", ""), &amount)) {
      std::cerr << "customer sales needs --year=Y and --amount=A\n";
      return 2;
    }
    req.mutable_sales()->set_year(year);
    req.mutable_sales()->set_amount(amount);
    return PrintCustomer(c, c.customer().RecordAnnualSales(&ctx, req, &out), out);
  }
  if (verb == "conflict" || verb == "verdict") {
    cv1::Conflict conflict;
    grpc::Status s;
    if (verb == "conflict") {
      cv1::FileConflictRequest req;
      req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
      req.set_customer(name);
      req.set_claimant_customer("customers/" + a.Flag("with", "", ""));
      req.set_note(a.Flag("note", "", ""));
      s = c.customer().FileConflict(&ctx, req, &conflict);
    } else {
      cv1::GetConflictRequest req;
      req.set_name(absl::StartsWith(id, "conflicts/") ? id : "conflicts/" + id);
      s = c.customer().GetConflict(&ctx, req, &conflict);
    }
    if (!s.ok()) return Fail(s);
    c.Print(conflict);
    return 0;
  }
  if (verb == "segment") {
    cv1::ListSegmentCustomersRequest req;
    req.set_segment(absl::StartsWith(id, "segments/") ? id : "segments/" + id);
    req.set_page_size(1000);
    cv1::ListCustomersResponse resp;
    grpc::Status s = c.customer().ListSegmentCustomers(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& cu : resp.customers()) PrintCustomerRow(cu);
    return 0;
  }
  if (verb == "touch") {
    static const std::map<std::string, crm::customer::events::v1::TouchChannel> kChannels = {
        {"meeting", crm::customer::events::v1::TOUCH_CHANNEL_MEETING},
        {"phone", crm::customer::events::v1::TOUCH_CHANNEL_PHONE},
        {"sms", crm::customer::events::v1::TOUCH_CHANNEL_SMS},
        {"email", crm::customer::events::v1::TOUCH_CHANNEL_EMAIL},
        {"wechat", crm::customer::events::v1::TOUCH_CHANNEL_WECHAT}};
    cv1::RecordTouchRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_customer(name);
    auto it = kChannels.find(a.Flag("channel", "", ""));
    if (it != kChannels.end()) req.mutable_touch()->set_channel(it->second);
    req.mutable_touch()->set_note(a.Flag("note", "", ""));
    req.mutable_touch()->set_outcome(a.Flag("outcome", "", ""));
    req.mutable_touch()->set_next_step(a.Flag("next-step", "", ""));
    req.mutable_touch()->set_contact_id(a.Flag("contact", "", ""));
    cv1::Touch touch;
    grpc::Status s = c.customer().RecordTouch(&ctx, req, &touch);
    if (!s.ok()) return Fail(s);
    c.Print(touch);
    return 0;
  }
  std::cerr << "unknown command: customer " << verb << "\n" << kUsage;
  return 2;
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
  static const char* kCompanies[] = {"Acme",  "Globex", "Initech", "Umbrella", "Hooli",
                                     "Stark", "Wayne",  "Wonka",   "Tyrell",   "Soylent"};
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
  // Customers: a few in each demo rep's private pool, the rest public.
  int customers = 0;
  for (int i = 0; i < 12; ++i) {
    cv1::CreateCustomerRequest req;
    req.set_request_id(absl::StrCat("demo-customer-", seed, "-", i));
    req.set_into_public_pool(i >= 8);
    auto* cu = req.mutable_customer();
    cu->set_company_name(
        absl::StrCat(kCompanies[i % 10], " Holdings ", i + 1, " ", kSuffixes[i % 5]));
    cu->set_industry(i % 2 ? "manufacturing" : "retail");
    cu->set_region(i % 3 ? "berlin" : "shanghai");
    auto* kp = cu->add_contacts();
    kp->set_name(kPeople[i % 5]);
    kp->set_email(absl::StrFormat("kp%d@customer.example", i));
    kp->set_key_person(i % 2 == 0);
    cv1::Customer out;
    grpc::ClientContext ctx;
    c.Prepare(ctx, absl::StrCat("rep-", i % 4 + 1));
    grpc::Status s = c.customer().CreateCustomer(&ctx, req, &out);
    if (!s.ok()) return Fail(s);
    ++customers;
    if (i >= 8) continue;
    // Three years of sales for the private ones, so tiers and scores show:
    // steady growth for some, a flat or falling line for others.
    for (int year = 2023; year <= 2025; ++year) {
      cv1::RecordAnnualSalesRequest sales;
      sales.set_request_id(absl::StrCat("demo-sales-", seed, "-", i, "-", year));
      sales.set_customer(out.name());
      sales.mutable_sales()->set_year(year);
      const int64_t base = 100'000 * (i + 1);
      sales.mutable_sales()->set_amount(i % 3 == 0 ? base * (10 + (year - 2023) * 2) / 10
                                                   : base * (10 - (year - 2023)) / 10);
      grpc::ClientContext sctx;
      c.Prepare(sctx, absl::StrCat("rep-", i % 4 + 1));
      cv1::Customer ignored;
      if (grpc::Status r = c.customer().RecordAnnualSales(&sctx, sales, &ignored); !r.ok()) {
        return Fail(r);
      }
    }
  }
  // A second rep's record of the first company: the conflict is detected.
  {
    cv1::CreateCustomerRequest req;
    req.set_request_id(absl::StrCat("demo-customer-", seed, "-duplicate"));
    req.mutable_customer()->set_company_name(absl::StrCat(kCompanies[0], " Holdings 1"));
    cv1::Customer out;
    grpc::ClientContext ctx;
    c.Prepare(ctx, "rep-2");
    if (grpc::Status s = c.customer().CreateCustomer(&ctx, req, &out); !s.ok()) return Fail(s);
    ++customers;
    std::cout << "demo: rep-2's " << out.name() << " matches " << out.conflicts_size()
              << " existing customer(s): try crmctl --user=rep-2 customer get " << out.customer_id()
              << "\n";
  }
  std::cout << "demo: " << created << " leads and " << customers << " customers in place (seed "
            << seed << ")\n";
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
  if (a.words[0] == "customer") return CustomerCommand(c, a);
  if (cmd == "analytics lead-counts") return LeadCounts(c);
  if (cmd == "demo load") return DemoLoad(c, a);
  std::cerr << "unknown command: " << cmd << "\n" << kUsage;
  return 2;
}
