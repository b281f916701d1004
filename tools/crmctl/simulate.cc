#include "tools/crmctl/simulate.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/clock/scaled_clock.h"
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
  std::string contract_id, customer, rep;
  int64_t amount = 0;
  int pay_day = -1;  // -1: never paid
  bool last = false;
};

struct Reservation {
  std::string customer, rep;
  int day = 0;
  bool secure = false;  // raise the completeness (else give it up)
};

struct Milestone {
  std::string contract, id;
  int done_day = 0;
};

struct Tally {
  int64_t leads = 0, claimed = 0, converted = 0, disqualified = 0, deals = 0, won = 0,
          won_amount = 0, lost = 0, contracts = 0, planned = 0, paid = 0, touches = 0, releases = 0,
          claims_from_pool = 0, refused = 0, customers_created = 0, conflicts = 0, reservations = 0,
          secured = 0, cancelled = 0, reservation_signings = 0, reservation_signed_amount = 0,
          milestones = 0, milestones_done = 0, renewals = 0, direct_contracts = 0;
};

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
    const absl::Time sent = absl::Now();
    grpc::Status s = call(ctx);
    latencies_.push_back(absl::Now() - sent);
    return s;
  }
  // The calls made so far and their latencies' median and 99th percentile.
  std::string CallStats(absl::Duration elapsed, bool rate) {
    if (latencies_.empty()) return "no calls";
    std::sort(latencies_.begin(), latencies_.end());
    auto ms = [&](double q) {
      return absl::ToDoubleMilliseconds(
          latencies_[static_cast<size_t>(q * (latencies_.size() - 1))]);
    };
    return absl::StrFormat(
        "%d calls in %.1f s%s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms", latencies_.size(),
        absl::ToDoubleSeconds(elapsed),
        rate ? absl::StrFormat(" (%.0f/s)", latencies_.size() / absl::ToDoubleSeconds(elapsed))
             : "",
        ms(0.5), ms(0.99), ms(1));
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
    CompleteMilestones(d);
    CareForCustomers(d);
    WorkReservations(d);
    if (d % 7 == 6) FileConflict(d);
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

  // A contract made directly, not from a deal: a renewal of a paid one, or
  // the first contract of a customer the rep reserved and claimed.
  void DirectContract(int d, const std::string& rep, const std::string& customer,
                      const std::string& renewal_of) {
    kv1::CreateContractRequest req;
    req.set_request_id(Rid(renewal_of.empty() ? "contract" : "renewal"));
    auto* k = req.mutable_contract();
    k->set_customer_id(customer);
    k->set_renewal_of(renewal_of);
    k->set_document_ref(absl::StrCat("dms://sim/", req.request_id(), ".pdf"));
    k->set_duration_months(12);
    auto* seats = k->add_lines();
    seats->set_product_id("sim-seat");
    seats->set_quantity(2 + static_cast<int>(rng_() % 10));
    seats->set_list_price(120000);
    kv1::Contract out;
    if (!Check(As(rep, "", [&](grpc::ClientContext& ctx) {
          return c_.contract().CreateContract(&ctx, req, &out);
        }))) {
      return;
    }
    ++(renewal_of.empty() ? tally_.direct_contracts : tally_.renewals);
    SignAndPlan(d, rep, out.contract_id());
  }

  // The won deal's contract through approval to the customer's signature,
  // a kick-off milestone for customer service, then a plan of two
  // installments (due in 7 and 30 days) and when each will be paid: mostly
  // around the due date, some weeks late, some never.
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
    // A reservation-lead signing: the customer's owner now had reserved it
    // (counted in whole currency units, as the contract topic has them).
    if (reserved_.count({k.customer_id(), OwnerOf(k.customer_id())})) {
      ++tally_.reservation_signings;
      tally_.reservation_signed_amount += k.amount() / 100;
    }
    kv1::AddMilestoneRequest kickoff;
    kickoff.set_request_id(Rid("milestone"));
    kickoff.set_name(name);
    kickoff.mutable_milestone()->set_title("kick-off workshop");
    kickoff.mutable_milestone()->set_owner_id("sim-service");
    *kickoff.mutable_milestone()->mutable_due_time() = ToTimestamp(Now() + 14 * kDay);
    if (Check(As(rep, "",
                 [&](grpc::ClientContext& ctx) {
                   return c_.contract().AddMilestone(&ctx, kickoff, &k);
                 })) &&
        k.milestones_size() > 0) {
      ++tally_.milestones;
      milestones_.push_back({name, k.milestones(k.milestones_size() - 1).milestone_id(),
                             d + 10 + static_cast<int>(rng_() % 8)});
    }
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
      installments_.push_back({contract_id, k.customer_id(), rep, amount,
                               delay == -1000 ? -1 : d + days + delay, days == parts[1].second});
    }
  }

  // Installments falling due today are paid; a third of the customers who
  // paid the last one renew their contract.
  // The rep whose private pool holds `customer`; "" in the public pool.
  std::string OwnerOf(const std::string& customer) const {
    for (const auto& [rep, mine] : customers_) {
      if (std::find(mine.begin(), mine.end(), customer) != mine.end()) return rep;
    }
    return "";
  }

  void CollectPayments(int d) {
    std::vector<Installment> paid_up;
    for (const auto& i : installments_) {
      if (i.pay_day != d) continue;
      kv1::RecordPaymentRequest pay;
      pay.set_request_id(Rid("pay"));
      pay.set_name("contracts/" + i.contract_id);
      pay.set_amount(i.amount);
      kv1::Contract k;
      if (Check(As("sim-finance", "", [&](grpc::ClientContext& ctx) {
            return c_.contract().RecordPayment(&ctx, pay, &k);
          }))) {
        tally_.paid += i.amount;
        if (i.last && rng_() % 3 == 0) paid_up.push_back(i);
      }
    }
    for (const auto& i : paid_up) DirectContract(d, i.rep, i.customer, i.contract_id);
  }

  // Customer service delivers the kick-off; half ask the rep to offer more.
  void CompleteMilestones(int d) {
    for (const auto& m : milestones_) {
      if (m.done_day != d) continue;
      kv1::CompleteMilestoneRequest req;
      req.set_request_id(Rid("milestone-done"));
      req.set_name(m.contract);
      req.set_milestone_id(m.id);
      req.set_note("workshop held, users trained");
      if (rng_() % 2 == 0) {
        req.set_follow_up(kev::FOLLOW_UP_KIND_CROSS_SELL);
        req.set_follow_up_after_days(30);
      }
      kv1::Contract k;
      if (Check(As("sim-service", "", [&](grpc::ClientContext& ctx) {
            return c_.contract().CompleteMilestone(&ctx, req, &k);
          }))) {
        ++tally_.milestones_done;
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
      if (rng_() % 3 == 0) {  // reserved instead, to be worked up first
        cv1::ReserveCustomerRequest reserve;
        reserve.set_request_id(Rid("reserve"));
        reserve.set_name("customers/" + customer);
        if (Check(As(next, "", [&](grpc::ClientContext& ctx) {
              return c_.customer().ReserveCustomer(&ctx, reserve, &out);
            }))) {
          ++tally_.reservations;
          reserved_.insert({customer, next});
          reservations_.push_back({customer, next, d, rng_() % 3 != 0});
        }
        continue;
      }
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

  // A reserving rep completes the customer's profile the next day (which
  // secures the reservation) or gives it up; a reservation is claimed the
  // day after, and half of those customers sign a first contract at once.
  void WorkReservations(int d) {
    std::vector<Reservation> still;
    for (const auto& r : reservations_) {
      const std::string name = "customers/" + r.customer;
      cv1::Customer out;
      if (d == r.day + 1 && !r.secure) {
        cv1::CancelReservationRequest cancel;
        cancel.set_request_id(Rid("cancel-reservation"));
        cancel.set_name(name);
        if (Check(As(r.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.customer().CancelReservation(&ctx, cancel, &out);
            }))) {
          ++tally_.cancelled;
        }
      } else if (d == r.day + 1) {
        cv1::GetCustomerRequest get;
        get.set_name(name);
        cv1::UpdateCustomerRequest update;
        update.set_request_id(Rid("complete-profile"));
        if (!Check(As(r.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.customer().GetCustomer(&ctx, get, update.mutable_customer());
            }))) {
          continue;
        }
        auto* c = update.mutable_customer();
        std::string registry = "SIM-" + r.customer;
        registry.erase(
            std::remove_if(registry.begin(), registry.end(),
                           [](char ch) { return !absl::ascii_isalnum(ch) && ch != '-'; }),
            registry.end());
        c->set_legal_entity_id(registry.substr(0, 64));
        c->set_size(cev::COMPANY_SIZE_51_200);
        c->set_annual_revenue(2000000 + static_cast<int64_t>(rng_() % 8) * 1000000);
        if (c->contacts_size() == 0) c->add_contacts()->set_name("Head of Purchasing");
        c->mutable_contacts(0)->set_key_person(true);
        if (c->contacts(0).phone().empty()) c->mutable_contacts(0)->set_phone("+4930555010");
        for (const char* path : {"legal_entity_id", "size", "annual_revenue", "contacts"}) {
          update.mutable_update_mask()->add_paths(path);
        }
        if (Check(As(r.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.customer().UpdateCustomer(&ctx, update, &out);
            }))) {
          if (out.reservation_secured()) ++tally_.secured;
          still.push_back(r);
        }
      } else if (d == r.day + 2) {
        cv1::ClaimCustomerRequest claim;
        claim.set_request_id(Rid("claim-reserved"));
        claim.set_name(name);
        if (Check(As(r.rep, "", [&](grpc::ClientContext& ctx) {
              return c_.customer().ClaimCustomer(&ctx, claim, &out);
            }))) {
          ++tally_.claims_from_pool;
          customers_[r.rep].push_back(r.customer);
          if (rng_() % 2 == 0) DirectContract(d, r.rep, r.customer, "");
        }
      } else {
        still.push_back(r);
      }
    }
    reservations_ = std::move(still);
  }

  // Once a week a rep meets a company another rep already owns, records it
  // as their own customer, visits it and files a conflict; the verdict says
  // who keeps both records.
  void FileConflict(int d) {
    if (reps_.size() < 2) return;
    const std::string rival = reps_[(d / 7) % reps_.size()];
    const std::string filer = reps_[(d / 7 + 1) % reps_.size()];
    if (customers_[rival].empty()) return;
    const std::string disputed = customers_[rival].back();
    cv1::GetCustomerRequest get;
    get.set_name("customers/" + disputed);
    cv1::Customer seen, mine;
    if (!Check(As(filer, "", [&](grpc::ClientContext& ctx) {
          return c_.customer().GetCustomer(&ctx, get, &seen);
        }))) {
      return;
    }
    cv1::CreateCustomerRequest create;
    create.set_request_id(Rid("customer"));
    create.mutable_customer()->set_company_name(seen.company_name());
    create.mutable_customer()->set_industry("retail");
    create.mutable_customer()->set_region("north");
    auto* kp = create.mutable_customer()->add_contacts();
    kp->set_name(absl::StrCat("Purchasing lead ", d));
    kp->set_email(absl::StrFormat("purchasing-%d-%d@met-at-a-fair.example", seed_, d));
    kp->set_key_person(true);
    if (!Check(As(filer, "", [&](grpc::ClientContext& ctx) {
          return c_.customer().CreateCustomer(&ctx, create, &mine);
        }))) {
      return;
    }
    ++tally_.customers_created;
    customers_[filer].push_back(mine.customer_id());
    cv1::RecordTouchRequest touch;
    touch.set_request_id(Rid("visit"));
    touch.set_customer(mine.name());
    touch.mutable_touch()->set_channel(cev::TOUCH_CHANNEL_MEETING);
    touch.mutable_touch()->set_note("on-site visit: walked their purchasing team through a demo");
    cv1::Touch visited;
    cv1::FileConflictRequest file;
    file.set_request_id(Rid("conflict"));
    file.set_customer(get.name());
    file.set_claimant_customer(mine.name());
    file.set_note("we met their buyer at the trade fair first");
    cv1::Conflict verdict;
    if (!Check(As(filer, "",
                  [&](grpc::ClientContext& ctx) {
                    return c_.customer().RecordTouch(&ctx, touch, &visited);
                  })) ||
        !Check(As(filer, "", [&](grpc::ClientContext& ctx) {
          return c_.customer().FileConflict(&ctx, file, &verdict);
        }))) {
      return;
    }
    ++tally_.conflicts;
    for (const auto& rep : {rival, filer}) {
      auto& pool = customers_[rep];
      pool.erase(std::remove_if(pool.begin(), pool.end(),
                                [&](const std::string& id) {
                                  return id == disputed || id == mine.customer_id();
                                }),
                 pool.end());
    }
    customers_[verdict.verdict().winner_id()].push_back(disputed);
    customers_[verdict.verdict().winner_id()].push_back(mine.customer_id());
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
  std::vector<absl::Duration> latencies_;
  std::vector<Reservation> reservations_;
  std::set<std::pair<std::string, std::string>> reserved_;  // (customer, rep), ever
  std::vector<Milestone> milestones_;
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
  // The platform's clock as the services see it (the same settings).
  absl::StatusOr<std::unique_ptr<ScaledClock>> scaled = ScaledClockFromSettings(
      a.Flag("clock-start", "CRM_CLOCK_START", ""), a.Flag("clock-origin", "CRM_CLOCK_ORIGIN", ""),
      a.Flag("clock-rate", "CRM_CLOCK_RATE", ""),
      a.Flag("clock-catch-up", "CRM_CLOCK_CATCH_UP", ""));
  if (!scaled.ok()) {
    std::cerr << "error: " << scaled.status().message() << "\n";
    return 2;
  }
  std::unique_ptr<ScaledClock> clock = std::move(*scaled);
  if (clock == nullptr) {
    std::cerr << "note: no --clock-start: every simulated day happens now\n";
  }
  Simulation sim(c, seed, reps, leads_per_day, clock.get());
  if (!sim.SetUp()) return Fail(sim.stopped());
  absl::Time start = sim.Now();
  if (clock != nullptr && clock->CatchUpTime() != absl::InfiniteFuture()) {
    // A clock that turns into wall time: the days end when it does.
    const absl::Time first = clock->CatchUpTime() - days * kDay;
    if (first < start) {
      std::cerr << "error: " << days << " days no longer fit before the clock reaches the wall "
                << "clock (" << absl::FormatTime(clock->CatchUpTime()) << "); start it earlier\n";
      return 2;
    }
    start = first;
  }
  const absl::Time wall_start = absl::Now();
  for (int d = 0; d < days; ++d) {
    if (clock) absl::SleepFor(clock->WallTimeAt(start + d * kDay) - absl::Now());  // the day
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
      "%d won for %d, %d lost; %d contracts signed (%d renewals, %d direct), %d planned, %d "
      "paid, %d of %d milestones delivered; %d touches, %d released, %d claimed from the pool, "
      "%d reserved (%d secured, %d given up, %d reservation-lead signings for %d); %d conflicts "
      "filed; %d refusals\n",
      days, absl::FormatTime(absl::RFC3339_sec, start, absl::UTCTimeZone()), t.leads, t.claimed,
      t.converted, t.disqualified, t.deals, t.won, t.won_amount, t.lost, t.contracts, t.renewals,
      t.direct_contracts, t.planned, t.paid, t.milestones_done, t.milestones, t.touches, t.releases,
      t.claims_from_pool, t.reservations, t.secured, t.cancelled, t.reservation_signings,
      t.reservation_signed_amount, t.conflicts, t.refused);
  // Without a simulated clock nothing waits: the rate is the platform's.
  std::cout << "calls: " << sim.CallStats(absl::Now() - wall_start, clock == nullptr) << "\n";

  // Analytics, fed only by the topics, against what was done.
  std::vector<std::string> differences;
  av1::FunnelRow f;
  av1::ReceivablesRow r;
  av1::PoolHealth pool;
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
        return c.analytics().GetPoolHealth(&ctx, {}, &pool);
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
    expect("pool customers", pool.customers(), t.converted + t.customers_created);
    expect("pool claims", pool.claims(), t.claims_from_pool);
    expect("pool releases by owners", pool.releases_by_owner(), t.releases);
    expect("pool conflicts judged", pool.conflicts_judged(), t.conflicts);
    expect("pool reservations made", pool.reservations_made(), t.reservations);
    expect("pool reservations secured", pool.reservations_secured(), t.secured);
    expect("pool reservation-lead signings", pool.reservation_signings(), t.reservation_signings);
    expect("pool reservation-lead amount", pool.reservation_signed_amount(),
           t.reservation_signed_amount);
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
      "installments; pool %d customers (%d public), %d claims, %d releases, %d conflicts, %d "
      "reservations, %d reservation-lead signings\n",
      f.leads(), f.customers(), f.opportunities(), f.won(), f.won_amount(), r.total(),
      r.overdue_amount(), r.prediction_error_days(), r.prediction_samples(), pool.customers(),
      pool.public_pool(), pool.claims(), pool.releases_by_owner(), pool.conflicts_judged(),
      pool.reservations_made(), pool.reservation_signings());
  return 0;
}

}  // namespace crm::crmctl
