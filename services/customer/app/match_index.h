#ifndef CRM_SERVICES_CUSTOMER_APP_MATCH_INDEX_H_
#define CRM_SERVICES_CUSTOMER_APP_MATCH_INDEX_H_

// The match index finds customers of the same company: every customer's
// match keys (normalised company name, legal entity id, key persons' phones
// and emails; see MatchKeys) in the read store, fed from the service's log.
// Rows: `<tenant>\0match\0<key>\0<customer>` -> "" and
//       `<tenant>\0match-keys\0<customer>` -> its keys, '\n'-separated.

#include <string>
#include <vector>

#include "libs/readstore/projection_runner.h"
#include "services/customer/domain/customer.h"

namespace crm::customer {

class MatchIndexProjection : public readstore::Projection {
 public:
  std::string name() const override { return "customer_match"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// Up to `limit` customers other than `exclude` sharing any of `keys`, each
// with the key kinds it shares, in id order (creation order to the
// second). Owners are not set.
absl::StatusOr<std::vector<ev::ConflictMatch>> FindMatches(readstore::ReadStore* store,
                                                           const std::string& tenant,
                                                           const std::vector<std::string>& keys,
                                                           const std::string& exclude, int limit);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_MATCH_INDEX_H_
