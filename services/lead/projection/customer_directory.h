#ifndef CRM_SERVICES_LEAD_PROJECTION_CUSTOMER_DIRECTORY_H_
#define CRM_SERVICES_LEAD_PROJECTION_CUSTOMER_DIRECTORY_H_

// What the lead service knows of customers, from the customer service's
// topic (crm.customer.events.v1), never from its database: each customer's
// match keys (normalised company name, legal entity id, and every contact's
// phone and email as the keyed hashes the topic carries, never the values:
// see TagKeys), current owner, and the
// rep holding a reservation on a public customer; and, from the reps' pool
// reviews (PoolStandingReviewed), which reps' complete data earned them
// priority for channel leads.
// Rows: `<tenant>\0cust\0<key>\0<customer>` -> "",
//       `<tenant>\0cust-keys\0<customer>` -> its keys, '\n'-separated,
//       `<tenant>\0cust-owner\0<customer>` -> owner ("" in the public pool),
//       `<tenant>\0cust-reserved\0<customer>` -> the reserving rep,
//       `<tenant>\0rep-priority\0<rep>` -> "" while the rep has priority.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libs/pii/vault.h"
#include "libs/readstore/projection_runner.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

class CustomerDirectoryProjection : public readstore::Projection {
 public:
  // `vault` computes match tags for contacts that came unsealed.
  explicit CustomerDirectoryProjection(const pii::Vault* vault) : vault_(vault) {}
  // Called when the customer service erased a contact, with the person: a
  // contact that came from a lead is that lead's person (its id).
  using ErasedFn =
      std::function<absl::Status(const std::string& tenant, const std::string& person)>;
  void OnContactErased(ErasedFn fn) { on_erased_ = std::move(fn); }
  std::string name() const override { return "customer_directory"; }
  // Events of other aggregates on the topic (segments, conflicts, the rest
  // of the pools') are skipped, not parked.
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  const pii::Vault* vault_;
  ErasedFn on_erased_;
};

// lead::MatchKeys with phone and email replaced by their match tags, as the
// directory keeps them.
std::vector<std::string> TagKeys(const pii::Vault& vault, const std::string& tenant,
                                 const std::vector<std::string>& keys);

// The customer sharing the most kinds of `keys` (ties: the oldest id), with
// its owner or, for a reserved public customer, the reserving rep.
absl::StatusOr<std::optional<CustomerMatch>> FindCustomer(readstore::ReadStore* store,
                                                          const std::string& tenant,
                                                          const std::vector<std::string>& keys);

// Whether `rep`'s last pool review earned them lead priority.
absl::StatusOr<bool> HasLeadPriority(readstore::ReadStore* store, const std::string& tenant,
                                     const std::string& rep);

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_PROJECTION_CUSTOMER_DIRECTORY_H_
