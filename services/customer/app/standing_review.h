#ifndef CRM_SERVICES_CUSTOMER_APP_STANDING_REVIEW_H_
#define CRM_SERVICES_CUSTOMER_APP_STANDING_REVIEW_H_

// The standing review: periodically measures every rep's private pool
// (size, average completeness) from the customer list and lets the domain
// decide lead priority and completeness penalties (at most once per review
// period per rep; see ReviewStanding).

#include <atomic>

#include "libs/readstore/read_store.h"
#include "libs/runtime/periodic.h"
#include "services/customer/app/customer_commands.h"

namespace crm::customer {

class StandingReviewer {
 public:
  StandingReviewer(readstore::ReadStore* list, CustomerCommandHandler* commands)
      : list_(list), commands_(commands) {}

  // Reviews every rep due for a review; returns how many were reviewed.
  absl::StatusOr<int> Tick();
  void Start(absl::Duration period) {
    periodic_.Start(period, [this] { return Tick().status(); });
  }
  void Stop() { periodic_.Stop(); }

 private:
  readstore::ReadStore* list_;
  CustomerCommandHandler* commands_;
  runtime::Periodic periodic_{"standing review"};
};

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_STANDING_REVIEW_H_
