// crmctl's customer commands, and the customer CSV import (the usage is in main.cc).

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "libs/clock/timestamp.h"
#include "libs/csv/csv.h"
#include "tools/crmctl/commands.h"

namespace crm::crmctl {

namespace cv1 = crm::customer::v1;

namespace {

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

}  // namespace

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

}  // namespace crm::crmctl
