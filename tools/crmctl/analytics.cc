// crmctl's analytics commands (the usage is in main.cc).

#include <iostream>
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
#include "absl/time/time.h"
#include "libs/clock/timestamp.h"
#include "tools/crmctl/commands.h"

namespace crm::crmctl {

namespace {

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

}  // namespace

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

}  // namespace crm::crmctl
