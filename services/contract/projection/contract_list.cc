#include "services/contract/projection/contract_list.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/money/money.h"
#include "libs/readstore/derive.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

const std::string kSep(1, '\0');

const std::string kNoticeDuePrefix = std::string("~notice-due") + kSep;

std::string Key(absl::string_view tenant, absl::string_view id) {
  return absl::StrCat(tenant, kSep, "contract", kSep, id);
}
// A customer's paid installments sit together: predicting for a customer
// with history reads only theirs.
std::string PaidPrefix(absl::string_view tenant) {
  return absl::StrCat(tenant, kSep, "paid", kSep);
}
std::string PaidKey(absl::string_view tenant, absl::string_view customer,
                    absl::string_view installment) {
  return absl::StrCat(PaidPrefix(tenant), customer, kSep, installment);
}
// An owner's and a customer's contracts, for lists that name either.
std::string OwnerIndexPrefix(absl::string_view tenant, absl::string_view owner) {
  return absl::StrCat(tenant, kSep, "contract-owner", kSep, owner, kSep);
}
std::string CustomerIndexPrefix(absl::string_view tenant, absl::string_view customer) {
  return absl::StrCat(tenant, kSep, "contract-customer", kSep, customer, kSep);
}
// The contracts with a milestone `user` delivers, for their reminders; the
// users a contract is listed under are kept beside it to move them.
std::string MilestoneOwnerIndexPrefix(absl::string_view tenant, absl::string_view user) {
  return absl::StrCat(tenant, kSep, "contract-milestone-owner", kSep, user, kSep);
}
std::string MilestoneOwnersKey(absl::string_view tenant, absl::string_view id) {
  return absl::StrCat(tenant, kSep, "contract-milestone-owners", kSep, id);
}
// The distinct owners of `milestones`, sorted, one per line.
template <typename Milestones, typename OwnerOf>
std::string MilestoneOwners(const Milestones& milestones, OwnerOf owner_of) {
  std::set<std::string> owners;
  for (const auto& m : milestones) {
    if (!owner_of(m).empty()) owners.insert(owner_of(m));
  }
  return absl::StrJoin(owners, "\n");
}
std::string IndustryKey(absl::string_view tenant, absl::string_view customer) {
  return absl::StrCat(tenant, kSep, "industry", kSep, customer);
}
std::string NoticeOfKey(absl::string_view tenant, absl::string_view id) {
  return absl::StrCat(tenant, kSep, "notice-of", kSep, id);
}

// Keeps the contract's one entry in the notice index at its next notice.
void IndexNotice(const std::string& tenant, const Contract& c, readstore::RowWriter& rows,
                 const std::optional<std::string>& old_key) {
  if (old_key) rows.Delete(*old_key);
  const absl::Time next = NextNoticeTime(c);
  if (next == absl::InfiniteFuture()) {
    rows.Delete(NoticeOfKey(tenant, c.id));
    return;
  }
  const std::string key =
      absl::StrCat(kNoticeDuePrefix, readstore::EncodeBigEndian64(absl::ToUnixMicros(next)), kSep,
                   tenant, kSep, c.id);
  rows.Put(key, absl::StrCat(c.version));
  rows.Put(NoticeOfKey(tenant, c.id), key);
}

// Calls `each` with every row under `prefix`, parsed, one at a time.
template <typename Message>
absl::Status EachRow(readstore::ReadStore* store, const std::string& prefix,
                     const std::function<void(const Message&)>& each) {
  absl::Status error;
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view, absl::string_view value) {
    Message m;
    if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError("corrupt row under " + prefix);
      return false;
    }
    each(m);
    return true;
  }));
  return error;
}

v1::ContractReminder Reminder(const v1::Contract& c, std::string rule, absl::Time due,
                              std::string item, std::string message) {
  v1::ContractReminder r;
  r.set_rule(std::move(rule));
  r.set_contract(c.name());
  r.set_customer_id(c.customer_id());
  *r.mutable_due_time() = ToTimestamp(due);
  r.set_item_id(std::move(item));
  r.set_message(std::move(message));
  return r;
}

v1::ContractState StateOf(State s) {
  switch (s) {
    case State::kDraft:
      return v1::CONTRACT_STATE_DRAFT;
    case State::kInApproval:
      return v1::CONTRACT_STATE_IN_APPROVAL;
    case State::kApproved:
      return v1::CONTRACT_STATE_APPROVED;
    case State::kSent:
      return v1::CONTRACT_STATE_SENT;
    case State::kActive:
      return v1::CONTRACT_STATE_ACTIVE;
    case State::kCompleted:
      return v1::CONTRACT_STATE_COMPLETED;
    case State::kTerminated:
      return v1::CONTRACT_STATE_TERMINATED;
    case State::kNone:
      break;
  }
  return v1::CONTRACT_STATE_UNSPECIFIED;
}

}  // namespace

void ToProto(const Contract& c, v1::Contract* out) {
  const ev::ContractCreated& k = c.created;
  out->set_name("contracts/" + c.id);
  out->set_contract_id(c.id);
  out->set_customer_id(k.customer_id());
  out->set_owner_id(k.owner_id());
  out->set_opportunity_id(k.opportunity_id());
  *out->mutable_lines() = c.terms.lines();
  out->set_amount(c.terms.amount());
  out->set_state(StateOf(c.state));
  *out->mutable_create_time() = k.create_time();
  out->set_created_by(k.created_by());
  out->set_etag(absl::StrCat(c.version));
  out->set_template_id(c.terms.template_id());
  *out->mutable_deviations() = c.terms.deviations();
  out->set_document_ref(c.terms.document_ref());
  out->set_payment_terms_days(c.terms.payment_terms_days());
  out->set_duration_months(c.terms.duration_months());
  for (const auto& s : c.steps) *out->add_approval_steps() = s;
  out->set_approval_steps_done(c.state == State::kApproved || c.state == State::kSent ||
                                       c.state == State::kActive
                                   ? static_cast<int32_t>(c.steps.size())
                                   : c.current_step);
  out->set_approval_round(c.round);
  for (const auto& i : c.installments) {
    auto* s = out->add_installments();
    s->set_installment_id(i.id);
    s->set_amount(i.amount);
    *s->mutable_due_time() = ToTimestamp(i.due);
    s->set_paid(i.paid);
    if (i.paid_in_full != absl::InfiniteFuture()) {
      *s->mutable_paid_time() = ToTimestamp(i.paid_in_full);
    }
  }
  out->set_credit(c.credit);
  if (c.sign_time != absl::InfinitePast()) *out->mutable_sign_time() = ToTimestamp(c.sign_time);
  if (const absl::Time end = EndTime(c); end != absl::InfiniteFuture()) {
    *out->mutable_end_time() = ToTimestamp(end);
  }
  out->set_renewal_of(k.renewal_of());
  for (const auto& m : c.milestones) {
    v1::Milestone* o = out->add_milestones();
    o->set_milestone_id(m.id);
    o->set_title(m.title);
    o->set_owner_id(m.owner);
    *o->mutable_due_time() = ToTimestamp(m.due);
    if (m.completed()) *o->mutable_complete_time() = ToTimestamp(m.done);
    o->set_note(m.note);
    o->set_follow_up(m.follow_up);
    if (m.follow_up_at != absl::InfiniteFuture()) {
      *o->mutable_follow_up_time() = ToTimestamp(m.follow_up_at);
    }
  }
}

absl::Status ContractListProjection::Apply(const readstore::StoredEvent& event,
                                           readstore::RowWriter& rows) {
  if (event.stream_id() == "contract-setup") return absl::OkStatus();
  Contract c;
  c.id = event.stream_id();
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({event.tenant(), event.stream_id()}));
  for (const auto& s : stored) {
    ContractEvent e;
    RETURN_IF_ERROR(eventstore::FromStored(s.type(), s.payload(), &e));
    c = Evolve(std::move(c), e);
  }
  if (!c.exists()) return absl::OkStatus();
  v1::Contract row;
  ToProto(c, &row);
  rows.Put(Key(event.tenant(), c.id), row.SerializeAsString());
  // A contract's owner and customer never change: the entries are written
  // again, never moved.
  rows.Put(OwnerIndexPrefix(event.tenant(), c.owner()) + c.id, "");
  rows.Put(CustomerIndexPrefix(event.tenant(), c.created.customer_id()) + c.id, "");
  const std::string owners =
      MilestoneOwners(c.milestones, [](const auto& m) -> const std::string& { return m.owner; });
  ASSIGN_OR_RETURN(auto old_owners, rows.Get(MilestoneOwnersKey(event.tenant(), c.id)));
  if (old_owners.value_or("") != owners) {
    for (absl::string_view user :
         absl::StrSplit(old_owners.value_or(""), '\n', absl::SkipEmpty())) {
      rows.Delete(MilestoneOwnerIndexPrefix(event.tenant(), user) + c.id);
    }
    for (absl::string_view user : absl::StrSplit(owners, '\n', absl::SkipEmpty())) {
      rows.Put(MilestoneOwnerIndexPrefix(event.tenant(), user) + c.id, "");
    }
    rows.Put(MilestoneOwnersKey(event.tenant(), c.id), owners);
  }
  for (const auto& i : c.installments) {
    if (i.paid_in_full == absl::InfiniteFuture()) continue;
    rows.Put(PaidKey(event.tenant(), c.created.customer_id(), i.id),
             absl::StrCat(absl::ToUnixMicros(i.due), "\n", absl::ToUnixMicros(i.paid_in_full)));
  }
  ASSIGN_OR_RETURN(auto old_key, rows.Get(NoticeOfKey(event.tenant(), c.id)));
  IndexNotice(event.tenant(), c, rows, old_key);
  return absl::OkStatus();
}

absl::Status CustomerIndustryProjection::Apply(const readstore::StoredEvent& event,
                                               readstore::RowWriter& rows) {
  crm::customer::events::v1::CustomerEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();
  const crm::customer::events::v1::Profile* profile = nullptr;
  std::string id;
  if (e.has_created()) {
    profile = &e.created().profile();
    id = e.created().customer_id();
  } else if (e.has_profile_updated()) {
    profile = &e.profile_updated().profile();
    id = e.profile_updated().customer_id();
  } else {
    return absl::OkStatus();
  }
  rows.Put(IndustryKey(event.tenant(), id), profile->industry());
  return absl::OkStatus();
}

absl::Status IndexStoredContracts(readstore::ReadStore* store) {
  RETURN_IF_ERROR(readstore::DeriveFromRows<v1::Contract>(
      store, "~indexed/contract-milestone-owner", "contract",
      [](absl::string_view tenant, const std::string& id, const v1::Contract& c,
         readstore::ReadStore::Rows& rows) {
        const std::string owners = MilestoneOwners(
            c.milestones(),
            [](const v1::Milestone& m) -> const std::string& { return m.owner_id(); });
        for (absl::string_view user : absl::StrSplit(owners, '\n', absl::SkipEmpty())) {
          rows.emplace_back(MilestoneOwnerIndexPrefix(tenant, user) + id, "");
        }
        rows.emplace_back(MilestoneOwnersKey(tenant, id), owners);
      }));
  return readstore::DeriveFromRows<v1::Contract>(
      store, "~indexed/contract-owner-customer", "contract",
      [](absl::string_view tenant, const std::string& id, const v1::Contract& c,
         readstore::ReadStore::Rows& rows) {
        rows.emplace_back(OwnerIndexPrefix(tenant, c.owner_id()) + id, "");
        rows.emplace_back(CustomerIndexPrefix(tenant, c.customer_id()) + id, "");
      });
}

absl::StatusOr<readstore::Page<v1::Contract>> ListContracts(readstore::ReadStore* store,
                                                            const std::string& tenant,
                                                            const ContractFilter& filter,
                                                            int page_size,
                                                            const std::string& after_id) {
  // Through the index of the filter given (the owner's when both are), so a
  // page reads the contracts it returns rather than the tenant's.
  const std::string rows = Key(tenant, "");
  const bool indexed = !filter.owner.empty() || !filter.customer.empty();
  const std::string prefix = !filter.owner.empty() ? OwnerIndexPrefix(tenant, filter.owner)
                             : !filter.customer.empty()
                                 ? CustomerIndexPrefix(tenant, filter.customer)
                                 : rows;
  return readstore::ReadPage<v1::Contract>(
      store, prefix, indexed ? rows : "", after_id, page_size, [&](const v1::Contract& c) {
        return filter.customer.empty() || c.customer_id() == filter.customer;
      });
}

absl::StatusOr<v1::Receivables> BuildReceivables(readstore::ReadStore* store,
                                                 const std::string& tenant,
                                                 v1::GetReceivablesRequest::GroupBy group_by,
                                                 absl::Time now) {
  std::map<std::string, Aging> groups;
  v1::Receivables out;
  RETURN_IF_ERROR(EachRow<v1::Contract>(store, Key(tenant, ""), [&](const v1::Contract& c) {
    if (c.state() != v1::CONTRACT_STATE_ACTIVE && c.state() != v1::CONTRACT_STATE_COMPLETED) {
      return;
    }
    std::vector<InstallmentState> installments;
    for (const auto& i : c.installments()) {
      installments.push_back(
          {i.installment_id(), i.amount(), FromTimestamp(i.due_time()), i.paid()});
      if (i.paid() < i.amount() && FromTimestamp(i.due_time()) <= now) {
        auto* o = out.add_overdue();
        o->set_contract(c.name());
        o->set_customer_id(c.customer_id());
        o->set_owner_id(c.owner_id());
        o->set_installment_id(i.installment_id());
        o->set_open(i.amount() - i.paid());
        *o->mutable_due_time() = i.due_time();
        o->set_days_overdue(
            static_cast<int32_t>((now - FromTimestamp(i.due_time())) / absl::Hours(24)));
      }
    }
    const std::string group = group_by == v1::GetReceivablesRequest::GROUP_BY_OWNER ? c.owner_id()
                              : group_by == v1::GetReceivablesRequest::GROUP_BY_CUSTOMER
                                  ? c.customer_id()
                                  : "";
    const Aging a = AgingOf(installments, now);
    Aging& g = groups[group];
    g.not_due += a.not_due;
    g.days_0_30 += a.days_0_30;
    g.days_31_60 += a.days_31_60;
    g.days_61_90 += a.days_61_90;
    g.over_90 += a.over_90;
  }));
  for (const auto& [group, a] : groups) {
    auto* r = out.add_rows();
    r->set_group(group);
    r->set_not_due(a.not_due);
    r->set_days_0_30(a.days_0_30);
    r->set_days_31_60(a.days_31_60);
    r->set_days_61_90(a.days_61_90);
    r->set_over_90(a.over_90);
    r->set_total(a.total());
  }
  std::sort(out.mutable_overdue()->begin(), out.mutable_overdue()->end(),
            [](const v1::OverdueInstallment& x, const v1::OverdueInstallment& y) {
              return x.days_overdue() > y.days_overdue();
            });
  ASSIGN_OR_RETURN(auto history, LoadPaymentHistory(store, tenant));
  const PredictionQuality q = MeasurePrediction(history);
  v1::PaymentPrediction* p = out.mutable_prediction();
  p->set_method(
      "median payment delay of the customer's paid installments; without any, of customers of "
      "the same industry (at least 3); without those, of the tenant (at least 3); else the due "
      "date");
  p->set_samples(q.samples);
  p->set_mean_absolute_error_days(q.mean_absolute_error_days);
  p->set_within_7_days(q.within_7_days);
  std::map<std::string, std::string> industries;
  for (auto& o : *out.mutable_overdue()) {
    auto it = industries.find(o.customer_id());
    if (it == industries.end()) {
      ASSIGN_OR_RETURN(auto industry, store->Get(IndustryKey(tenant, o.customer_id())));
      it = industries.emplace(o.customer_id(), industry.value_or("")).first;
    }
    const Prediction pr = PredictDelay(history, o.customer_id(), it->second, now);
    *o.mutable_expected_pay_time() = ToTimestamp(FromTimestamp(o.due_time()) + pr.delay);
    o.set_prediction_method(pr.method);
  }
  return out;
}

absl::StatusOr<std::vector<PaidInstallment>> LoadPaymentHistory(readstore::ReadStore* store,
                                                                const std::string& tenant,
                                                                const std::string& customer) {
  std::vector<PaidInstallment> out;
  absl::Status error;
  const std::string all = PaidPrefix(tenant);
  const std::string prefix = customer.empty() ? all : absl::StrCat(all, customer, kSep);
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    const absl::string_view rest = key.substr(all.size());
    std::pair<std::string, std::string> times = absl::StrSplit(value, '\n');
    int64_t due = 0, paid = 0;
    if (!absl::SimpleAtoi(times.first, &due) || !absl::SimpleAtoi(times.second, &paid)) {
      error = absl::DataLossError("corrupt payment history row");
      return false;
    }
    out.push_back({std::string(rest.substr(0, rest.find(kSep[0]))), "", absl::FromUnixMicros(due),
                   absl::FromUnixMicros(paid)});
    return true;
  }));
  RETURN_IF_ERROR(error);
  std::map<std::string, std::string> industries;
  for (auto& p : out) {
    auto it = industries.find(p.customer);
    if (it == industries.end()) {
      ASSIGN_OR_RETURN(auto industry, store->Get(IndustryKey(tenant, p.customer)));
      it = industries.emplace(p.customer, industry.value_or("")).first;
    }
    p.industry = it->second;
  }
  return out;
}

absl::Status PredictPayments(readstore::ReadStore* store, const std::string& tenant,
                             v1::Contract* c) {
  ASSIGN_OR_RETURN(auto history, LoadPaymentHistory(store, tenant, c->customer_id()));
  if (history.empty()) {  // no history of their own: peers' and the tenant's
    ASSIGN_OR_RETURN(history, LoadPaymentHistory(store, tenant));
  }
  ASSIGN_OR_RETURN(auto industry, store->Get(IndustryKey(tenant, c->customer_id())));
  // As of now: everything paid so far informs the prediction.
  const Prediction p =
      PredictDelay(history, c->customer_id(), industry.value_or(""), absl::InfiniteFuture());
  for (auto& i : *c->mutable_installments()) {
    if (i.paid() >= i.amount()) continue;
    *i.mutable_expected_pay_time() = ToTimestamp(FromTimestamp(i.due_time()) + p.delay);
    i.set_prediction_method(p.method);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ContractReminder>> ListReminders(readstore::ReadStore* store,
                                                                const std::string& tenant,
                                                                const std::string& user,
                                                                absl::Time now) {
  // The contracts `user` owns or delivers a milestone of, through their
  // indexes; renewals and the latest contract of each of their customers
  // from the customers' contracts.
  std::set<std::string> ids;
  for (const std::string& prefix :
       {OwnerIndexPrefix(tenant, user), MilestoneOwnerIndexPrefix(tenant, user)}) {
    RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
      ids.emplace(key.substr(prefix.size()));
      return true;
    }));
  }
  auto load = [&](const std::string& id) -> absl::StatusOr<v1::Contract> {
    ASSIGN_OR_RETURN(auto stored, store->Get(Key(tenant, id)));
    v1::Contract c;
    if (!stored || !c.ParseFromString(*stored)) {
      return absl::DataLossError("contract row missing for index entry " + id);
    }
    return c;
  };
  std::vector<v1::Contract> contracts;
  std::set<std::string> customers;
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(contracts.emplace_back(), load(id));
    customers.insert(contracts.back().customer_id());
  }
  std::set<std::string> renewed;
  // Per customer, when its latest contract was created: a newer contract
  // answers a follow-up.
  std::map<std::string, absl::Time> latest_contract;
  for (const std::string& customer : customers) {
    std::vector<std::string> theirs;
    const std::string prefix = CustomerIndexPrefix(tenant, customer);
    RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
      theirs.emplace_back(key.substr(prefix.size()));
      return true;
    }));
    absl::Time& t = latest_contract.try_emplace(customer, absl::InfinitePast()).first->second;
    for (const std::string& id : theirs) {
      ASSIGN_OR_RETURN(const v1::Contract c, load(id));
      if (!c.renewal_of().empty()) renewed.insert(c.renewal_of());
      t = std::max(t, FromTimestamp(c.create_time()));
    }
  }
  constexpr absl::Duration kMilestoneAhead = absl::Hours(24 * 7);
  constexpr absl::Duration kFollowUpWindow = absl::Hours(24 * 30);
  std::vector<v1::ContractReminder> out;
  for (const auto& c : contracts) {
    const bool mine = c.owner_id() == user;
    const bool signed_ =
        c.state() == v1::CONTRACT_STATE_ACTIVE || c.state() == v1::CONTRACT_STATE_COMPLETED;
    if (mine && signed_) {
      for (const auto& i : c.installments()) {
        const absl::Time due = FromTimestamp(i.due_time());
        if (i.paid() >= i.amount() || due > now) continue;
        out.push_back(Reminder(
            c, "payment-overdue", due, i.installment_id(),
            absl::StrCat("installment ", i.installment_id(), " of ", c.contract_id(), ": ",
                         FormatMinorUnits(i.amount() - i.paid()), " open since the due time")));
      }
    }
    if (mine && c.state() == v1::CONTRACT_STATE_ACTIVE && c.has_end_time() &&
        !renewed.count(c.contract_id())) {
      const absl::Time end = FromTimestamp(c.end_time());
      if (end - kRenewalNotice <= now) {
        out.push_back(Reminder(c, "renewal", end, "",
                               absl::StrCat("contract ", c.contract_id(),
                                            " ends at the due time: create its renewal "
                                            "(renewal_of) or end it")));
      }
    }
    for (const auto& m : c.milestones()) {
      if (!mine && m.owner_id() != user) continue;
      const absl::Time due = FromTimestamp(m.due_time());
      if (!m.has_complete_time() && due - kMilestoneAhead <= now) {
        out.push_back(Reminder(
            c, "milestone-due", due, m.milestone_id(),
            absl::StrCat("milestone \"", m.title(), "\" is due, delivered by ", m.owner_id())));
      }
      if (!mine || !m.has_follow_up_time()) continue;
      const absl::Time at = FromTimestamp(m.follow_up_time());
      if (at > now || now > at + kFollowUpWindow) continue;
      if (latest_contract[c.customer_id()] > FromTimestamp(m.complete_time())) continue;
      const bool revisit = m.follow_up() == crm::contract::events::v1::FOLLOW_UP_KIND_REVISIT;
      out.push_back(Reminder(c, revisit ? "revisit" : "cross-sell", at, m.milestone_id(),
                             absl::StrCat(revisit ? "revisit" : "offer more to", " customer ",
                                          c.customer_id(), " after \"", m.title(), "\"")));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return FromTimestamp(x.due_time()) < FromTimestamp(y.due_time());
  });
  return out;
}

absl::StatusOr<std::vector<DueContract>> DueForNotice(readstore::ReadStore* store, absl::Time now) {
  const int64_t micros = absl::ToUnixMicros(now);
  std::vector<DueContract> out;
  RETURN_IF_ERROR(
      store->Scan(kNoticeDuePrefix, "", [&](absl::string_view key, absl::string_view value) {
        absl::string_view rest = key.substr(kNoticeDuePrefix.size());
        if (readstore::DecodeBigEndian64(rest.substr(0, 8)) > micros) return false;
        rest.remove_prefix(9);
        const size_t sep = rest.find('\0');
        DueContract& d = out.emplace_back();
        d.tenant = std::string(rest.substr(0, sep));
        d.id = std::string(rest.substr(sep + 1));
        if (!absl::SimpleAtoi(value, &d.version)) d.version = 0;
        return true;
      }));
  return out;
}

}  // namespace crm::contract
