#include "services/contract/projection/contract_list.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

const std::string kSep(1, '\0');

std::string Key(absl::string_view tenant, absl::string_view id) {
  return absl::StrCat(tenant, kSep, "contract", kSep, id);
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
  }
  out->set_credit(c.credit);
  if (c.sign_time != absl::InfinitePast()) *out->mutable_sign_time() = ToTimestamp(c.sign_time);
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
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Contract>> ListContracts(readstore::ReadStore* store,
                                                        const std::string& tenant,
                                                        const std::string& owner,
                                                        const std::string& customer) {
  std::vector<v1::Contract> out;
  absl::Status error;
  RETURN_IF_ERROR(store->Scan(Key(tenant, ""), "", [&](absl::string_view, absl::string_view value) {
    v1::Contract c;
    if (!c.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError("corrupt contract row");
      return false;
    }
    if ((owner.empty() || c.owner_id() == owner) &&
        (customer.empty() || c.customer_id() == customer)) {
      out.push_back(std::move(c));
    }
    return true;
  }));
  RETURN_IF_ERROR(error);
  return out;
}

absl::StatusOr<v1::Receivables> BuildReceivables(readstore::ReadStore* store,
                                                 const std::string& tenant,
                                                 v1::GetReceivablesRequest::GroupBy group_by,
                                                 absl::Time now) {
  ASSIGN_OR_RETURN(auto contracts, ListContracts(store, tenant, "", ""));
  std::map<std::string, Aging> groups;
  v1::Receivables out;
  for (const auto& c : contracts) {
    if (c.state() != v1::CONTRACT_STATE_ACTIVE && c.state() != v1::CONTRACT_STATE_COMPLETED) {
      continue;
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
  }
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
  return out;
}

}  // namespace crm::contract
