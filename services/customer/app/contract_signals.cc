#include "services/customer/app/contract_signals.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crm/contract/events/v1/contract_events.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/money/money.h"
#include "libs/status/status.h"
#include "services/customer/projection/customer_list.h"

namespace crm::customer {

namespace {

const std::string kSep(1, '\0');
constexpr char kPaymentOverdue[] = "mot:payment-overdue";
constexpr char kContractRenewal[] = "mot:contract-renewal";

std::string ContractOfKey(const std::string& tenant, const std::string& contract) {
  return absl::StrCat(tenant, kSep, "contract-of", kSep, contract);
}
std::string InstallmentOfKey(const std::string& tenant, const std::string& installment) {
  return absl::StrCat(tenant, kSep, "installment-of", kSep, installment);
}

void PutMot(const std::string& tenant, const std::string& customer, const std::string& rule,
            const std::string& item, const google::protobuf::Timestamp& due, std::string message,
            readstore::RowWriter& rows) {
  crm::customer::v1::Reminder r;
  r.set_customer("customers/" + customer);
  *r.mutable_due_time() = due;
  r.set_rule(rule);
  r.set_message(std::move(message));
  rows.Put(PushedMotKey(tenant, customer, rule, item), r.SerializeAsString());
}

// Receipts against an installment with an overdue reminder: the reminder
// goes once nothing is open.
absl::Status ApplyReceipt(const std::string& tenant,
                          const crm::contract::events::v1::PaymentReceived& p,
                          readstore::RowWriter& rows) {
  for (const auto& a : p.allocations()) {
    const std::string key = InstallmentOfKey(tenant, a.installment_id());
    ASSIGN_OR_RETURN(auto of, rows.Get(key));
    if (!of) continue;
    std::pair<std::string, std::string> parts = absl::StrSplit(*of, '\n');
    int64_t open = 0;
    if (!absl::SimpleAtoi(parts.second, &open)) return absl::DataLossError("corrupt open amount");
    open -= a.amount();
    if (open > 0) {
      rows.Put(key, absl::StrCat(parts.first, "\n", open));
      continue;
    }
    rows.Delete(key);
    rows.Delete(PushedMotKey(tenant, parts.first, kPaymentOverdue, a.installment_id()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ContractSignals::Apply(const readstore::StoredEvent& event,
                                    readstore::RowWriter& rows) {
  crm::contract::events::v1::ContractEvent e;
  // Templates and approval rules share the topic; unknown types park.
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();
  const std::string& tenant = event.tenant();
  if (e.has_created()) {
    const auto& c = e.created();
    rows.Put(ContractOfKey(tenant, c.contract_id()), c.customer_id());
    if (!c.renewal_of().empty()) {
      rows.Delete(PushedMotKey(tenant, c.customer_id(), kContractRenewal, c.renewal_of()));
    }
  } else if (e.has_contract_signed()) {
    const auto& contract = e.contract_signed();
    return commands_
        ->NoteContract(
            tenant, contract.customer_id(),
            {contract.contract_id(), contract.amount(), FromTimestamp(contract.sign_time())})
        .status();
  } else if (e.has_payment_overdue()) {
    const auto& o = e.payment_overdue();
    rows.Put(InstallmentOfKey(tenant, o.installment_id()),
             absl::StrCat(o.customer_id(), "\n", o.open()));
    PutMot(tenant, o.customer_id(), kPaymentOverdue, o.installment_id(), o.due_time(),
           absl::StrCat("installment ", o.installment_id(), " of contract ", o.contract_id(),
                        " is overdue with ", FormatMinorUnits(o.open()), " open: call about it"),
           rows);
  } else if (e.has_payment_received()) {
    return ApplyReceipt(tenant, e.payment_received(), rows);
  } else if (e.has_renewal_due()) {
    const auto& r = e.renewal_due();
    PutMot(tenant, r.customer_id(), kContractRenewal, r.contract_id(), r.end_time(),
           absl::StrCat("contract ", r.contract_id(), " ends at the due time: talk renewal now"),
           rows);
  } else if (e.has_ended()) {
    ASSIGN_OR_RETURN(auto customer, rows.Get(ContractOfKey(tenant, e.ended().contract_id())));
    if (customer) {
      rows.Delete(PushedMotKey(tenant, *customer, kContractRenewal, e.ended().contract_id()));
    }
  }
  return absl::OkStatus();
}

absl::Status OpportunitySignals::Apply(const readstore::StoredEvent& event,
                                       readstore::RowWriter& rows) {
  crm::opportunity::events::v1::OpportunityEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();  // another aggregate's event on the topic
  const std::string sep(1, '\0');
  auto of_key = [&](const std::string& id) {
    return absl::StrCat(event.tenant(), sep, "opp-of", sep, id);
  };
  NoteOpportunity note;
  note.time = FromTimestamp(event.time());
  std::string customer_id;
  if (e.has_created()) {
    const auto& c = e.created();
    rows.Put(of_key(c.opportunity_id()), absl::StrCat(c.customer_id(), "\n", c.owner_id()));
    customer_id = c.customer_id();
    note = {c.opportunity_id(), c.owner_id(), c.stage_id(), c.probability(), note.time};
  } else {
    std::string id, stage;
    int32_t probability = 0;
    if (e.has_stage_changed()) {
      id = e.stage_changed().opportunity_id();
      stage = e.stage_changed().to_stage_id();
      probability = e.stage_changed().probability();
    } else if (e.has_won()) {
      id = e.won().opportunity_id();
      stage = "won";
      probability = 100;
    } else if (e.has_close_lost_approved()) {
      id = e.close_lost_approved().opportunity_id();
      stage = "lost";
    } else {
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(auto of, rows.Get(of_key(id)));
    if (!of) return absl::FailedPreconditionError("an opportunity event before its creation");
    const size_t nl = of->find('\n');
    customer_id = of->substr(0, nl);
    note = {id, of->substr(nl + 1), stage, probability, note.time};
  }
  return commands_
      ->NoteOpportunity(event.tenant(), "opportunity-progress:" + event.event_id(), customer_id,
                        note)
      .status();
}

}  // namespace crm::customer
