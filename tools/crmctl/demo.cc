// crmctl's `demo load`: the demo tenant's fixed story (the usage is in main.cc).

#include <algorithm>
#include <iostream>
#include <random>
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
#include "tools/crmctl/commands.h"

namespace crm::crmctl {

namespace lv1 = crm::lead::v1;
namespace lev = crm::lead::events::v1;
namespace cv1 = crm::customer::v1;
namespace ov1 = crm::opportunity::v1;
namespace oev = crm::opportunity::events::v1;
namespace kv1 = crm::contract::v1;

namespace {

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

}  // namespace

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

}  // namespace crm::crmctl
