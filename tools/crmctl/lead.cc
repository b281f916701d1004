// crmctl's lead and channel commands (the usage is in main.cc).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

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
#include "tools/crmctl/commands.h"

namespace crm::crmctl {

namespace lv1 = crm::lead::v1;
namespace lev = crm::lead::events::v1;

int EnumValue(const google::protobuf::EnumDescriptor* e, const std::string& suffix) {
  const std::string want = "_" + absl::AsciiStrToUpper(absl::StrReplaceAll(suffix, {{"-", "_"}}));
  for (int i = 0; i < e->value_count(); ++i) {
    if (absl::EndsWith(e->value(i)->name(), want)) return e->value(i)->number();
  }
  return -1;
}

std::string Short(const google::protobuf::EnumDescriptor* e, int value, absl::string_view prefix) {
  const auto* v = e->FindValueByNumber(value);
  if (v == nullptr || value == 0) return "";
  return std::string(absl::StripPrefix(v->name(), prefix));
}

namespace {

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

}  // namespace

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

}  // namespace crm::crmctl
