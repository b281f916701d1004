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

#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "tools/crmctl/commands.h"
#include "tools/crmctl/simulate.h"

namespace crm::crmctl {

const char kUsage[] =
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
    "  ops progress SERVICE [--wait]  (operator) how far its read models have read their\n"
    "                                    topics (a rebuild): bar with rate and ETA\n"
    "  call SERVICE METHOD [JSON]        any RPC by name (e.g. call contract CreateContract\n"
    "                                    '{\"customer_id\": \"c1\"}'), request JSON from the\n"
    "                                    argument or stdin, response as JSON\n"
    "  demo load [--leads=N] [--seed=S]  create N demo leads (default 40)\n"
    "  simulate [--days=N] [--seed=S] [--reps=N] [--leads-per-day=N]   play a sales\n"
    "                                    organisation against the platform, day by day on\n"
    "                                    its clock (--clock-start/--clock-origin/--clock-rate/\n"
    "                                    --clock-catch-up as the services were given), then\n"
    "                                    check analytics against what it did\n"
    "  token mint [--ttl=1h]             print a bearer token for --tenant/--user/--roles/--team\n"
    "                                    (e.g. grpcurl -H \"authorization: Bearer $(crmctl token "
    "mint)\")\n";

}  // namespace crm::crmctl

int main(int argc, char** argv) {
  using namespace crm::crmctl;  // NOLINT: the commands
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
