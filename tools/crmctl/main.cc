// crmctl: command-line client of the platform's gRPC APIs.
//
//   crmctl [global flags] channel create|update CHANNEL_ID --name=N --kind=self-built|free|paid
//                                      [--monthly-cost=CENTS] [--assign=claim|assign] [--team=T]
//   crmctl [global flags] channel list
//   crmctl [global flags] lead create --channel=C [--company=N] [--contact=N] [--email=E]
//                                     [--phone=P] [--legal-id=L] [--industry=I] [--region=R]
//   crmctl [global flags] lead get|claim|return|convert LEAD_ID
//   crmctl [global flags] lead list [--state=S] [--owner=U] [--priority] [--page-size=N]
//                                   [--page-token=T] [--all]
//   crmctl [global flags] lead qualify LEAD_ID [--budget] [--decision-maker] [--need=TEXT]
//                                      [--within-days=N]
//   crmctl [global flags] lead engage LEAD_ID --kind=content-viewed|link-opened|form-submitted
//                                     [--content=ID] [--topics=T,U] [--seconds=N]
//   crmctl [global flags] lead follow-up LEAD_ID --note=TEXT [--next-step=TEXT]
//   crmctl [global flags] lead disqualify LEAD_ID --reason=no-budget|no-need|unreachable|
//                                         chose-competitor|invalid-data|other [--note=TEXT]
//   crmctl [global flags] lead merge LEAD_ID --into=SURVIVOR_ID
//   crmctl [global flags] lead erase-contact LEAD_ID
//   crmctl [global flags] lead import FILE.csv [--import-id=ID]
//   crmctl [global flags] lead workload [REP_ID]
//   crmctl [global flags] lead settings
//   crmctl [global flags] customer create --company=N [--industry=I] [--region=R]
//                                         [--kp=NAME] [--kp-email=E] [--public]
//   crmctl [global flags] customer get|claim|release CUSTOMER_ID [--note=TEXT]
//   crmctl [global flags] customer list [--public|--mine]
//   crmctl [global flags] customer touch CUSTOMER_ID --channel=meeting|phone|sms|email|wechat
//                                        [--note=TEXT] [--outcome=TEXT] [--next-step=TEXT]
//   crmctl [global flags] customer history CUSTOMER_ID
//   crmctl [global flags] customer erase-contact CUSTOMER_ID --contact=CONTACT_ID
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
//   crmctl [global flags] product save|list ...; opportunity create|get|list|lines|need|quote|
//                         advance|close-date|lose|decide|win|forecast ...; contract list|get|
//                         submit|approve|reject|send|confirm|plan|pay|end|receivables ...
//                         (see --help)
//   crmctl [global flags] analytics lead-counts|funnel|channel-value [--by=...] [--from=D]
//                         [--to=D] [--as-of=D]
//   crmctl [global flags] demo load [--leads=N] [--seed=S]
//   crmctl [global flags] token mint [--ttl=1h]
//
// Global flags (or environment): --lead=ADDR (CRM_LEAD_ADDR, default
// 127.0.0.1:50051), --customer=ADDR (CRM_CUSTOMER_ADDR, 127.0.0.1:50052),
// --opportunity=ADDR (CRM_OPPORTUNITY_ADDR, 127.0.0.1:50053), --contract=ADDR
// (CRM_CONTRACT_ADDR, 127.0.0.1:50054), --analytics=ADDR
// (CRM_ANALYTICS_ADDR, 127.0.0.1:50055),
// --json. Credentials: --token=JWT (CRM_TOKEN) is sent as the bearer token;
// without one, crmctl mints a 10-minute token for --tenant=T (CRM_TENANT,
// "demo"), --user=U (CRM_USER, "cli"), --roles=R (CRM_ROLES, e.g. "admin")
// and --team=T (CRM_TEAM) with the key in --key-file=F (CRM_AUTH_KEY_FILE,
// default $CRM_LOCAL_DIR/auth/hs256.key, i.e. the local platform's key).
// `crmctl token mint` prints such a token. TLS: --tls-ca=F (CRM_TLS_CA)
// verifies the services' certificates; --tls-client-cert/--tls-client-key
// for mutual TLS. Every mutating command takes
// --request-id=R to make a retry safe (default: a fresh one).
//
// Exit codes: 0 ok; 2 usage; 3 invalid argument; 4 not found; 5 unavailable
// or timed out; 6 refused by a rule (failed precondition, aborted); 7 not
// authenticated or not allowed; 1 other.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "crm/analytics/v1/analytics_service.grpc.pb.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "crm/ops/v1/ops_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "libs/clock/timestamp.h"
#include "libs/csv/csv.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "tools/crmctl/client.h"
#include "tools/crmctl/simulate.h"

namespace {

using crm::crmctl::Args;
using crm::crmctl::Client;
using crm::crmctl::Credentials;
using crm::crmctl::Fail;
using crm::crmctl::RandomRequestId;
using crm::crmctl::SetTeam;

constexpr char kUsage[] =
    "usage: crmctl [--lead=ADDR] [--customer=ADDR] [--opportunity=ADDR] [--contract=ADDR] "
    "[--analytics=ADDR] "
    "[--token=JWT | --key-file=F --tenant=T --user=U --roles=R --team=T] [--json] COMMAND\n"
    "commands (mutating ones take --request-id=R: a retry with the same id is safe):\n"
    "  channel create|update ID --name=N --kind=self-built|free|paid [--monthly-cost=CENTS]\n"
    "                  [--assign=claim|assign] [--team=T]   (admin) define a lead channel\n"
    "  lead team TEAM --members=REP,... [--managers=U,...]   (admin) a team: round robin order,\n"
    "                  managers see its customers in full (with --roles=manager)\n"
    "  channel list                      channels with their monthly cost\n"
    "  lead create --channel=C [--company=N] [--contact=N] [--email=E] [--phone=P]\n"
    "              [--legal-id=L] [--industry=I] [--region=R]   create (or route) a lead\n"
    "  lead get|claim|return LEAD_ID\n"
    "  lead convert LEAD_ID [--with-opportunity[=NAME]]   into a customer (and a deal)\n"
    "  lead list [--state=S] [--owner=U] [--priority] [--page-size=N] [--page-token=T] [--all]\n"
    "  lead qualify ID [--budget] [--decision-maker] [--need=TEXT] [--within-days=N]\n"
    "  lead engage ID --kind=content-viewed|link-opened|form-submitted [--content=C]\n"
    "              [--topics=T,U] [--seconds=N]   behaviour that raises the score\n"
    "  lead follow-up ID --note=TEXT [--next-step=TEXT]\n"
    "  lead disqualify ID --reason=no-budget|no-need|unreachable|chose-competitor|\n"
    "              invalid-data|other [--note=TEXT]\n"
    "  lead merge ID --into=SURVIVOR_ID  merge a duplicate lead\n"
    "  lead erase-contact ID             erase the lead's contact for good (admins)\n"
    "  lead import FILE.csv [--import-id=ID]   bulk import with progress; resend to resume\n"
    "  lead workload [REP_ID]            open leads against capacity\n"
    "  lead settings                     the tenant's lead rules\n"
    "  customer create --company=N [--industry=I] [--region=R] [--kp=NAME] [--kp-email=E]\n"
    "                  [--public]        create a customer in your pool (or the public pool)\n"
    "  customer get|claim|release ID [--note=TEXT]\n"
    "  customer import FILE.csv [--import-id=ID] [--public]   one customer per row, bad\n"
    "                  rows listed, good ones kept; run again to resume\n"
    "  customer list [--public|--mine]\n"
    "  customer touch ID --channel=meeting|phone|sms|email|wechat [--note=TEXT]\n"
    "                    [--contact=CONTACT_ID]\n"
    "  customer engage ID --kind=viewed|link|email|form [--topic=T] [--seconds=N]\n"
    "                    what the customer's people did with your content\n"
    "  customer history ID               everything that happened to a customer\n"
    "  customer erase-contact ID --contact=K   erase a contact for good (admins)\n"
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
    "  product save ID --name=N --price=CENTS [--bundle=P:Q,...] [--retired]   (admin)\n"
    "  product list                      the price book\n"
    "  opportunity create --customer=C --name=N [--lines=P:QTY[:BP],...] [--need=TEXT]\n"
    "  opportunity get|quote|win ID      (opp for short)\n"
    "  opportunity list [--mine|--owner=U] [--customer=C] [--open]\n"
    "  opportunity lines ID --lines=P:QTY[:BP],...   priced from the book\n"
    "  opportunity need ID --need=TEXT\n"
    "  opportunity advance ID --stage=S  blocked moves list every unmet condition\n"
    "  opportunity close-date ID [--date=YYYY-MM-DD] [--category=pipeline|best-case|commit]\n"
    "  opportunity lose ID --reason=price|competitor|no-budget|no-decision|product-fit|other\n"
    "  opportunity decide ID --approve|--reject [--comment=TEXT]   (manager)\n"
    "  opportunity forecast [--by=rep|team|tenant] [--quarter]\n"
    "  contract list [--owner=U] [--customer=C]\n"
    "  contract get|submit|send|confirm ID   the flow: draft, approval, sent, active\n"
    "  contract approve|reject ID [--comment=TEXT]   (the current step's approver)\n"
    "  contract plan ID --installments=CENTS@YYYY-MM-DD,...\n"
    "  contract pay ID --amount=CENTS    allocated to the oldest open installment\n"
    "  contract end ID [--terminate --note=TEXT]\n"
    "  contract receivables [--by=owner|customer|tenant]   aging, overdue, predicted payment\n"
    "  contract reminders                 overdue, renewals, milestones, revisit and cross-sell\n"
    "  contract milestone ID --title=T --owner=U --due=YYYY-MM-DD   a service milestone\n"
    "  contract milestone-done ID --milestone=M [--follow-up=revisit|cross-sell --after-days=N]\n"
    "  analytics lead-counts             leads per channel\n"
    "  analytics funnel [--by=channel|rep|team|tenant] [--from=D] [--to=D] [--as-of=D]\n"
    "                                    lead > customer > opportunity > won, rates, cycle days\n"
    "  analytics channel-value [--from=D] [--to=D] [--as-of=D]   cost per lead/customer/won\n"
    "  analytics owner CUSTOMER_ID [--as-of=D]   who owned it then, and every owner before\n"
    "  analytics pool REP_ID [--as-of=D]          what the rep's private pool held then\n"
    "  analytics pool-health [--by=rep|team|region] [--from=D] [--to=D] [--as-of=D]\n"
    "                                    pools, completeness, moves, reservation signings\n"
    "  analytics receivables [--by=tenant|rep|team] [--as-of=D]   aging buckets and how\n"
    "                                    well payment dates were predicted\n"
    "  analytics ranking [--metric=won_amount|days_lead_to_customer|pool.claims|\n"
    "                     forecast.forecast_amount|forecast_accuracy.error|\n"
    "                     receivables.overdue_amount|...]\n"
    "                    [--by=rep|team|channel] [--from=D] [--to=D] [--as-of=D]   best first\n"
    "  analytics forecast [--by=tenant|rep|team] [--as-of=D]   this/next month and quarter:\n"
    "                                    won so far + open pipeline at calibrated probabilities\n"
    "  analytics forecast-accuracy [--by=rep|team|tenant] [--months=6] [--as-of=D]\n"
    "                                    each month's forecast at its start against what was won\n"
    "  analytics backtest [--from=D] [--to=D] [--capacity=N] [--smb-follow-up-days=N]\n"
    "                    [--smb-contract-days=N] [--ka-follow-up-days=N] [--ka-contract-days=N]\n"
    "                                    replay the pool history under proposed rules: what\n"
    "                                    would have been released or refused, per rep\n"
    "  ops parked SERVICE [--projection=P]   (admin) events a service's projections parked\n"
    "  ops progress SERVICE [--wait]     (admin) how far its read models have read their\n"
    "                                    topics (a rebuild): bar with rate and ETA\n"
    "  call SERVICE METHOD [JSON]        any RPC by name (e.g. call contract CreateContract\n"
    "                                    '{\"customer_id\": \"c1\"}'), request JSON from the\n"
    "                                    argument or stdin, response as JSON\n"
    "  demo load [--leads=N] [--seed=S]  create N demo leads (default 40)\n"
    "  simulate [--days=N] [--seed=S] [--reps=N] [--leads-per-day=N]   play a sales\n"
    "                                    organisation against the platform, day by day on\n"
    "                                    its clock (--clock-start/--clock-origin/--clock-rate\n"
    "                                    as the services were given), then check analytics\n"
    "                                    against what it did\n"
    "  token mint [--ttl=1h]             print a bearer token for --tenant/--user/--roles/--team\n"
    "                                    (e.g. grpcurl -H \"authorization: Bearer $(crmctl token "
    "mint)\")\n";

namespace lv1 = crm::lead::v1;
namespace lev = crm::lead::events::v1;

// The enum value whose name ends in `suffix` (case-insensitive), e.g. "paid"
// for CHANNEL_KIND_PAID; -1 when none does.
int EnumValue(const google::protobuf::EnumDescriptor* e, const std::string& suffix) {
  const std::string want = "_" + absl::AsciiStrToUpper(absl::StrReplaceAll(suffix, {{"-", "_"}}));
  for (int i = 0; i < e->value_count(); ++i) {
    if (absl::EndsWith(e->value(i)->name(), want)) return e->value(i)->number();
  }
  return -1;
}

// The short name of an enum value: "QUEUED" for LEAD_STATE_QUEUED.
std::string Short(const google::protobuf::EnumDescriptor* e, int value, absl::string_view prefix) {
  const auto* v = e->FindValueByNumber(value);
  if (v == nullptr || value == 0) return "";
  return std::string(absl::StripPrefix(v->name(), prefix));
}

void PrintLeadRow(const lv1::Lead& l) {
  std::cout << absl::StrFormat("%-22s %-12s %-26s %-12s %-5s %5d  %-12s %s\n", l.lead_id(),
                               l.channel_id(), l.company_name(),
                               Short(lv1::LeadState_descriptor(), l.state(), "LEAD_STATE_"),
                               Short(lev::Grade_descriptor(), l.grade(), "GRADE_"), l.score(),
                               l.owner_id(), absl::StrJoin(l.tags(), ","));
}

int PrintLead(Client& c, const grpc::Status& s, const lv1::Lead& out) {
  if (!s.ok()) return Fail(s);
  if (c.json()) {
    c.Print(out);
    return 0;
  }
  PrintLeadRow(out);
  for (const auto& d : out.duplicates()) {
    std::cout << "  possible duplicate of " << d.lead_id() << " (" << absl::StrJoin(d.keys(), ", ")
              << ")\n";
  }
  if (!out.customer_id().empty()) std::cout << "  customer " << out.customer_id() << "\n";
  return 0;
}

std::string LeadName(const std::string& id) {
  return absl::StartsWith(id, "leads/") ? id : "leads/" + id;
}

int LeadList(Client& c, const Args& a) {
  int size = 50;
  if (a.Has("page-size") && !absl::SimpleAtoi(a.Flag("page-size", "", ""), &size)) {
    std::cerr << "--page-size must be an integer\n";
    return 2;
  }
  std::string token = a.Flag("page-token", "", "");
  lv1::ListLeadsResponse all;
  if (!c.json()) {
    std::cout << absl::StrFormat("%-22s %-12s %-26s %-12s %-5s %5s  %-12s %s\n", "LEAD", "CHANNEL",
                                 "COMPANY", "STATE", "GRADE", "SCORE", "OWNER", "TAGS");
  }
  do {
    lv1::ListLeadsRequest req;
    req.set_page_size(size);
    req.set_page_token(token);
    req.set_owner_id(a.Flag("owner", "", ""));
    if (a.Has("priority")) req.set_order_by("priority");
    if (a.Has("state")) {
      const int state = EnumValue(lv1::LeadState_descriptor(), a.Flag("state", "", ""));
      if (state <= 0) {
        std::cerr << "--state must be queued, assigned, working, converted, disqualified, merged "
                     "or routed\n";
        return 2;
      }
      req.set_state(static_cast<lv1::LeadState>(state));
    }
    lv1::ListLeadsResponse resp;
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

// Streams a CSV file to ImportLeads in 64 KiB chunks, showing progress (a
// bar with rate and ETA on a terminal, plain lines otherwise).
int LeadImport(Client& c, const Args& a) {
  if (a.words.size() < 3) {
    std::cerr << "lead import needs a CSV FILE\n";
    return 2;
  }
  std::FILE* f = std::fopen(a.words[2].c_str(), "rb");
  if (f == nullptr) {
    std::cerr << "cannot open " << a.words[2] << "\n";
    return 2;
  }
  std::fseek(f, 0, SEEK_END);
  const long total = std::max(1L, std::ftell(f));
  std::fseek(f, 0, SEEK_SET);
  const bool tty = isatty(fileno(stderr));
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(2));
  lv1::ImportLeadsResponse resp;
  auto writer = c.lead().ImportLeads(&ctx, &resp);
  lv1::ImportLeadsRequest req;
  req.set_import_id(a.Flag("import-id", "", a.words[2]));
  std::string chunk(64 << 10, '\0');
  long sent = 0;
  const absl::Time start = absl::Now();
  int last_percent = -1;
  for (size_t n; (n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0;) {
    req.set_chunk(chunk.substr(0, n));
    if (!writer->Write(req)) break;
    sent += static_cast<long>(n);
    const int percent = static_cast<int>(sent * 100 / total);
    if (percent == last_percent) continue;
    last_percent = percent;
    const double secs = std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - start));
    const double rate = sent / secs;
    const double eta = (total - sent) / std::max(rate, 1.0);
    if (tty) {
      std::cerr << absl::StrFormat("\r[%-30s] %3d%% %7.1f KiB/s ETA %4.0fs",
                                   std::string(percent * 30 / 100, '#'), percent, rate / 1024, eta);
    } else if (percent % 10 == 0) {
      std::cerr << absl::StrFormat("import: %d%% sent, %.1f KiB/s\n", percent, rate / 1024);
    }
  }
  std::fclose(f);
  if (tty) std::cerr << "\n";
  writer->WritesDone();
  grpc::Status s = writer->Finish();
  if (!s.ok()) return Fail(s);
  if (c.json()) {
    c.Print(resp);
    return 0;
  }
  std::cout << resp.rows() << " rows: " << resp.imported() << " imported (" << resp.routed()
            << " routed to customers' owners), " << resp.errors_size() << " refused\n";
  for (const auto& e : resp.errors()) {
    std::cout << "  row " << e.row() << ": " << absl::StrJoin(e.errors(), "; ") << "\n";
  }
  return resp.errors_size() > 0 ? 3 : 0;
}

int ChannelCommand(Client& c, const Args& a) {
  const std::string& verb = a.words[1];
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  if (verb == "list") {
    lv1::ListChannelsResponse resp;
    grpc::Status s = c.lead().ListChannels(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-16s %-24s %-10s %12s  %s\n", "CHANNEL", "NAME", "KIND",
                                 "COST/MONTH", "ASSIGN");
    for (const auto& ch : resp.channels()) {
      std::cout << absl::StrFormat(
          "%-16s %-24s %-10s %12.2f  %s\n", ch.channel_id(), ch.display_name(),
          Short(lev::ChannelKind_descriptor(), ch.kind(), "CHANNEL_KIND_"),
          ch.monthly_cost() / 100.0,
          Short(lev::AssignMode_descriptor(), ch.assign_mode(), "ASSIGN_MODE_"));
    }
    return 0;
  }
  if ((verb != "create" && verb != "update") || a.words.size() < 3) {
    std::cerr << "usage: channel create|update CHANNEL_ID --name=N --kind=self-built|free|paid "
                 "[--monthly-cost=CENTS] [--assign=claim|assign] [--team=T]\n";
    return 2;
  }
  lv1::Channel ch;
  ch.set_channel_id(a.words[2]);
  ch.set_display_name(a.Flag("name", "", a.words[2]));
  ch.set_kind(static_cast<lev::ChannelKind>(
      std::max(0, EnumValue(lev::ChannelKind_descriptor(), a.Flag("kind", "", "")))));
  int64_t cost = 0;
  if (!absl::SimpleAtoi(a.Flag("monthly-cost", "", "0"), &cost)) {
    std::cerr << "--monthly-cost must be an integer (minor units)\n";
    return 2;
  }
  ch.set_monthly_cost(cost);
  if (a.Has("assign")) {
    ch.set_assign_mode(static_cast<lev::AssignMode>(
        std::max(0, EnumValue(lev::AssignMode_descriptor(), a.Flag("assign", "", "")))));
  }
  ch.set_team_id(a.Flag("team", "", ""));
  lv1::Channel out;
  grpc::Status s;
  if (verb == "create") {
    lv1::CreateChannelRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    *req.mutable_channel() = ch;
    s = c.lead().CreateChannel(&ctx, req, &out);
  } else {
    lv1::UpdateChannelRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    *req.mutable_channel() = ch;
    s = c.lead().UpdateChannel(&ctx, req, &out);
  }
  if (!s.ok()) return Fail(s);
  c.Print(out);
  return 0;
}

int LeadCommand(Client& c, const Args& a) {
  const std::string& verb = a.words[1];
  if (verb == "list") return LeadList(c, a);
  if (verb == "import") return LeadImport(c, a);
  if (verb == "team") {
    if (a.words.size() < 3 || !a.Has("members")) {
      std::cerr << "lead team needs a TEAM_ID and --members=REP,...\n" << kUsage;
      return 2;
    }
    grpc::Status s =
        SetTeam(c, a.words[2], absl::StrSplit(a.Flag("members", "", ""), ',', absl::SkipEmpty()),
                absl::StrSplit(a.Flag("managers", "", ""), ',', absl::SkipEmpty()),
                a.Flag("request-id", "", RandomRequestId()));
    if (!s.ok()) return Fail(s);
    std::cout << "team " << a.words[2] << " set\n";
    return 0;
  }
  const std::string id = a.words.size() > 2 ? a.words[2] : "";
  const std::string rid = a.Flag("request-id", "", RandomRequestId());
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  lv1::Lead out;
  if (verb == "create") {
    lv1::CreateLeadRequest req;
    req.set_request_id(rid);
    auto* l = req.mutable_lead();
    l->set_channel_id(a.Flag("channel", "", ""));
    l->set_company_name(a.Flag("company", "", ""));
    l->set_contact_name(a.Flag("contact", "", ""));
    l->set_email(a.Flag("email", "", ""));
    l->set_phone(a.Flag("phone", "", ""));
    l->set_legal_entity_id(a.Flag("legal-id", "", ""));
    l->set_industry(a.Flag("industry", "", ""));
    l->set_region(a.Flag("region", "", ""));
    return PrintLead(c, c.lead().CreateLead(&ctx, req, &out), out);
  }
  if (verb == "settings") {
    lv1::LeadSettings settings;
    grpc::Status s = c.lead().GetLeadSettings(&ctx, {}, &settings);
    if (!s.ok()) return Fail(s);
    c.Print(settings);
    return 0;
  }
  if (verb == "workload") {
    lv1::GetRepWorkloadRequest req;
    req.set_rep_id(id);
    lv1::RepWorkload load;
    grpc::Status s = c.lead().GetRepWorkload(&ctx, req, &load);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(load);
    } else {
      std::cout << load.rep_id() << ": " << load.open_leads() << " of " << load.capacity()
                << " open leads\n";
    }
    return 0;
  }
  if (id.empty()) {
    std::cerr << "lead " << verb << " needs a LEAD_ID\n" << kUsage;
    return 2;
  }
  const std::string name = LeadName(id);
  if (verb == "get") {
    lv1::GetLeadRequest req;
    req.set_name(name);
    grpc::Status s = c.lead().GetLead(&ctx, req, &out);
    if (!s.ok()) return Fail(s);
    c.Print(out);
    return 0;
  }
  if (verb == "claim") {
    lv1::ClaimLeadRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return PrintLead(c, c.lead().ClaimLead(&ctx, req, &out), out);
  }
  if (verb == "return") {
    lv1::ReturnLeadRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return PrintLead(c, c.lead().ReturnLead(&ctx, req, &out), out);
  }
  if (verb == "convert") {
    lv1::ConvertLeadRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    if (a.Has("with-opportunity")) {
      req.set_create_opportunity(true);
      const std::string named = a.Flag("with-opportunity", "", "");
      req.set_opportunity_name(named == "true" ? "" : named);
    }
    return PrintLead(c, c.lead().ConvertLead(&ctx, req, &out), out);
  }
  if (verb == "merge") {
    lv1::MergeLeadsRequest req;
    req.set_request_id(rid);
    req.set_name(LeadName(a.Flag("into", "", "")));
    req.set_merged_lead(name);
    return PrintLead(c, c.lead().MergeLeads(&ctx, req, &out), out);
  }
  if (verb == "qualify") {
    lv1::QualifyLeadRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    auto* q = req.mutable_qualification();
    q->set_budget_confirmed(a.Has("budget"));
    q->set_decision_maker(a.Has("decision-maker"));
    q->set_need(a.Flag("need", "", ""));
    int days = 0;
    if (!absl::SimpleAtoi(a.Flag("within-days", "", "0"), &days)) {
      std::cerr << "--within-days must be an integer\n";
      return 2;
    }
    q->set_purchase_within_days(days);
    return PrintLead(c, c.lead().QualifyLead(&ctx, req, &out), out);
  }
  if (verb == "engage") {
    lv1::RecordEngagementRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    const std::string kind = a.Flag("kind", "", "content-viewed");
    req.set_kind(static_cast<lev::EngagementKind>(
        std::max(0, EnumValue(lev::EngagementKind_descriptor(), kind))));
    req.set_content_id(a.Flag("content", "", ""));
    for (absl::string_view t : absl::StrSplit(a.Flag("topics", "", ""), ',', absl::SkipEmpty())) {
      req.add_topics(std::string(t));
    }
    int seconds = 0;
    if (!absl::SimpleAtoi(a.Flag("seconds", "", "0"), &seconds)) {
      std::cerr << "--seconds must be an integer\n";
      return 2;
    }
    req.set_seconds(seconds);
    return PrintLead(c, c.lead().RecordEngagement(&ctx, req, &out), out);
  }
  if (verb == "follow-up") {
    lv1::RecordFollowUpRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_note(a.Flag("note", "", ""));
    req.set_next_step(a.Flag("next-step", "", ""));
    return PrintLead(c, c.lead().RecordFollowUp(&ctx, req, &out), out);
  }
  if (verb == "erase-contact") {
    lv1::EraseLeadContactRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return PrintLead(c, c.lead().EraseLeadContact(&ctx, req, &out), out);
  }
  if (verb == "disqualify") {
    lv1::DisqualifyLeadRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_reason(static_cast<lev::DisqualifyReason>(
        std::max(0, EnumValue(lev::DisqualifyReason_descriptor(), a.Flag("reason", "", "")))));
    req.set_note(a.Flag("note", "", ""));
    return PrintLead(c, c.lead().DisqualifyLead(&ctx, req, &out), out);
  }
  std::cerr << "unknown command: lead " << verb << "\n" << kUsage;
  return 2;
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

// crmctl customer import FILE.csv [--import-id=ID] [--public]: a customer
// per row (columns company_name, legal_entity_id, industry, region,
// kp_name, kp_title, kp_phone, kp_email; company_name required), each
// created with request id `import:<id>:<row>`, so a rerun creates nothing
// twice and an interrupted import is resumed by running it again. Bad rows
// are reported with their fields, good rows kept; progress as a bar with
// rate and ETA on a terminal, plain lines otherwise. Exit 3 when a row was
// refused.
int CustomerImport(Client& c, const Args& a) {
  if (a.words.size() < 3) {
    std::cerr << "customer import needs a CSV FILE\n";
    return 2;
  }
  std::ifstream in(a.words[2], std::ios::binary);
  if (!in) {
    std::cerr << "cannot open " << a.words[2] << "\n";
    return 2;
  }
  crm::CsvReader csv;
  csv.Feed(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  if (absl::Status s = csv.Finish(); !s.ok()) {
    std::cerr << "error: " << a.words[2] << ": " << s.message() << "\n";
    return 3;
  }
  std::vector<std::vector<std::string>> rows;
  for (std::vector<std::string> row; csv.Next(&row);) rows.push_back(row);
  if (rows.empty()) {
    std::cerr << "error: " << a.words[2] << " has no header row\n";
    return 3;
  }
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < rows[0].size(); ++i)
    column[std::string(absl::StripAsciiWhitespace(rows[0][i]))] = i;
  if (!column.count("company_name")) {
    std::cerr << "error: the header row must name a company_name column\n";
    return 3;
  }
  const std::string import_id = a.Flag("import-id", "", a.words[2]);
  const bool tty = isatty(fileno(stderr));
  const size_t total = rows.size() - 1;
  const absl::Time start = absl::Now();
  int imported = 0;
  std::vector<std::pair<size_t, std::vector<std::string>>> refused;
  for (size_t r = 1; r < rows.size(); ++r) {
    auto cell = [&](const char* name) -> std::string {
      auto it = column.find(name);
      return it == column.end() || it->second >= rows[r].size() ? "" : rows[r][it->second];
    };
    cv1::CreateCustomerRequest req;
    req.set_request_id(absl::StrCat("import:", import_id, ":", r));
    req.set_into_public_pool(a.Has("public"));
    auto* cu = req.mutable_customer();
    cu->set_company_name(cell("company_name"));
    cu->set_legal_entity_id(cell("legal_entity_id"));
    cu->set_industry(cell("industry"));
    cu->set_region(cell("region"));
    if (!cell("kp_name").empty()) {
      auto* kp = cu->add_contacts();
      kp->set_name(cell("kp_name"));
      kp->set_title(cell("kp_title"));
      kp->set_phone(cell("kp_phone"));
      kp->set_email(cell("kp_email"));
      kp->set_key_person(true);
    }
    grpc::ClientContext ctx;
    c.Prepare(ctx);
    cv1::Customer out;
    const grpc::Status s = c.customer().CreateCustomer(&ctx, req, &out);
    if (s.ok()) {
      ++imported;
    } else if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
               s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      std::vector<std::string> why;
      const absl::Status st = crm::rpc::FromGrpcStatus(s);
      const google::rpc::BadRequest bad = crm::BadRequestOf(st);
      for (const auto& v : bad.field_violations()) {
        why.push_back(absl::StrCat(v.field(), ": ", v.description()));
      }
      if (why.empty()) why.push_back(std::string(st.message()));
      refused.emplace_back(r, std::move(why));
    } else {
      // Not the row's fault: stop; running the import again resumes it.
      if (tty) std::cerr << "\n";
      std::cerr << "stopped at row " << r << " of " << total
                << "; run the same import again to resume\n";
      return Fail(s);
    }
    const int percent = static_cast<int>(r * 100 / total);
    const double rate = r / std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - start));
    if (tty) {
      std::cerr << absl::StrFormat("\r[%-30s] %3d%% %zu/%zu rows %6.0f/s ETA %4.0fs",
                                   std::string(percent * 30 / 100, '#'), percent, r, total, rate,
                                   (total - r) / std::max(rate, 1.0));
    } else if (r == total || r % 100 == 0) {
      std::cerr << absl::StrFormat("import: %zu/%zu rows, %.0f rows/s\n", r, total, rate);
    }
  }
  if (tty) std::cerr << "\n";
  std::cout << total << " rows: " << imported << " imported, " << refused.size() << " refused\n";
  for (const auto& [row, why] : refused) {
    std::cout << "  row " << row << ": " << absl::StrJoin(why, "; ") << "\n";
  }
  return refused.empty() ? 0 : 3;
}

int CustomerCommand(Client& c, const Args& a) {
  const std::string& verb = a.words[1];
  if (verb == "import") return CustomerImport(c, a);
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
  if (verb == "erase-contact") {
    cv1::EraseContactRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_name(name);
    req.set_contact_id(a.Flag("contact", "", ""));
    return PrintCustomer(c, c.customer().EraseContact(&ctx, req, &out), out);
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
  if (verb == "engage") {
    namespace cev = crm::customer::events::v1;
    static const std::map<std::string, cev::EngagementKind> kKinds = {
        {"viewed", cev::ENGAGEMENT_KIND_CONTENT_VIEWED},
        {"link", cev::ENGAGEMENT_KIND_LINK_OPENED},
        {"email", cev::ENGAGEMENT_KIND_EMAIL_OPENED},
        {"form", cev::ENGAGEMENT_KIND_FORM_SUBMITTED}};
    cv1::RecordEngagementRequest req;
    req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
    req.set_customer(name);
    auto it = kKinds.find(a.Flag("kind", "", ""));
    if (it != kKinds.end()) req.set_kind(it->second);
    req.set_topic(a.Flag("topic", "", ""));
    int32_t seconds = 0;
    if (!absl::SimpleAtoi(a.Flag("seconds", "", "0"), &seconds)) {
      std::cerr << "--seconds must be a whole number\n";
      return 2;
    }
    req.set_seconds(seconds);
    grpc::Status s = c.customer().RecordEngagement(&ctx, req, &out);
    if (!s.ok()) return Fail(s);
    c.Print(out);
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

namespace av1 = crm::analytics::v1;

// --from, --to, --as-of (YYYY-MM-DD, UTC) into a period; false on a bad date.
bool ParsePeriod(const Args& a, av1::Period* p) {
  for (const auto& [flag, field] :
       {std::pair<const char*, google::protobuf::Timestamp*>{"from", p->mutable_from()},
        {"to", p->mutable_to()},
        {"as-of", p->mutable_as_of()}}) {
    if (!a.Has(flag)) continue;
    absl::Time t;
    std::string err;
    if (!absl::ParseTime("%Y-%m-%d", a.Flag(flag, "", ""), &t, &err)) return false;
    field->set_seconds(absl::ToUnixSeconds(t));
  }
  if (!a.Has("from")) p->clear_from();
  if (!a.Has("to")) p->clear_to();
  if (!a.Has("as-of")) p->clear_as_of();
  return true;
}

int AnalyticsCommand(Client& c, const Args& a) {
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  av1::Period period;
  if (!ParsePeriod(a, &period)) {
    std::cerr << "--from, --to and --as-of take YYYY-MM-DD\n";
    return 2;
  }
  if (a.words[1] == "funnel") {
    av1::GetFunnelRequest req;
    const std::string by = a.Flag("by", "", "tenant");
    req.set_group_by(by == "channel" ? av1::GetFunnelRequest::GROUP_BY_CHANNEL
                     : by == "rep"   ? av1::GetFunnelRequest::GROUP_BY_REP
                     : by == "team"  ? av1::GetFunnelRequest::GROUP_BY_TEAM
                                     : av1::GetFunnelRequest::GROUP_BY_TENANT);
    *req.mutable_period() = period;
    av1::Funnel resp;
    grpc::Status s = c.analytics().GetFunnel(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-14s %6s %6s %6s %6s %5s %14s %6s %6s %6s %8s\n", "GROUP",
                                 "LEADS", "CUST", "OPPS", "DEALS", "WON", "WON AMOUNT", "L>C",
                                 "C>O", "O>W", "DAYS L>C");
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat(
          "%-14s %6d %6d %6d %6d %5d %14.2f %5.0f%% %5.0f%% %5.0f%% %8.1f\n",
          r.group().empty() ? "(all)" : r.group(), r.leads(), r.customers(),
          r.customers_with_opportunities(), r.opportunities(), r.won(), r.won_amount() / 100.0,
          r.lead_to_customer() * 100, r.customer_to_opportunity() * 100,
          r.opportunity_to_won() * 100, r.days_lead_to_customer());
    }
    return 0;
  }
  if (a.words[1] == "channel-value") {
    av1::GetChannelValueRequest req;
    *req.mutable_period() = period;
    av1::ChannelValue resp;
    grpc::Status s = c.analytics().GetChannelValue(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-14s %12s %6s %6s %14s %10s %10s %8s %6s\n", "CHANNEL", "COST",
                                 "LEADS", "CUST", "WON AMOUNT", "PER LEAD", "PER CUST", "PER WON",
                                 "SHARE");
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat("%-14s %12.2f %6d %6d %14.2f %10.2f %10.2f %8.3f %5.0f%%\n",
                                   r.channel_id(), r.cost() / 100.0, r.leads(), r.customers(),
                                   r.won_amount() / 100.0, r.cost_per_lead() / 100.0,
                                   r.cost_per_customer() / 100.0, r.cost_per_won_unit(),
                                   r.revenue_share() * 100);
    }
    return 0;
  }
  if (a.words[1] == "lead-counts") return LeadCounts(c);
  if (a.words[1] == "owner" || a.words[1] == "pool") {
    if (a.words.size() < 3) {
      std::cerr << "analytics " << a.words[1] << " needs a "
                << (a.words[1] == "owner" ? "CUSTOMER_ID" : "REP_ID") << "\n"
                << kUsage;
      return 2;
    }
    if (a.words[1] == "owner") {
      av1::GetOwnershipRequest req;
      req.set_customer_id(a.words[2]);
      if (period.has_as_of()) *req.mutable_as_of() = period.as_of();
      av1::Ownership resp;
      grpc::Status s = c.analytics().GetOwnership(&ctx, req, &resp);
      if (!s.ok()) return Fail(s);
      if (c.json()) {
        c.Print(resp);
        return 0;
      }
      auto day = [](const google::protobuf::Timestamp& t) {
        return absl::FormatTime("%Y-%m-%d %H:%M", crm::FromTimestamp(t), absl::UTCTimeZone());
      };
      for (const auto& span : resp.spans()) {
        std::cout << absl::StrFormat(
            "%-16s %-30s from %s%s\n", span.owner_id().empty() ? "(public pool)" : span.owner_id(),
            span.how(), day(span.from()), span.has_to() ? " to " + day(span.to()) : "");
      }
      return 0;
    }
    av1::GetRepPoolAsOfRequest req;
    req.set_rep_id(a.words[2]);
    if (period.has_as_of()) *req.mutable_as_of() = period.as_of();
    av1::RepPoolAsOf resp;
    grpc::Status s = c.analytics().GetRepPoolAsOf(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& id : resp.customer_ids()) std::cout << id << "\n";
    return 0;
  }
  if (a.words[1] == "ranking") {
    av1::GetRankingRequest req;
    req.set_metric(a.Flag("metric", "", "won_amount"));
    const std::string by = a.Flag("by", "", "rep");
    req.set_group_by(by == "channel" ? av1::GetFunnelRequest::GROUP_BY_CHANNEL
                     : by == "team"  ? av1::GetFunnelRequest::GROUP_BY_TEAM
                                     : av1::GetFunnelRequest::GROUP_BY_REP);
    *req.mutable_period() = period;
    av1::Ranking resp;
    grpc::Status s = c.analytics().GetRanking(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat("%4d  %-20s %14.2f\n", r.rank(), r.group(), r.value());
    }
    return 0;
  }
  if (a.words[1] == "forecast" || a.words[1] == "forecast-accuracy") {
    const bool accuracy = a.words[1] == "forecast-accuracy";
    const std::string by = a.Flag("by", "", accuracy ? "rep" : "tenant");
    const auto group_by = by == "rep"    ? av1::GetFunnelRequest::GROUP_BY_REP
                          : by == "team" ? av1::GetFunnelRequest::GROUP_BY_TEAM
                                         : av1::GetFunnelRequest::GROUP_BY_TENANT;
    if (accuracy) {
      av1::GetForecastAccuracyRequest req;
      req.set_group_by(group_by);
      int32_t months = 6;
      if (!absl::SimpleAtoi(a.Flag("months", "", "6"), &months)) {
        std::cerr << "--months must be a number\n";
        return 2;
      }
      req.set_months(months);
      if (period.has_as_of()) *req.mutable_as_of() = period.as_of();
      av1::ForecastAccuracy resp;
      grpc::Status s = c.analytics().GetForecastAccuracy(&ctx, req, &resp);
      if (!s.ok()) return Fail(s);
      if (c.json()) {
        c.Print(resp);
        return 0;
      }
      std::cout << absl::StrFormat("%-20s %14s %14s %8s %8s %8s\n", "group", "forecast", "won",
                                   "error", "bias", "default");
      for (const auto& r : resp.rows()) {
        std::cout << absl::StrFormat("%-20s %14d %14d %7.1f%% %+7.1f%% %7.1f%%\n",
                                     r.group().empty() ? "(tenant)" : r.group(), r.forecast_total(),
                                     r.actual_total(), r.error() * 100, r.bias() * 100,
                                     r.stage_default_error() * 100);
      }
      return 0;
    }
    av1::GetForecastRequest req;
    req.set_group_by(group_by);
    if (period.has_as_of()) *req.mutable_as_of() = period.as_of();
    av1::Forecast resp;
    grpc::Status s = c.analytics().GetForecast(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-20s %-8s %12s %12s %12s %12s\n", "group", "period", "won",
                                 "open", "calibrated", "forecast");
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat(
          "%-20s %-8s %12d %12d %12d %12d\n", r.group().empty() ? "(tenant)" : r.group(),
          r.period(), r.won_amount(), r.open_amount(), r.calibrated_amount(), r.forecast_amount());
    }
    return 0;
  }
  if (a.words[1] == "backtest") {
    av1::BacktestPoolRulesRequest req;
    if (period.has_from()) *req.mutable_from() = period.from();
    if (period.has_to()) *req.mutable_to() = period.to();
    auto* settings = req.mutable_policy();
    const auto* descriptor = settings->GetDescriptor();
    for (const auto& [flag, field] : std::vector<std::pair<const char*, const char*>>{
             {"capacity", "default_capacity"},
             {"smb-follow-up-days", "smb_no_follow_up_days"},
             {"smb-contract-days", "smb_no_contract_days"},
             {"ka-follow-up-days", "ka_no_follow_up_days"},
             {"ka-contract-days", "ka_no_contract_days"}}) {
      if (!a.Has(flag)) continue;
      int32_t value = 0;
      if (!absl::SimpleAtoi(a.Flag(flag, "", ""), &value)) {
        std::cerr << "--" << flag << " must be a number\n";
        return 2;
      }
      settings->GetReflection()->SetInt32(settings, descriptor->FindFieldByName(field), value);
      req.mutable_update_mask()->add_paths(field);
    }
    av1::PoolRulesBacktest resp;
    grpc::Status s = c.analytics().BacktestPoolRules(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    const auto& p = resp.policy();
    std::cout << absl::StrFormat(
        "rules: capacity %d; SMB %d days without a follow-up, %d without a contract; KA %d, %d\n",
        p.default_capacity(), p.smb_no_follow_up_days(), p.smb_no_contract_days(),
        p.ka_no_follow_up_days(), p.ka_no_contract_days());
    std::cout << absl::StrFormat("%-20s %9s %9s %9s %9s %9s %9s\n", "rep", "released", "proposed",
                                 "only-new", "kept", "acquired", "refused");
    auto row = [](const av1::BacktestRepRow& r, const std::string& name) {
      std::cout << absl::StrFormat("%-20s %9d %9d %9d %9d %9d %9d\n", name, r.released_live(),
                                   r.released_proposed(), r.released_only_proposed(),
                                   r.kept_under_proposed(), r.acquired(), r.refused_proposed());
    };
    for (const auto& r : resp.reps()) row(r, r.rep_id());
    row(resp.total(), "(all)");
    return 0;
  }
  if (a.words[1] == "receivables") {
    const std::string by = a.Flag("by", "", "tenant");
    av1::GetReceivablesRequest req;
    req.set_group_by(by == "rep"    ? av1::GetFunnelRequest::GROUP_BY_REP
                     : by == "team" ? av1::GetFunnelRequest::GROUP_BY_TEAM
                                    : av1::GetFunnelRequest::GROUP_BY_TENANT);
    if (period.has_as_of()) *req.mutable_as_of() = period.as_of();
    av1::ReceivablesAging resp;
    grpc::Status s = c.analytics().GetReceivables(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-20s %11s %11s %11s %11s %11s %11s %8s %8s\n", "group",
                                 "not due", "0-30", "31-60", "61-90", ">90", "total", "err days",
                                 "<=7 days");
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat("%-20s %11d %11d %11d %11d %11d %11d %8.1f %7.0f%%\n",
                                   r.group().empty() ? "(tenant)" : r.group(), r.not_due(),
                                   r.days_0_30(), r.days_31_60(), r.days_61_90(), r.over_90(),
                                   r.total(), r.prediction_error_days(),
                                   r.prediction_within_7_days() * 100);
    }
    return 0;
  }
  if (a.words[1] == "pool-health") {
    av1::GetPoolHealthRequest req;
    *req.mutable_period() = period;
    const std::string by = a.Flag("by", "", "");
    if (!by.empty()) {
      av1::GetPoolHealthRequest::GroupBy group_by;
      if (!av1::GetPoolHealthRequest::GroupBy_Parse("GROUP_BY_" + absl::AsciiStrToUpper(by),
                                                    &group_by)) {
        std::cerr << "--by must be rep, team or region\n";
        return 2;
      }
      req.set_group_by(group_by);
    }
    av1::PoolHealth resp;
    grpc::Status s = c.analytics().GetPoolHealth(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    c.Print(resp);
    return 0;
  }
  std::cerr << "unknown command: analytics " << a.words[1] << "\n" << kUsage;
  return 2;
}

// Deterministic demo leads from a seed: the same seed gives the same leads,
// and a rerun creates nothing new (request ids derive from seed and index).

namespace ov1 = crm::opportunity::v1;
namespace oev = crm::opportunity::events::v1;

// "seat:10:500,setup:1" -> lines (product:quantity[:discount basis points]).
bool ParseLines(const std::string& text, google::protobuf::RepeatedPtrField<ov1::LineInput>* out) {
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    ov1::LineInput* l = out->Add();
    int32_t qty = 1, bp = 0;
    if (parts.empty() || (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &qty)) ||
        (parts.size() > 2 && !absl::SimpleAtoi(parts[2], &bp))) {
      return false;
    }
    l->set_product_id(parts[0]);
    l->set_quantity(qty);
    l->set_discount_bp(bp);
  }
  return true;
}

void PrintOpportunityRow(const ov1::Opportunity& o) {
  std::cout << absl::StrFormat(
      "%-22s %-22s %-24s %-16s %3d%%%s %14.2f  %-10s %s\n", o.opportunity_id(), o.customer_id(),
      o.display_name(), o.stage_id(), o.probability(), o.probability_calibrated() ? "*" : " ",
      o.amount() / 100.0,
      Short(ov1::OpportunityState_descriptor(), o.state(), "OPPORTUNITY_STATE_"), o.owner_id());
}

int PrintOpportunity(Client& c, const grpc::Status& s, const ov1::Opportunity& o) {
  if (!s.ok()) {
    int code = Fail(s);
    const google::rpc::PreconditionFailure pf =
        crm::PreconditionFailureOf(crm::rpc::FromGrpcStatus(s));
    for (const auto& v : pf.violations()) {
      std::cerr << "  unmet " << v.type() << " (" << v.subject() << "): " << v.description()
                << "\n";
    }
    return code;
  }
  if (c.json()) {
    c.Print(o);
  } else {
    PrintOpportunityRow(o);
  }
  return 0;
}

int ProductCommand(Client& c, const Args& a) {
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  if (a.words[1] == "list") {
    ov1::ListProductsResponse resp;
    grpc::Status s = c.opportunity().ListProducts(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& p : resp.products()) {
      std::cout << absl::StrFormat("%-16s %-30s %14.2f%s\n", p.product_id(), p.display_name(),
                                   p.list_price() / 100.0, p.retired() ? "  (retired)" : "");
    }
    return 0;
  }
  if (a.words[1] != "save" || a.words.size() < 3) {
    std::cerr << "usage: product save ID --name=N --price=CENTS [--bundle=P:Q,...] [--retired]\n";
    return 2;
  }
  ov1::SaveProductRequest req;
  req.set_request_id(a.Flag("request-id", "", RandomRequestId()));
  auto* p = req.mutable_product();
  p->set_product_id(a.words[2]);
  p->set_display_name(a.Flag("name", "", a.words[2]));
  int64_t price = 0;
  if (!absl::SimpleAtoi(a.Flag("price", "", "0"), &price)) {
    std::cerr << "--price must be an integer (minor units)\n";
    return 2;
  }
  p->set_list_price(price);
  p->set_retired(a.Has("retired"));
  for (absl::string_view item : absl::StrSplit(a.Flag("bundle", "", ""), ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    auto* b = p->add_bundle_items();
    b->set_product_id(parts[0]);
    int32_t qty = 1;
    if (parts.size() > 1 && !absl::SimpleAtoi(parts[1], &qty)) {
      std::cerr << "--bundle takes PRODUCT:QUANTITY,...\n";
      return 2;
    }
    b->set_quantity(qty);
  }
  ov1::Product out;
  grpc::Status s = c.opportunity().SaveProduct(&ctx, req, &out);
  if (!s.ok()) return Fail(s);
  c.Print(out);
  return 0;
}

int OpportunityCommand(Client& c, const Args& a) {
  const std::string& verb = a.words[1];
  const std::string rid = a.Flag("request-id", "", RandomRequestId());
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  ov1::Opportunity out;
  if (verb == "create") {
    ov1::CreateOpportunityRequest req;
    req.set_request_id(rid);
    req.mutable_opportunity()->set_customer_id(a.Flag("customer", "", ""));
    req.mutable_opportunity()->set_display_name(a.Flag("name", "", ""));
    req.mutable_opportunity()->set_team_id(a.Flag("team", "", ""));
    req.mutable_opportunity()->set_pipeline_id(a.Flag("pipeline", "", ""));
    req.mutable_opportunity()->set_need(a.Flag("need", "", ""));
    if (!ParseLines(a.Flag("lines", "", ""), req.mutable_lines())) {
      std::cerr << "--lines takes PRODUCT:QUANTITY[:DISCOUNT_BP],...\n";
      return 2;
    }
    return PrintOpportunity(c, c.opportunity().CreateOpportunity(&ctx, req, &out), out);
  }
  if (verb == "list") {
    ov1::ListOpportunitiesRequest req;
    req.set_owner_id(a.Has("mine") ? a.Flag("user", "CRM_USER", "cli") : a.Flag("owner", "", ""));
    req.set_customer_id(a.Flag("customer", "", ""));
    req.set_open_only(a.Has("open"));
    req.set_page_size(1000);
    ov1::ListOpportunitiesResponse resp;
    grpc::Status s = c.opportunity().ListOpportunities(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-22s %-22s %-24s %-16s %5s %14s  %-10s %s\n", "OPPORTUNITY",
                                 "CUSTOMER", "NAME", "STAGE", "PROB", "AMOUNT", "STATE", "OWNER");
    for (const auto& o : resp.opportunities()) PrintOpportunityRow(o);
    return 0;
  }
  if (verb == "forecast") {
    ov1::GetForecastRequest req;
    const std::string by = a.Flag("by", "", "tenant");
    req.set_group_by(by == "rep"    ? ov1::GetForecastRequest::GROUP_BY_REP
                     : by == "team" ? ov1::GetForecastRequest::GROUP_BY_TEAM
                                    : ov1::GetForecastRequest::GROUP_BY_TENANT);
    req.set_period(a.Has("quarter") ? ov1::GetForecastRequest::PERIOD_QUARTER
                                    : ov1::GetForecastRequest::PERIOD_MONTH);
    ov1::Forecast resp;
    grpc::Status s = c.opportunity().GetForecast(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-12s %-12s %-10s %5s %14s %14s\n", "GROUP", "PERIOD", "CATEGORY",
                                 "DEALS", "AMOUNT", "WEIGHTED");
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat(
          "%-12s %-12s %-10s %5d %14.2f %14.2f\n", r.group().empty() ? "(tenant)" : r.group(),
          r.period(), Short(oev::ForecastCategory_descriptor(), r.category(), "FORECAST_CATEGORY_"),
          r.opportunities(), r.amount() / 100.0, r.weighted_amount() / 100.0);
    }
    return 0;
  }
  if (a.words.size() < 3) {
    std::cerr << "opportunity " << verb << " needs an OPPORTUNITY_ID\n" << kUsage;
    return 2;
  }
  const std::string name =
      absl::StartsWith(a.words[2], "opportunities/") ? a.words[2] : "opportunities/" + a.words[2];
  if (verb == "get") {
    ov1::GetOpportunityRequest req;
    req.set_name(name);
    grpc::Status s = c.opportunity().GetOpportunity(&ctx, req, &out);
    if (!s.ok()) return Fail(s);
    c.Print(out);
    return 0;
  }
  if (verb == "lines") {
    ov1::SetLinesRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    if (!ParseLines(a.Flag("lines", "", ""), req.mutable_lines())) {
      std::cerr << "--lines takes PRODUCT:QUANTITY[:DISCOUNT_BP],...\n";
      return 2;
    }
    return PrintOpportunity(c, c.opportunity().SetLines(&ctx, req, &out), out);
  }
  if (verb == "need") {
    ov1::RecordNeedRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_need(a.Flag("need", "", ""));
    return PrintOpportunity(c, c.opportunity().RecordNeed(&ctx, req, &out), out);
  }
  if (verb == "quote") {
    ov1::SendQuoteRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return PrintOpportunity(c, c.opportunity().SendQuote(&ctx, req, &out), out);
  }
  if (verb == "advance") {
    ov1::AdvanceStageRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_stage_id(a.Flag("stage", "", ""));
    return PrintOpportunity(c, c.opportunity().AdvanceStage(&ctx, req, &out), out);
  }
  if (verb == "close-date") {
    ov1::UpdateForecastRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    absl::Time t;
    std::string err;
    if (a.Has("date")) {
      if (!absl::ParseTime("%Y-%m-%d", a.Flag("date", "", ""), &t, &err)) {
        std::cerr << "--date takes YYYY-MM-DD\n";
        return 2;
      }
      req.mutable_expected_close_time()->set_seconds(absl::ToUnixSeconds(t));
    }
    if (a.Has("category")) {
      req.set_forecast_category(static_cast<oev::ForecastCategory>(
          std::max(0, EnumValue(oev::ForecastCategory_descriptor(), a.Flag("category", "", "")))));
    }
    return PrintOpportunity(c, c.opportunity().UpdateForecast(&ctx, req, &out), out);
  }
  if (verb == "lose") {
    ov1::RequestCloseLostRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_reason(static_cast<oev::LossReason>(
        std::max(0, EnumValue(oev::LossReason_descriptor(), a.Flag("reason", "", "")))));
    req.set_note(a.Flag("note", "", ""));
    return PrintOpportunity(c, c.opportunity().RequestCloseLost(&ctx, req, &out), out);
  }
  if (verb == "decide") {
    ov1::DecideCloseLostRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_approve(a.Has("approve"));
    req.set_comment(a.Flag("comment", "", ""));
    return PrintOpportunity(c, c.opportunity().DecideCloseLost(&ctx, req, &out), out);
  }
  if (verb == "win") {
    ov1::CloseWonRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return PrintOpportunity(c, c.opportunity().CloseWon(&ctx, req, &out), out);
  }
  std::cerr << "unknown command: opportunity " << verb << "\n" << kUsage;
  return 2;
}

namespace kv1 = crm::contract::v1;

void PrintContractRow(const kv1::Contract& k) {
  int64_t open = 0;
  for (const auto& i : k.installments()) open += i.amount() - i.paid();
  std::cout << absl::StrFormat(
      "%-22s %-22s %-12s %14.2f %14.2f  %d/%d steps  %s\n", k.contract_id(), k.customer_id(),
      Short(kv1::ContractState_descriptor(), k.state(), "CONTRACT_STATE_"), k.amount() / 100.0,
      open / 100.0, k.approval_steps_done(), k.approval_steps_size(), k.owner_id());
}

int ContractCommand(Client& c, const Args& a) {
  const std::string& verb = a.words[1];
  const std::string rid = a.Flag("request-id", "", RandomRequestId());
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  kv1::Contract out;
  auto reply = [&](const grpc::Status& s) {
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(out);
    } else {
      PrintContractRow(out);
    }
    return 0;
  };
  if (verb == "list") {
    kv1::ListContractsRequest req;
    req.set_owner_id(a.Flag("owner", "", ""));
    req.set_customer_id(a.Flag("customer", "", ""));
    kv1::ListContractsResponse resp;
    grpc::Status s = c.contract().ListContracts(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-22s %-22s %-12s %14s %14s  %-11s %s\n", "CONTRACT", "CUSTOMER",
                                 "STATE", "AMOUNT", "OPEN", "APPROVAL", "OWNER");
    for (const auto& k : resp.contracts()) PrintContractRow(k);
    return 0;
  }
  if (verb == "receivables") {
    kv1::GetReceivablesRequest req;
    const std::string by = a.Flag("by", "", "tenant");
    req.set_group_by(by == "owner"      ? kv1::GetReceivablesRequest::GROUP_BY_OWNER
                     : by == "customer" ? kv1::GetReceivablesRequest::GROUP_BY_CUSTOMER
                                        : kv1::GetReceivablesRequest::GROUP_BY_TENANT);
    kv1::Receivables resp;
    grpc::Status s = c.contract().GetReceivables(&ctx, req, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-22s %12s %12s %12s %12s %12s %12s\n", "GROUP", "NOT DUE",
                                 "0-30", "31-60", "61-90", ">90", "TOTAL");
    for (const auto& r : resp.rows()) {
      std::cout << absl::StrFormat("%-22s %12.2f %12.2f %12.2f %12.2f %12.2f %12.2f\n",
                                   r.group().empty() ? "(tenant)" : r.group(), r.not_due() / 100.0,
                                   r.days_0_30() / 100.0, r.days_31_60() / 100.0,
                                   r.days_61_90() / 100.0, r.over_90() / 100.0, r.total() / 100.0);
    }
    for (const auto& o : resp.overdue()) {
      std::cout << "  overdue " << o.days_overdue() << " days: " << o.contract() << " "
                << absl::StrFormat("%.2f", o.open() / 100.0) << " (" << o.owner_id()
                << "), expected "
                << absl::FormatTime("%Y-%m-%d", crm::FromTimestamp(o.expected_pay_time()),
                                    absl::UTCTimeZone())
                << " (" << o.prediction_method() << ")\n";
    }
    const auto& p = resp.prediction();
    std::cout << absl::StrFormat(
        "payment prediction: mean absolute error %.1f days over %d paid installments, %.0f%% "
        "within 7 days\n",
        p.mean_absolute_error_days(), p.samples(), p.within_7_days() * 100);
    return 0;
  }
  if (verb == "reminders") {
    kv1::ListContractRemindersResponse resp;
    grpc::Status s = c.contract().ListContractReminders(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    if (c.json()) {
      c.Print(resp);
      return 0;
    }
    for (const auto& r : resp.reminders()) {
      std::cout << absl::StrFormat(
          "%-16s %s  %-22s %s\n", r.rule(),
          absl::FormatTime("%Y-%m-%d", crm::FromTimestamp(r.due_time()), absl::UTCTimeZone()),
          r.contract(), r.message());
    }
    return 0;
  }
  if (a.words.size() < 3) {
    std::cerr << "contract " << verb << " needs a CONTRACT_ID\n" << kUsage;
    return 2;
  }
  const std::string name =
      absl::StartsWith(a.words[2], "contracts/") ? a.words[2] : "contracts/" + a.words[2];
  if (verb == "get") {
    kv1::GetContractRequest req;
    req.set_name(name);
    grpc::Status s = c.contract().GetContract(&ctx, req, &out);
    if (!s.ok()) return Fail(s);
    c.Print(out);
    return 0;
  }
  if (verb == "submit") {
    kv1::SubmitContractRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return reply(c.contract().SubmitContract(&ctx, req, &out));
  }
  if (verb == "approve" || verb == "reject") {
    kv1::DecideContractRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_comment(a.Flag("comment", "", ""));
    return reply(verb == "approve" ? c.contract().ApproveContract(&ctx, req, &out)
                                   : c.contract().RejectContract(&ctx, req, &out));
  }
  if (verb == "send" || verb == "confirm") {
    kv1::ContractActionRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    return reply(verb == "send" ? c.contract().SendContract(&ctx, req, &out)
                                : c.contract().ConfirmContract(&ctx, req, &out));
  }
  if (verb == "plan") {
    // --installments=AMOUNT@YYYY-MM-DD,...
    kv1::SetPaymentPlanRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    for (absl::string_view item :
         absl::StrSplit(a.Flag("installments", "", ""), ',', absl::SkipEmpty())) {
      std::vector<std::string> parts = absl::StrSplit(item, '@');
      int64_t amount = 0;
      absl::Time due;
      std::string err;
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &amount) ||
          !absl::ParseTime("%Y-%m-%d", parts[1], &due, &err)) {
        std::cerr << "--installments takes CENTS@YYYY-MM-DD,...\n";
        return 2;
      }
      auto* in = req.add_installments();
      in->set_amount(amount);
      in->mutable_due_time()->set_seconds(absl::ToUnixSeconds(due));
    }
    return reply(c.contract().SetPaymentPlan(&ctx, req, &out));
  }
  if (verb == "pay") {
    kv1::RecordPaymentRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    int64_t amount = 0;
    if (!absl::SimpleAtoi(a.Flag("amount", "", ""), &amount)) {
      std::cerr << "--amount must be an integer (minor units)\n";
      return 2;
    }
    req.set_amount(amount);
    return reply(c.contract().RecordPayment(&ctx, req, &out));
  }
  if (verb == "milestone") {
    kv1::AddMilestoneRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.mutable_milestone()->set_title(a.Flag("title", "", ""));
    req.mutable_milestone()->set_owner_id(a.Flag("owner", "", ""));
    absl::Time due;
    std::string err;
    if (!absl::ParseTime("%Y-%m-%d", a.Flag("due", "", ""), &due, &err)) {
      std::cerr << "--due takes YYYY-MM-DD\n";
      return 2;
    }
    *req.mutable_milestone()->mutable_due_time() = crm::ToTimestamp(due);
    return reply(c.contract().AddMilestone(&ctx, req, &out));
  }
  if (verb == "milestone-done") {
    kv1::CompleteMilestoneRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_milestone_id(a.Flag("milestone", "", ""));
    req.set_note(a.Flag("note", "", ""));
    const std::string follow_up = a.Flag("follow-up", "", "");
    req.set_follow_up(follow_up == "revisit" ? crm::contract::events::v1::FOLLOW_UP_KIND_REVISIT
                      : follow_up == "cross-sell"
                          ? crm::contract::events::v1::FOLLOW_UP_KIND_CROSS_SELL
                          : crm::contract::events::v1::FOLLOW_UP_KIND_UNSPECIFIED);
    int32_t days = 0;
    if (!follow_up.empty() && !absl::SimpleAtoi(a.Flag("after-days", "", ""), &days)) {
      std::cerr << "--after-days must be a whole number of days\n";
      return 2;
    }
    req.set_follow_up_after_days(days);
    return reply(c.contract().CompleteMilestone(&ctx, req, &out));
  }
  if (verb == "end") {
    kv1::EndContractRequest req;
    req.set_request_id(rid);
    req.set_name(name);
    req.set_reason(a.Has("terminate") ? crm::contract::events::v1::END_REASON_TERMINATED
                                      : crm::contract::events::v1::END_REASON_COMPLETED);
    req.set_note(a.Flag("note", "", ""));
    return reply(c.contract().EndContract(&ctx, req, &out));
  }
  std::cerr << "unknown command: contract " << verb << "\n" << kUsage;
  return 2;
}

// crmctl ops progress SERVICE [--wait]: how far the service's consumers
// have read their topics (a rebuild, a catch-up); with --wait, until all
// are caught up, as a bar with rate and ETA on a terminal, plain lines
// otherwise.
int OpsProgress(Client& c, const Args& a, crm::ops::v1::OpsService::Stub& stub) {
  const bool wait = a.Has("wait");
  const bool tty = isatty(fileno(stderr));
  for (absl::Time last_line = absl::InfinitePast();;) {
    grpc::ClientContext ctx;
    c.Prepare(ctx);
    crm::ops::v1::ProjectionProgress resp;
    grpc::Status s = stub.GetProjectionProgress(&ctx, {}, &resp);
    if (!s.ok()) return Fail(s);
    int64_t events = 0, left = 0;
    double rate = 0, eta = 0;
    bool done = true;
    for (const auto& p : resp.consumers()) {
      events += p.catch_up_events();
      left += p.catch_up_left();
      rate += p.events_per_second();
      eta = std::max(eta, p.eta_seconds());
      done = done && p.caught_up();
    }
    if (!wait) {
      if (c.json()) {
        c.Print(resp);
        return 0;
      }
      std::cout << absl::StrFormat("%-32s %-28s %-9s %12s %12s %10s %8s\n", "projection", "topic",
                                   "state", "catch-up", "left", "events/s", "eta s");
      for (const auto& p : resp.consumers()) {
        std::cout << absl::StrFormat("%-32s %-28s %-9s %12d %12d %10.0f %8.0f\n", p.projection(),
                                     p.topic(), p.caught_up() ? "caught-up" : "reading",
                                     p.catch_up_events(), p.catch_up_left(), p.events_per_second(),
                                     p.eta_seconds());
      }
      return 0;
    }
    const int percent =
        events == 0 ? (done ? 100 : 0) : static_cast<int>((events - left) * 100 / events);
    if (tty) {
      std::cerr << absl::StrFormat("\r[%-30s] %3d%% %d/%d events %8.0f/s ETA %4.0fs",
                                   std::string(percent * 30 / 100, '#'), percent, events - left,
                                   events, rate, eta);
    } else if (done || absl::Now() - last_line >= absl::Seconds(5)) {
      last_line = absl::Now();
      std::cerr << absl::StrFormat("progress: %d%% (%d/%d events), %.0f events/s, ETA %.0f s\n",
                                   percent, events - left, events, rate, eta);
    }
    if (done) {
      if (tty) std::cerr << "\n";
      std::cout << "caught up\n";
      return 0;
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
}

// The services by their short name: default address and gRPC service.
const std::map<std::string, std::pair<std::string, std::string>> kServices = {
    {"lead", {"127.0.0.1:50051", "crm.lead.v1.LeadService"}},
    {"customer", {"127.0.0.1:50052", "crm.customer.v1.CustomerService"}},
    {"opportunity", {"127.0.0.1:50053", "crm.opportunity.v1.OpportunityService"}},
    {"contract", {"127.0.0.1:50054", "crm.contract.v1.ContractService"}},
    {"analytics", {"127.0.0.1:50055", "crm.analytics.v1.AnalyticsService"}}};

// A channel to `service` (a kServices name) at --SERVICE / CRM_SERVICE_ADDR.
std::shared_ptr<grpc::Channel> ServiceChannel(const Args& a, const std::string& service) {
  return grpc::CreateChannel(a.Flag(service, "CRM_" + absl::AsciiStrToUpper(service) + "_ADDR",
                                    kServices.at(service).first),
                             Credentials(a));
}

// crmctl call SERVICE METHOD [JSON]: any RPC of any service by name, the
// request as proto JSON (the argument, else standard input), the response
// printed as JSON: for the RPCs without a command of their own.
int CallCommand(Client& c, const Args& a) {
  namespace pb = google::protobuf;
  if (a.words.size() < 3 || !kServices.count(a.words[1])) {
    std::cerr << "usage: crmctl call lead|customer|opportunity|contract|analytics METHOD [JSON]\n";
    return 2;
  }
  const std::string& service = kServices.at(a.words[1]).second;
  const pb::ServiceDescriptor* sd =
      pb::DescriptorPool::generated_pool()->FindServiceByName(service);
  const pb::MethodDescriptor* m = sd == nullptr ? nullptr : sd->FindMethodByName(a.words[2]);
  if (m == nullptr || m->client_streaming() || m->server_streaming()) {
    std::cerr << "error: " << service << " has no unary method " << a.words[2] << "; it has:";
    for (int i = 0; sd != nullptr && i < sd->method_count(); ++i) {
      std::cerr << " " << sd->method(i)->name();
    }
    std::cerr << "\n";
    return 2;
  }
  std::string json = a.words.size() > 3 ? a.words[3]
                                        : std::string(std::istreambuf_iterator<char>(std::cin),
                                                      std::istreambuf_iterator<char>());
  if (absl::StripAsciiWhitespace(json).empty()) json = "{}";
  auto* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> req(factory->GetPrototype(m->input_type())->New());
  if (auto st = pb::util::JsonStringToMessage(json, req.get()); !st.ok()) {
    std::cerr << "error: the request is not a " << m->input_type()->full_name()
              << " in JSON: " << st.message() << "\n";
    return 2;
  }
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  std::string raw;
  grpc::Status s =
      crm::rpc::RawCall(ctx, ServiceChannel(a, a.words[1]), "/" + service + "/" + m->name(),
                        req->SerializeAsString(), &raw);
  if (!s.ok()) return Fail(s);
  std::unique_ptr<pb::Message> resp(factory->GetPrototype(m->output_type())->New());
  if (!resp->ParseFromString(raw)) {
    std::cerr << "error: the response is not a " << m->output_type()->full_name() << "\n";
    return 1;
  }
  c.Print(*resp);
  return 0;
}

// crmctl ops parked SERVICE [--projection=P]: what the service's projections
// parked, with the error (admin).
int OpsCommand(Client& c, const Args& a) {
  if (a.words.size() < 3 || (a.words[1] != "parked" && a.words[1] != "progress") ||
      !kServices.count(a.words[2])) {
    std::cerr << "usage: crmctl ops parked lead|customer|opportunity|contract|analytics "
                 "[--projection=P]\n"
                 "       crmctl ops progress lead|customer|opportunity|contract|analytics "
                 "[--wait]\n";
    return 2;
  }
  const std::string& service = a.words[2];
  auto stub = crm::ops::v1::OpsService::NewStub(ServiceChannel(a, service));
  if (a.words[1] == "progress") return OpsProgress(c, a, *stub);
  grpc::ClientContext ctx;
  c.Prepare(ctx);
  crm::ops::v1::ListParkedEventsRequest req;
  req.set_projection(a.Flag("projection", "", ""));
  crm::ops::v1::ListParkedEventsResponse resp;
  grpc::Status s = stub->ListParkedEvents(&ctx, req, &resp);
  if (!s.ok()) return Fail(s);
  if (c.json()) {
    c.Print(resp);
    return 0;
  }
  std::cout << service << " projections: " << absl::StrJoin(resp.projections(), ", ") << "\n";
  if (resp.events().empty()) std::cout << "nothing parked\n";
  for (const auto& p : resp.events()) {
    std::cout << absl::StrFormat(
        "%-24s %s[%d]@%d %s: %s\n", p.projection(), p.source(), p.partition(), p.offset(),
        p.event().type().empty() ? "(undecoded)" : p.event().type(), p.error());
  }
  return 0;
}

// Takes a won deal's contract through legal, to the customer and a payment
// plan whose first installment is already late and partly paid, with an
// onboarding milestone for customer service.
grpc::Status DemoContract(Client& c, const std::string& rid, const std::string& rep,
                          const std::string& contract_id) {
  const std::string name = "contracts/" + contract_id;
  kv1::Contract k;
  auto step = [&](const std::string& suffix, const std::string& user, const std::string& roles,
                  auto call) {
    grpc::ClientContext ctx;
    c.Prepare(ctx, user, roles);
    return call(ctx, rid + suffix);
  };
  grpc::Status s = step("-submit", rep, "", [&](grpc::ClientContext& ctx, const std::string& r) {
    kv1::SubmitContractRequest req;
    req.set_request_id(r);
    req.set_name(name);
    return c.contract().SubmitContract(&ctx, req, &k);
  });
  if (!s.ok()) return s;
  for (int i = k.approval_steps_done(); i < k.approval_steps_size(); ++i) {
    const auto role = k.approval_steps(i).role();
    const std::string who = role == crm::contract::events::v1::APPROVER_ROLE_LEGAL ? "legal"
                            : role == crm::contract::events::v1::APPROVER_ROLE_DIRECTOR
                                ? "director"
                                : "team-lead";
    s = step(absl::StrCat("-approve-", i), "demo-" + who, who,
             [&](grpc::ClientContext& ctx, const std::string& r) {
               kv1::DecideContractRequest req;
               req.set_request_id(r);
               req.set_name(name);
               req.set_comment("demo approval");
               return c.contract().ApproveContract(&ctx, req, &k);
             });
    if (!s.ok()) return s;
  }
  for (const char* action : {"send", "confirm"}) {
    s = step(absl::StrCat("-", action), rep, "",
             [&](grpc::ClientContext& ctx, const std::string& r) {
               kv1::ContractActionRequest req;
               req.set_request_id(r);
               req.set_name(name);
               return std::string(action) == "send" ? c.contract().SendContract(&ctx, req, &k)
                                                    : c.contract().ConfirmContract(&ctx, req, &k);
             });
    if (!s.ok()) return s;
  }
  s = step("-plan", rep, "", [&](grpc::ClientContext& ctx, const std::string& r) {
    kv1::SetPaymentPlanRequest req;
    req.set_request_id(r);
    req.set_name(name);
    const int64_t first = k.amount() / 2;
    for (const auto& [amount, days] :
         {std::pair<int64_t, int>{first, -20}, std::pair<int64_t, int>{k.amount() - first, 40}}) {
      auto* in = req.add_installments();
      in->set_amount(amount);
      in->mutable_due_time()->set_seconds(
          absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * days)));
    }
    return c.contract().SetPaymentPlan(&ctx, req, &k);
  });
  if (!s.ok()) return s;
  s = step("-pay", "demo-finance", "", [&](grpc::ClientContext& ctx, const std::string& r) {
    kv1::RecordPaymentRequest req;
    req.set_request_id(r);
    req.set_name(name);
    req.set_amount(k.amount() / 5);
    return c.contract().RecordPayment(&ctx, req, &k);
  });
  if (!s.ok()) return s;
  return step("-milestone", rep, "", [&](grpc::ClientContext& ctx, const std::string& r) {
    kv1::AddMilestoneRequest req;
    req.set_request_id(r);
    req.set_name(name);
    req.mutable_milestone()->set_title("Onboarding workshop");
    req.mutable_milestone()->set_owner_id("demo-service");
    *req.mutable_milestone()->mutable_due_time() =
        crm::ToTimestamp(absl::Now() + absl::Hours(24 * 5));
    return c.contract().AddMilestone(&ctx, req, &k);
  });
}

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
  // The channels first: every lead names one.
  static const lev::ChannelKind kKinds[] = {lev::CHANNEL_KIND_SELF_BUILT,
                                            lev::CHANNEL_KIND_SELF_BUILT, lev::CHANNEL_KIND_FREE,
                                            lev::CHANNEL_KIND_PAID};
  static const int64_t kCosts[] = {150000, 900000, 0, 450000};
  for (int i = 0; i < 4; ++i) {
    lv1::CreateChannelRequest req;
    req.set_request_id(absl::StrCat("demo-channel-", kChannels[i]));
    req.mutable_channel()->set_channel_id(kChannels[i]);
    req.mutable_channel()->set_display_name(kChannels[i]);
    req.mutable_channel()->set_kind(kKinds[i]);
    req.mutable_channel()->set_monthly_cost(kCosts[i]);
    lv1::Channel out;
    grpc::Status s;
    for (int attempt = 0; attempt < 50; ++attempt) {  // the service may still be starting
      grpc::ClientContext ctx;
      c.Prepare(ctx, "demo-admin", "admin");
      ctx.set_wait_for_ready(true);
      s = c.lead().CreateChannel(&ctx, req, &out);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    }
    if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) return Fail(s);
  }
  // One sales team; its manager sees the reps' customers in full.
  if (grpc::Status s =
          SetTeam(c, "sales", {"rep-1", "rep-2", "rep-3"}, {"manager-1"}, "demo-team-sales");
      !s.ok()) {
    return Fail(s);
  }
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
  // Work on the first leads: reps claim and qualify some, engagement grades
  // others, one is disqualified and two convert into customers.
  lv1::ListLeadsRequest list;
  list.set_page_size(12);
  lv1::ListLeadsResponse first;
  for (int attempt = 0; attempt < 50 && first.leads_size() < std::min(n, 12); ++attempt) {
    grpc::ClientContext ctx;
    c.Prepare(ctx);
    first.Clear();
    if (!c.lead().ListLeads(&ctx, list, &first).ok()) break;
    if (first.leads_size() < std::min(n, 12)) absl::SleepFor(absl::Milliseconds(100));
  }
  std::vector<std::pair<std::string, std::string>> converted;  // customer, rep
  for (int i = 0; i < first.leads_size(); ++i) {
    const lv1::Lead& l = first.leads(i);
    const std::string rep = absl::StrCat("rep-", i % 4 + 1);
    const std::string rid = absl::StrCat("demo-", seed, "-work-", l.lead_id());
    lv1::Lead out;
    if (i >= 8) {
      lv1::RecordEngagementRequest e;
      e.set_request_id(rid);
      e.set_name(l.name());
      e.set_kind(lev::ENGAGEMENT_KIND_CONTENT_VIEWED);
      e.set_content_id("pricing-page");
      e.add_topics("pricing");
      e.set_seconds(180);
      grpc::ClientContext ctx;
      c.Prepare(ctx, "web-tracker");
      if (grpc::Status s = c.lead().RecordEngagement(&ctx, e, &out); !s.ok()) return Fail(s);
      continue;
    }
    lv1::ClaimLeadRequest claim;
    claim.set_request_id(rid + "-claim");
    claim.set_name(l.name());
    grpc::ClientContext claim_ctx;
    c.Prepare(claim_ctx, rep);
    grpc::Status s = c.lead().ClaimLead(&claim_ctx, claim, &out);
    if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) return Fail(s);
    if (!s.ok() || i >= 5) continue;  // taken on an earlier run, or left to work later
    lv1::QualifyLeadRequest q;
    q.set_request_id(rid + "-qualify");
    q.set_name(l.name());
    q.mutable_qualification()->set_budget_confirmed(i % 2 == 0);
    q.mutable_qualification()->set_decision_maker(true);
    q.mutable_qualification()->set_need("pipeline visibility across the sales team");
    q.mutable_qualification()->set_purchase_within_days(30 + 30 * i);
    grpc::ClientContext q_ctx;
    c.Prepare(q_ctx, rep);
    if (s = c.lead().QualifyLead(&q_ctx, q, &out); !s.ok()) return Fail(s);
    grpc::ClientContext done_ctx;
    c.Prepare(done_ctx, rep);
    if (i < 2) {
      lv1::ConvertLeadRequest conv;
      conv.set_request_id(rid + "-convert");
      conv.set_name(l.name());
      s = c.lead().ConvertLead(&done_ctx, conv, &out);
      if (s.ok()) converted.emplace_back(out.customer_id(), rep);
    } else if (i == 2) {
      lv1::DisqualifyLeadRequest dq;
      dq.set_request_id(rid + "-disqualify");
      dq.set_name(l.name());
      dq.set_reason(lev::DISQUALIFY_REASON_CHOSE_COMPETITOR);
      s = c.lead().DisqualifyLead(&done_ctx, dq, &out);
    } else {
      lv1::RecordFollowUpRequest f;
      f.set_request_id(rid + "-follow-up");
      f.set_name(l.name());
      f.set_note("first call: wants a demo next week");
      f.set_next_step("demo");
      s = c.lead().RecordFollowUp(&done_ctx, f, &out);
    }
    if (!s.ok()) return Fail(s);
  }

  // Customers: a few in each demo rep's private pool, the rest public.
  int customers = 0;
  std::vector<std::pair<std::string, std::string>> owned;  // customer, rep
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
    owned.emplace_back(out.customer_id(), absl::StrCat("rep-", i % 4 + 1));
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
    if (i != 0) continue;
    // The first one's buyers read the pricing pages: an engagement spike.
    for (int g = 0; g < 3; ++g) {
      cv1::RecordEngagementRequest engage;
      engage.set_request_id(absl::StrCat("demo-engage-", seed, "-", g));
      engage.set_customer(out.name());
      engage.set_kind(crm::customer::events::v1::ENGAGEMENT_KIND_CONTENT_VIEWED);
      engage.set_topic("pricing");
      engage.set_seconds(60 + 40 * g);
      grpc::ClientContext ectx;
      c.Prepare(ectx, "demo-web-tracker");
      cv1::Customer ignored;
      if (grpc::Status r = c.customer().RecordEngagement(&ectx, engage, &ignored); !r.ok()) {
        return Fail(r);
      }
    }
  }
  // The price book and a few deals: one won (its contract is created), one
  // lost with a manager's approval, others open in the pipeline.
  static const struct {
    const char* id;
    const char* name;
    int64_t price;
  } kProducts[] = {{"seat", "CRM seat, 1 year", 120000}, {"setup", "Onboarding", 500000}};
  for (const auto& p : kProducts) {
    ov1::SaveProductRequest req;
    req.set_request_id(absl::StrCat("demo-product-", p.id));
    req.mutable_product()->set_product_id(p.id);
    req.mutable_product()->set_display_name(p.name);
    req.mutable_product()->set_list_price(p.price);
    ov1::Product out;
    grpc::Status s;
    for (int attempt = 0; attempt < 50; ++attempt) {
      grpc::ClientContext ctx;
      c.Prepare(ctx, "demo-admin", "admin");
      ctx.set_wait_for_ready(true);
      s = c.opportunity().SaveProduct(&ctx, req, &out);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    }
    if (!s.ok()) return Fail(s);
  }
  int deals = 0;
  // The converted leads' customers first, so the funnel shows deals too.
  owned.insert(owned.begin(), converted.begin(), converted.end());
  for (size_t i = 0; i < owned.size() && i < 4; ++i) {
    const auto& [customer_id, rep] = owned[i];
    ov1::CreateOpportunityRequest req;
    req.set_request_id(absl::StrCat("demo-", seed, "-opportunity-", i));
    req.mutable_opportunity()->set_customer_id(customer_id);
    req.mutable_opportunity()->set_display_name(absl::StrCat("Rollout ", i + 1));
    req.mutable_opportunity()->set_team_id(i % 2 ? "north" : "east");
    req.mutable_opportunity()->set_need("replace spreadsheets with one pipeline");
    ParseLines(absl::StrCat("seat:", 10 * (i + 1), ":", 500 * (i % 3), ",setup:1"),
               req.mutable_lines());
    ov1::Opportunity o;
    grpc::Status s;
    // The customer reaches the opportunity service through the customer topic.
    for (int attempt = 0; attempt < 150; ++attempt) {
      grpc::ClientContext ctx;
      c.Prepare(ctx, rep);
      s = c.opportunity().CreateOpportunity(&ctx, req, &o);
      if (s.error_code() != grpc::StatusCode::NOT_FOUND) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    if (!s.ok()) return Fail(s);
    ++deals;
    const std::string rid = req.request_id();
    grpc::ClientContext step;
    c.Prepare(step, rep);
    if (i == 0) {
      ov1::CloseWonRequest win;
      win.set_request_id(rid + "-win");
      win.set_name(o.name());
      s = c.opportunity().CloseWon(&step, win, &o);
      if (s.ok()) s = DemoContract(c, rid, rep, o.contract_id());
    } else if (i == 1) {
      ov1::RequestCloseLostRequest lose;
      lose.set_request_id(rid + "-lose");
      lose.set_name(o.name());
      lose.set_reason(oev::LOSS_REASON_COMPETITOR);
      s = c.opportunity().RequestCloseLost(&step, lose, &o);
      if (s.ok() || s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ov1::DecideCloseLostRequest decide;
        decide.set_request_id(rid + "-approve");
        decide.set_name(o.name());
        decide.set_approve(true);
        decide.set_comment("lost on price to a competitor");
        grpc::ClientContext mctx;
        c.Prepare(mctx, "sales-manager", "manager");
        s = c.opportunity().DecideCloseLost(&mctx, decide, &o);
      }
    } else {
      ov1::UpdateForecastRequest when;
      when.set_request_id(rid + "-close-date");
      when.set_name(o.name());
      when.mutable_expected_close_time()->set_seconds(
          absl::ToUnixSeconds(absl::Now() + absl::Hours(24 * 30 * (i + 1))));
      s = c.opportunity().UpdateForecast(&step, when, &o);
    }
    if (!s.ok() && s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) return Fail(s);
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
  std::cout << "demo: " << created << " leads, " << customers << " customers and " << deals
            << " opportunities in place (seed " << seed << ")\n";
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
  if (a.words.empty() || (a.words.size() < 2 && a.words[0] != "simulate")) {
    std::cerr << kUsage;
    return 2;
  }
  Client c(a);
  if (!c.LoadCredentials(a)) return 2;
  if (a.words[0] == "simulate") return crm::crmctl::Simulate(c, a);
  const std::string cmd = a.words[0] + " " + a.words[1];
  if (cmd == "token mint") {
    absl::Duration ttl;
    if (!absl::ParseDuration(a.Flag("ttl", "", "1h"), &ttl) || ttl <= absl::ZeroDuration()) {
      std::cerr << "error: --ttl must be a positive duration such as 10m or 8h\n";
      return 3;
    }
    std::cout << c.Token("", "", ttl) << "\n";
    return 0;
  }
  if (a.words[0] == "lead") return LeadCommand(c, a);
  if (a.words[0] == "channel") return ChannelCommand(c, a);
  if (a.words[0] == "customer") return CustomerCommand(c, a);
  if (a.words[0] == "opportunity" || a.words[0] == "opp") return OpportunityCommand(c, a);
  if (a.words[0] == "product") return ProductCommand(c, a);
  if (a.words[0] == "contract") return ContractCommand(c, a);
  if (a.words[0] == "ops") return OpsCommand(c, a);
  if (a.words[0] == "call") return CallCommand(c, a);
  if (a.words[0] == "analytics") return AnalyticsCommand(c, a);
  if (cmd == "demo load") return DemoLoad(c, a);
  std::cerr << "unknown command: " << cmd << "\n" << kUsage;
  return 2;
}
