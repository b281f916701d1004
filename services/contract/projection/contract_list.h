#ifndef CRM_SERVICES_CONTRACT_PROJECTION_CONTRACT_LIST_H_
#define CRM_SERVICES_CONTRACT_PROJECTION_CONTRACT_LIST_H_

// The contract read model, fed from the service's own log: each contract's
// row (`<tenant>\0contract\0<id>` -> v1::Contract) rebuilt from its stream.
// Lists, receivables and reminders are read from here. The same rebuild
// keeps each paid installment's history row for payment prediction
// (`<tenant>\0paid\0<customer>\0<installment>` -> due, paid) and the notice
// index the notice scheduler works from
// (`~notice-due\0<time>\0<tenant>\0<id>` -> version), and each
// contract's entries in its owner's and its customer's index
// (`<tenant>\0contract-owner\0<owner>\0<id>`, `...contract-customer...`)
// and in the index of each user who delivers one of its milestones
// (`...contract-milestone-owner...`, the users kept in
// `<tenant>\0contract-milestone-owners\0<id>`) for their reminders.
// Stores from before the indexes gain them from IndexStoredContracts.
//
// `customer_industry` (from crm.customer.events.v1) keeps each customer's
// industry (`<tenant>\0industry\0<customer>`) for predictions from similar
// customers.

#include <string>
#include <vector>

#include "crm/contract/v1/contract_service.pb.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/page.h"
#include "libs/readstore/projection_runner.h"
#include "services/contract/domain/contract.h"
#include "services/contract/domain/payment_prediction.h"

namespace crm::contract {

void ToProto(const Contract& c, v1::Contract* out);

class ContractListProjection : public readstore::Projection {
 public:
  explicit ContractListProjection(eventstore::EventStore* store) : store_(store) {}
  std::string name() const override { return "contract_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  eventstore::EventStore* store_;
};

class CustomerIndustryProjection : public readstore::Projection {
 public:
  std::string name() const override { return "customer_industry"; }
  // Events of other aggregates on the topic are skipped, not parked.
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// Adds the owner, customer and milestone owner index entries of contracts
// stored before those indexes existed, once per read store; call before the
// projection runs.
absl::Status IndexStoredContracts(readstore::ReadStore* store);

struct ContractFilter {
  std::string owner;
  std::string customer;
};

// A page of the tenant's contracts (all, or those of `filter`'s owner
// and/or customer) after `after_id`, read through the owner's or the
// customer's index when filtered.
absl::StatusOr<readstore::Page<v1::Contract>> ListContracts(readstore::ReadStore* store,
                                                            const std::string& tenant,
                                                            const ContractFilter& filter,
                                                            int page_size,
                                                            const std::string& after_id);

// Open amounts of signed contracts by aging bucket at `now`, grouped, and
// every overdue installment oldest first.
absl::StatusOr<v1::Receivables> BuildReceivables(readstore::ReadStore* store,
                                                 const std::string& tenant,
                                                 v1::GetReceivablesRequest::GroupBy group_by,
                                                 absl::Time now);

// The installments paid in full, each with its customer's industry: the
// tenant's, or only `customer`'s.
absl::StatusOr<std::vector<PaidInstallment>> LoadPaymentHistory(readstore::ReadStore* store,
                                                                const std::string& tenant,
                                                                const std::string& customer = "");
// Sets the expected payment time and method of `c`'s open installments.
absl::Status PredictPayments(readstore::ReadStore* store, const std::string& tenant,
                             v1::Contract* c);

// `user`'s reminders at `now` (see ListContractReminders), soonest first.
absl::StatusOr<std::vector<v1::ContractReminder>> ListReminders(readstore::ReadStore* store,
                                                                const std::string& tenant,
                                                                const std::string& user,
                                                                absl::Time now);

// The contracts whose next notice is due before `now`: (tenant, id, the
// version the index was computed at).
struct DueContract {
  std::string tenant;
  std::string id;
  int64_t version = 0;
};
absl::StatusOr<std::vector<DueContract>> DueForNotice(readstore::ReadStore* store, absl::Time now);

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_PROJECTION_CONTRACT_LIST_H_
