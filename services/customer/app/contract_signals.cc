#include "services/customer/app/contract_signals.h"

#include "absl/strings/str_cat.h"
#include "crm/contract/events/v1/contract_events.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::customer {

absl::Status ContractSignals::Apply(const readstore::StoredEvent& event, readstore::RowWriter&) {
  crm::contract::events::v1::ContractEvent e;
  // Templates and approval rules share the topic; unknown types park.
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own || !e.has_contract_signed()) return absl::OkStatus();
  const auto& contract = e.contract_signed();
  return commands_
      ->NoteContract(
          event.tenant(), contract.customer_id(),
          {contract.contract_id(), contract.amount(), FromTimestamp(contract.sign_time())})
      .status();
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
