// crmctl's contract commands (the usage is in main.cc).

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

namespace kv1 = crm::contract::v1;

namespace {

void PrintContractRow(const kv1::Contract& k) {
  int64_t open = 0;
  for (const auto& i : k.installments()) open += i.amount() - i.paid();
  std::cout << absl::StrFormat(
      "%-22s %-22s %-12s %14.2f %14.2f  %d/%d steps  %s\n", k.contract_id(), k.customer_id(),
      Short(kv1::ContractState_descriptor(), k.state(), "CONTRACT_STATE_"), k.amount() / 100.0,
      open / 100.0, k.approval_steps_done(), k.approval_steps_size(), k.owner_id());
}

}  // namespace

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
    req.set_page_size(1000);
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

}  // namespace crm::crmctl
