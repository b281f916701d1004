// crmctl's opportunity and price book commands (the usage is in main.cc).

#include <algorithm>
#include <iostream>
#include <string>
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
#include "absl/time/time.h"
#include "libs/clock/timestamp.h"
#include "tools/crmctl/commands.h"

namespace crm::crmctl {

namespace ov1 = crm::opportunity::v1;
namespace oev = crm::opportunity::events::v1;

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

namespace {

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

}  // namespace

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

}  // namespace crm::crmctl
