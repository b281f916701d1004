#include "tools/crmctl/simulate.h"

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/clock/clock.h"
#include "libs/clock/timestamp.h"

namespace crm::crmctl {
namespace {

namespace lv1 = crm::lead::v1;
namespace lev = crm::lead::events::v1;
namespace cv1 = crm::customer::v1;
namespace cev = crm::customer::events::v1;
namespace ov1 = crm::opportunity::v1;
namespace oev = crm::opportunity::events::v1;
namespace kv1 = crm::contract::v1;
namespace kev = crm::contract::events::v1;
namespace av1 = crm::analytics::v1;

constexpr absl::Duration kDay = absl::Hours(24);

struct WorkedLead {
  std::string name, rep;
  int claimed_day = 0;
  bool qualified = false;
};

struct Deal {
  std::string name, rep, customer;
  int lines_day = 0, decide_day = 0;
  bool win = false;
};

struct Installment {
  std::string contract;
  int64_t amount = 0;
  int pay_day = -1;  // -1: never paid
};

struct Tally {
  int64_t leads = 0, claimed = 0, converted = 0, disqualified = 0, deals = 0, won = 0,
          won_amount = 0, lost = 0, contracts = 0, planned = 0, paid = 0, touches = 0, releases = 0,
          claims_from_pool = 0, refused = 0;
};

// The platform's clock as the services see it (the same flags).
std::unique_ptr<Clock> ClockFrom(const Args& a, std::string* error) {
  const std::string start = a.Flag("clock-start", "CRM_CLOCK_START", "");
  if (start.empty()) return nullptr;
  absl::Time from, origin = absl::Now();
  double rate = 1;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, start, &from, &err) ||
      (!a.Flag("clock-origin", "CRM_CLOCK_ORIGIN", "").empty() &&
       !absl::ParseTime(absl::RFC3339_full, a.Flag("clock-origin", "CRM_CLOCK_ORIGIN", ""), &origin,
                        &err)) ||
      !absl::SimpleAtod(a.Flag("clock-rate", "CRM_CLOCK_RATE", "1"), &rate) || !(rate > 0)) {
    *error =
        "--clock-start and --clock-origin must be RFC 3339 times, --clock-rate a positive "
        "number";
    return nullptr;
  }
  return std::make_unique<ScaledClock>(from, origin, rate);
}

class Simulation {
 public:
  Simulation(Client& c, int seed, int reps, int leads_per_day, Clock* clock)
      : c_(c), seed_(seed), rng_(seed), leads_per_day_(leads_per_day), clock_(clock) {
    for (int r = 1; r <= reps; ++r) reps_.push_back(absl::StrCat("sim-rep-", r));
  }

  // A refusal (the state moved on: a lead returned to the queue, a rival's
  // claim) is counted and the story goes on; anything else stops it.
  bool Check(const grpc::Status& s) {
    if (s.ok()) return true;
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        s.error_code() == grpc::StatusCode::ALREADY_EXISTS ||
        s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        s.error_code() == grpc::StatusCode::NOT_FOUND) {
      ++tally_.refused;
      return false;
    }
    stopped_ = s;
    return false;
  }
  const grpc::Status& stopped() const { return stopped_; }
  const Tally& tally() const { return tally_; }

  template <typename Call>
  grpc::Status As(const std::string& user, const std::string& roles, Call call) {
    grpc::ClientContext ctx;
    c_.Prepare(ctx, user, roles);
    ctx.set_wait_for_ready(true);
    return call(ctx);
  }
  std::string Rid(absl::string_view what) {
    return absl::StrCat("sim-", seed_, "-", what, "-", ++request_);
  }
  absl::Time Now() const { return clock_ != nullptr ? clock_->Now() : absl::Now(); }

  // Channels with their costs, the price book, two teams and a manager.
  bool SetUp() {
    const struct {
      const char* id;
      lev::ChannelKind kind;
      int64_t cost;
    } channels[] = {{"sim-web", lev::CHANNEL_KIND_PAID, 300000},
                    {"sim-fair", lev::CHANNEL_KIND_SELF_BUILT, 900000},
                    {"sim-partner", lev::CHANNEL_KIND_FREE, 0}};
    for (const auto& ch : channels) {
      lv1::CreateChannelRequest req;
      req.set_request_id(absl::StrCat("sim-channel-", ch.id));
      req.mutable_channel()->set_channel_id(ch.id);
      req.mutable_channel()->set_display_name(ch.id);
      req.mutable_channel()->set_kind(ch.kind);
      req.mutable_channel()->set_monthly_cost(ch.cost);
      lv1::Channel out;
      Check(As("sim-admin", "admin", [&](grpc::ClientContext& ctx) {
        return c_.lead().CreateChannel(&ctx, req, &out);
      }));  // ALREADY_EXISTS on a second run
    }
    for (const auto& [id, price] : {std::pair<const char*, int64_t>{"sim-seat", 120000},
                                    std::pair<const char*, int64_t>{"sim-setup", 500000}}) {
      ov1::SaveProductRequest req;
      req.set_request_id(absl::StrCat("sim-product-", id));
      req.mutable_product()->set_product_id(id);
      req.mutable_product()->set_display_name(id);
      req.mutable_product()->set_list_price(price);
      ov1::Product out;
      Check(As("sim-admin", "admin", [&](grpc::ClientContext& ctx) {
        return c_.opportunity().SaveProduct(&ctx, req, &out);
      }));
    }
    std::vector<std::string> north, south;
    for (size_t r = 0; r < reps_.size(); ++r) (r % 2 ? south : north).push_back(reps_[r]);
    Check(SetTeam(c_, "sim-north", north, {"sim-manager"}, "sim-team-north"));
    Check(SetTeam(c_, "sim-south", south, {"sim-manager"}, "sim-team-south"));
    return stopped_.ok();
  }

  // One day of the organisation's work.
  void Day(int d) {
    NewLeads(d);
    for (const auto& rep : reps_) ClaimLeads(d, rep);
    WorkLeads(d);
    WorkDeals(d);
    CollectPayments(d);
    CareForCustomers(d);
  }

 private:
  void NewLeads(int d) {
    static const char* kChannels[] = {"sim-web", "sim-fair", "sim-partner"};
    static const char* kCompanies[] = {"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"};
    static const char* kRegions[] = {"north", "south", "east", "west"};
    const int n = leads_per_day_ / 2 + static_cast<int>(rng_() % (leads_per_day_ + 1));
    for (int i = 0; i < n; ++i) {
      lv1::CreateLeadRequest req;
      req.set_request_id(absl::StrCat("sim-", seed_, "-lead-", d, "-", i));
      auto* l = req.mutable_lead();
      const std::string company = kCompanies[rng_() % 6];
      l->set_channel_id(kChannels[rng_() % 3]);
      l->set_company_name(absl::StrCat(company, " ", seed_, "-", d, "-", i, " GmbH"));
      l->set_contact_name(absl::StrCat("Buyer ", d, "-", i));
      l->set_email(absl::StrFormat("buyer-%d-%d-%d@%s.example", seed_, d, i,
                                   absl::AsciiStrToLower(company)));
      l->set_industry(rng_() % 2 ? "retail" : "manufacturing");
      l->set_region(kRegions[rng_() % 4]);
      lv1::Lead out;
      if (!Check(As("sim-intake", "", [&](grpc::ClientContext& ctx) {
            return c_.lead().CreateLead(&ctx, req, &out);
          }))) {
        continue;
      }
      ++tally_.leads;
      queue_.push_back(out.name());
    }
  }

  void ClaimLeads(int d, const std::string& rep) {
    for (int k = 0; k < 2 && !queue_.empty(); ++k) {
      const std::string name = queue_.front();
      queue_.pop_front();
      lv1::ClaimLeadRequest req;
      req.set_request_id(Rid("claim"));
      req.set_name(name);
      lv1::Lead out;
      if (Check(As(rep, "", [&](grpc::ClientContext& ctx) {
            return c_.lead().ClaimLead(&ctx, req, &out);
          }))) {
        ++tally_.claimed;
        worked_.push_back({name, rep, d, false});
      }
    }
  }

  void WorkLeads(int d) {
    std::vector<WorkedLead> still;
    for (auto& w : worked_) {
      if (d <= w.claimed_day) {
        still.push_back(w);
        continue;
      }
      lv1::Lead out;
      if (!w.qualified) {
        lv1::QualifyLeadRequest q;
        q.set_request_id(Rid("qualify"));
        q.set_name(w.name);
        q.mutable_qualification()->set_budget_confirmed(rng_() % 3 != 0);
        q.mutable_qualification()->set_decision_maker(true);
        q.mutable_qualification()->set_need("one pipeline for the sales team");
        lv1::RecordFollowUpRequest f;
        f.set_request_id(Rid("follow-up"));
        f.set_name(w.name);
        f.set_note("first call: interested, wants a proposal");
        w.qualified = Check(As(w.rep, "",
                               [&](grpc::ClientContext& ctx) {
                                 return c_.lead().QualifyLead(&ctx, q, &out);
                               })) &&
                      Check(As(w.rep, "", [&](grpc::ClientContext& ctx) {
                        return c_.lead().RecordFollowUp(&ctx, f, &out);
                      }));
        if (w.qualified) still.push_back(w);
        continue;
      }
      const int roll = static_cast<int>(rng_() % 100);
      if (roll < 55) {
        lv1::ConvertLeadRequest conv;
        conv.set_request_id(Rid("convert"));
        conv.set_name(w.name);
        conv.set_create_opportunity(true);
        if (Check(As(w.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.lead().ConvertLead(&ctx, conv, &out);
            }))) {
          ++tally_.converted;
          customers_[w.rep].push_back(out.customer_id());
          if (!out.opportunity_id().empty()) {
            ++tally_.deals;
            deals_.push_back({"opportunities/" + out.opportunity_id(), w.rep, out.customer_id(),
                              d + 1, d + 2 + static_cast<int>(rng_() % 5), rng_() % 100 < 60});
          }
        }
      } else if (roll < 75 || d - w.claimed_day > 5) {
        lv1::DisqualifyLeadRequest dq;
        dq.set_request_id(Rid("disqualify"));
        dq.set_name(w.name);
        dq.set_reason(rng_() % 2 ? lev::DISQUALIFY_REASON_NO_BUDGET
                                 : lev::DISQUALIFY_REASON_CHOSE_COMPETITOR);
        if (Check(As(w.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.lead().DisqualifyLead(&ctx, dq, &out);
            }))) {
          ++tally_.disqualified;
        }
      } else {
        still.push_back(w);  // another day
      }
    }
    worked_ = std::move(still);
  }

  void WorkDeals(int d) {
    std::vector<Deal> still;
    for (const auto& deal : deals_) {
      ov1::Opportunity o;
      if (d == deal.lines_day) {
        ov1::SetLinesRequest req;
        req.set_request_id(Rid("lines"));
        req.set_name(deal.name);
        auto* seats = req.add_lines();
        seats->set_product_id("sim-seat");
        seats->set_quantity(2 + static_cast<int>(rng_() % 10));
        req.add_lines()->set_product_id("sim-setup");
        req.mutable_lines(1)->set_quantity(1);
        Check(As(deal.rep, "", [&](grpc::ClientContext& ctx) {
          return c_.opportunity().SetLines(&ctx, req, &o);
        }));
      }
      if (d < deal.decide_day) {
        still.push_back(deal);
        continue;
      }
      if (deal.win) {
        ov1::CloseWonRequest won;
        won.set_request_id(Rid("win"));
        won.set_name(deal.name);
        if (Check(As(deal.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.opportunity().CloseWon(&ctx, won, &o);
            }))) {
          ++tally_.won;
          tally_.won_amount += o.amount();
          SignAndPlan(d, deal.rep, o.contract_id());
        }
        continue;
      }
      ov1::RequestCloseLostRequest lose;
      lose.set_request_id(Rid("lose"));
      lose.set_name(deal.name);
      lose.set_reason(oev::LOSS_REASON_PRICE);
      ov1::DecideCloseLostRequest decide;
      decide.set_request_id(Rid("decide"));
      decide.set_name(deal.name);
      decide.set_approve(true);
      decide.set_comment("lost on price");
      if (Check(As(deal.rep, "",
                   [&](grpc::ClientContext& ctx) {
                     return c_.opportunity().RequestCloseLost(&ctx, lose, &o);
                   })) &&
          Check(As("sim-manager", "manager", [&](grpc::ClientContext& ctx) {
            return c_.opportunity().DecideCloseLost(&ctx, decide, &o);
          }))) {
        ++tally_.lost;
      }
    }
    deals_ = std::move(still);
  }

  // The won deal's contract through approval to the customer's signature,
  // then a plan of two installments (due in 7 and 30 days) and when each
  // will be paid: mostly around the due date, some weeks late, some never.
  void SignAndPlan(int d, const std::string& rep, const std::string& contract_id) {
    const std::string name = "contracts/" + contract_id;
    kv1::Contract k;
    kv1::SubmitContractRequest submit;
    submit.set_request_id(Rid("submit"));
    submit.set_name(name);
    if (!Check(As(rep, "", [&](grpc::ClientContext& ctx) {
          return c_.contract().SubmitContract(&ctx, submit, &k);
        }))) {
      return;
    }
    for (int step = k.approval_steps_done(); step < k.approval_steps_size(); ++step) {
      const auto role = k.approval_steps(step).role();
      const std::string who = role == kev::APPROVER_ROLE_LEGAL      ? "legal"
                              : role == kev::APPROVER_ROLE_DIRECTOR ? "director"
                                                                    : "team-lead";
      kv1::DecideContractRequest approve;
      approve.set_request_id(Rid("approve"));
      approve.set_name(name);
      if (!Check(As("sim-" + who, who, [&](grpc::ClientContext& ctx) {
            return c_.contract().ApproveContract(&ctx, approve, &k);
          }))) {
        return;
      }
    }
    for (const bool send : {true, false}) {
      kv1::ContractActionRequest req;
      req.set_request_id(Rid(send ? "send" : "confirm"));
      req.set_name(name);
      if (!Check(As(rep, "", [&](grpc::ClientContext& ctx) {
            return send ? c_.contract().SendContract(&ctx, req, &k)
                        : c_.contract().ConfirmContract(&ctx, req, &k);
          }))) {
        return;
      }
    }
    ++tally_.contracts;
    kv1::SetPaymentPlanRequest plan;
    plan.set_request_id(Rid("plan"));
    plan.set_name(name);
    const int64_t first = k.amount() / 2;
    const std::pair<int64_t, int> parts[] = {{first, 7}, {k.amount() - first, 30}};
    for (const auto& [amount, days] : parts) {
      auto* in = plan.add_installments();
      in->set_amount(amount);
      *in->mutable_due_time() = ToTimestamp(Now() + days * kDay);
    }
    if (!Check(As(rep, "", [&](grpc::ClientContext& ctx) {
          return c_.contract().SetPaymentPlan(&ctx, plan, &k);
        }))) {
      return;
    }
    tally_.planned += k.amount();
    for (const auto& [amount, days] : parts) {
      const int roll = static_cast<int>(rng_() % 100);
      const int delay = roll < 70   ? static_cast<int>(rng_() % 9) - 3
                        : roll < 90 ? 10 + static_cast<int>(rng_() % 30)
                                    : -1000;
      installments_.push_back({name, amount, delay == -1000 ? -1 : d + days + delay});
    }
  }

  void CollectPayments(int d) {
    for (const auto& i : installments_) {
      if (i.pay_day != d) continue;
      kv1::RecordPaymentRequest pay;
      pay.set_request_id(Rid("pay"));
      pay.set_name(i.contract);
      pay.set_amount(i.amount);
      kv1::Contract k;
      if (Check(As("sim-finance", "", [&](grpc::ClientContext& ctx) {
            return c_.contract().RecordPayment(&ctx, pay, &k);
          }))) {
        tally_.paid += i.amount;
      }
    }
  }

  // Reps call their customers every few days; now and then one lets a
  // customer go to the public pool, and the next rep claims it.
  void CareForCustomers(int d) {
    for (size_t r = 0; r < reps_.size(); ++r) {
      auto& mine = customers_[reps_[r]];
      for (const auto& customer : mine) {
        if (rng_() % 4 != 0) continue;
        cv1::RecordTouchRequest touch;
        touch.set_request_id(Rid("touch"));
        touch.set_customer("customers/" + customer);
        touch.mutable_touch()->set_channel(cev::TOUCH_CHANNEL_PHONE);
        touch.mutable_touch()->set_note("call about the rollout plan and next steps");
        touch.mutable_touch()->set_outcome("interested");
        cv1::Touch out;
        if (Check(As(reps_[r], "", [&](grpc::ClientContext& ctx) {
              return c_.customer().RecordTouch(&ctx, touch, &out);
            }))) {
          ++tally_.touches;
        }
      }
      if (d % 5 != 4 || mine.size() < 2) continue;
      const std::string customer = mine.front();
      cv1::ReleaseCustomerRequest release;
      release.set_request_id(Rid("release"));
      release.set_name("customers/" + customer);
      release.set_note("no budget this year");
      cv1::Customer out;
      if (!Check(As(reps_[r], "", [&](grpc::ClientContext& ctx) {
            return c_.customer().ReleaseCustomer(&ctx, release, &out);
          }))) {
        continue;
      }
      ++tally_.releases;
      mine.erase(mine.begin());
      const std::string& next = reps_[(r + 1) % reps_.size()];
      cv1::ClaimCustomerRequest claim;
      claim.set_request_id(Rid("claim-customer"));
      claim.set_name("customers/" + customer);
      if (Check(As(next, "", [&](grpc::ClientContext& ctx) {
            return c_.customer().ClaimCustomer(&ctx, claim, &out);
          }))) {
        ++tally_.claims_from_pool;
        customers_[next].push_back(customer);
      }
    }
  }

  Client& c_;
  int seed_;
  std::mt19937 rng_;
  int leads_per_day_;
  Clock* clock_;
  int64_t request_ = 0;
  std::vector<std::string> reps_;
  std::deque<std::string> queue_;
  std::vector<WorkedLead> worked_;
  std::vector<Deal> deals_;
  std::vector<Installment> installments_;
  std::map<std::string, std::vector<std::string>> customers_;  // rep -> customer ids
  Tally tally_;
  grpc::Status stopped_;
};

}  // namespace

int Simulate(Client& c, const Args& a) {
  int days = 30, seed = 1, reps = 6, leads_per_day = 6;
  if (!absl::SimpleAtoi(a.Flag("days", "", "30"), &days) ||
      !absl::SimpleAtoi(a.Flag("seed", "", "1"), &seed) ||
      !absl::SimpleAtoi(a.Flag("reps", "", "6"), &reps) ||
      !absl::SimpleAtoi(a.Flag("leads-per-day", "", "6"), &leads_per_day) || days < 1 ||
      days > 3650 || reps < 1 || reps > 100 || leads_per_day < 0 || leads_per_day > 1000) {
    std::cerr << "--days (1-3650), --seed, --reps (1-100) and --leads-per-day (0-1000) must be "
                 "integers\n";
    return 2;
  }
  std::string error;
  std::unique_ptr<Clock> clock = ClockFrom(a, &error);
  if (!error.empty()) {
    std::cerr << "error: " << error << "\n";
    return 2;
  }
  if (clock == nullptr) {
    std::cerr << "note: no --clock-start: every simulated day happens now\n";
  }
  Simulation sim(c, seed, reps, leads_per_day, clock.get());
  if (!sim.SetUp()) return Fail(sim.stopped());
  const absl::Time start = sim.Now();
  const double rate = clock ? static_cast<ScaledClock*>(clock.get())->rate() : 0;
  for (int d = 0; d < days; ++d) {
    if (clock) {  // wait for the day on the platform's clock
      const absl::Duration ahead = start + d * kDay - clock->Now();
      if (ahead > absl::ZeroDuration()) absl::SleepFor(ahead / rate);
    }
    sim.Day(d);
    if (!sim.stopped().ok()) {
      std::cerr << "stopped on day " << d << "\n";
      return Fail(sim.stopped());
    }
    std::cerr << absl::StrFormat("day %d/%d: %d leads, %d won (%d), %d paid\n", d + 1, days,
                                 sim.tally().leads, sim.tally().won, sim.tally().won_amount,
                                 sim.tally().paid);
  }
  const Tally& t = sim.tally();
  std::cout << absl::StrFormat(
      "simulated %d days from %s: %d leads, %d claimed, %d converted, %d disqualified; %d deals, "
      "%d won for %d, %d lost; %d contracts signed, %d planned, %d paid; %d touches, %d "
      "released, %d claimed from the pool; %d refusals\n",
      days, absl::FormatTime(absl::RFC3339_sec, start, absl::UTCTimeZone()), t.leads, t.claimed,
      t.converted, t.disqualified, t.deals, t.won, t.won_amount, t.lost, t.contracts, t.planned,
      t.paid, t.touches, t.releases, t.claims_from_pool, t.refused);

  // Analytics, fed only by the topics, against what was done.
  std::vector<std::string> differences;
  av1::FunnelRow f;
  av1::ReceivablesRow r;
  kv1::Receivables contract_side;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  for (;;) {
    differences.clear();
    av1::GetFunnelRequest funnel_req;
    av1::Funnel funnel;
    av1::GetReceivablesRequest rec_req;
    av1::ReceivablesAging aging;
    grpc::Status s = sim.As("sim-analyst", "", [&](grpc::ClientContext& ctx) {
      return c.analytics().GetFunnel(&ctx, funnel_req, &funnel);
    });
    if (s.ok()) {
      s = sim.As("sim-analyst", "", [&](grpc::ClientContext& ctx) {
        return c.analytics().GetReceivables(&ctx, rec_req, &aging);
      });
    }
    if (s.ok()) {
      s = sim.As("sim-analyst", "", [&](grpc::ClientContext& ctx) {
        return c.contract().GetReceivables(&ctx, {}, &contract_side);
      });
    }
    if (!s.ok()) return Fail(s);
    f = funnel.rows_size() > 0 ? funnel.rows(0) : av1::FunnelRow();
    r = aging.rows_size() > 0 ? aging.rows(0) : av1::ReceivablesRow();
    const int64_t contract_total =
        contract_side.rows_size() > 0 ? contract_side.rows(0).total() : 0;
    auto expect = [&](const char* what, int64_t got, int64_t want) {
      if (got != want) differences.push_back(absl::StrCat(what, ": ", got, ", expected ", want));
    };
    expect("funnel leads", f.leads(), t.leads);
    expect("funnel customers", f.customers(), t.converted);
    expect("funnel opportunities", f.opportunities(), t.deals);
    expect("funnel won", f.won(), t.won);
    expect("funnel won amount", f.won_amount(), t.won_amount);
    expect("receivables open", r.total(), t.planned - t.paid);
    expect("contract service receivables open", contract_total, t.planned - t.paid);
    if (differences.empty() || absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  if (!differences.empty()) {
    std::cout << "analytics disagrees with the simulation:\n";
    for (const auto& d : differences) std::cout << "  " << d << "\n";
    return 1;
  }
  std::cout << absl::StrFormat(
      "analytics agrees: funnel %d leads > %d customers > %d opportunities > %d won for %d; "
      "receivables %d open (%d overdue), payment prediction error %.1f days over %d "
      "installments\n",
      f.leads(), f.customers(), f.opportunities(), f.won(), f.won_amount(), r.total(),
      r.overdue_amount(), r.prediction_error_days(), r.prediction_samples());
  return 0;
}

}  // namespace crm::crmctl
