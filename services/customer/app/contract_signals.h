#ifndef CRM_SERVICES_CUSTOMER_APP_CONTRACT_SIGNALS_H_
#define CRM_SERVICES_CUSTOMER_APP_CONTRACT_SIGNALS_H_

// Signals from other services' topics that change customers' streams.
//
// ContractSignals reads the contract service's topic and notes every signed
// contract on its customer's stream (ContractSignedNoted), which ends drop
// protection's no-contract window and adds to the year's sales. Each note's
// request id derives from the contract id, so redelivery notes nothing
// twice; a contract of an unknown customer is parked.
//
// It also keeps the moments of truth the contract service pushes, for the
// customer's owner (PushedMotKey): `mot:payment-overdue` from PaymentOverdue
// until receipts cover the installment, `mot:contract-renewal` from
// RenewalDue until the contract ends or a renewal of it is created. Its own
// rows: `<tenant>\0contract-of\0<contract>` -> customer and
// `<tenant>\0installment-of\0<installment>` -> "<customer>\n<open>".

#include "libs/readstore/projection_runner.h"
#include "services/customer/app/customer_commands.h"

namespace crm::customer {

class ContractSignals : public readstore::Projection {
 public:
  explicit ContractSignals(CustomerCommandHandler* commands) : commands_(commands) {}
  std::string name() const override { return "contract_signals"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  CustomerCommandHandler* commands_;
};

// OpportunitySignals reads the opportunity service's topic and notes each
// opportunity's stage on its customer's stream (OpportunityProgressNoted),
// which conflicts count as the owner's progress. It remembers each
// opportunity's customer and owner in its own rows
// (`<tenant>\0opp-of\0<opportunity>`); each note's request id derives from
// the topic event's id, so redelivery notes nothing twice.
class OpportunitySignals : public readstore::Projection {
 public:
  explicit OpportunitySignals(CustomerCommandHandler* commands) : commands_(commands) {}
  std::string name() const override { return "opportunity_signals"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  CustomerCommandHandler* commands_;
};

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_CONTRACT_SIGNALS_H_
