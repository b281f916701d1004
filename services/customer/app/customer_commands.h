#ifndef CRM_SERVICES_CUSTOMER_APP_CUSTOMER_COMMANDS_H_
#define CRM_SERVICES_CUSTOMER_APP_CUSTOMER_COMMANDS_H_

// Command handlers of the customer service: load the customer and the rep
// pool a decision touches, decide, and append both streams atomically. When
// another command moved either stream first (ABORTED), the command is decided
// again on the fresh state, so of two concurrent claims exactly one wins and
// the other gets the rule that now refuses it. Every command is idempotent on
// its request id. Thread-safe.

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "services/customer/domain/customer.h"

namespace crm::customer {

class CustomerCommandHandler {
 public:
  CustomerCommandHandler(eventstore::EventStore* store, Clock* clock, Policy policy)
      : store_(store), clock_(clock), policy_(std::move(policy)) {}

  // cmd.customer_id and cmd.now are set here.
  absl::StatusOr<Customer> Create(const std::string& tenant, const std::string& request_id,
                                  CreateCustomer cmd);
  // `etag`, when not empty, must equal the customer's version (ABORTED).
  absl::StatusOr<Customer> Update(const std::string& tenant, const std::string& request_id,
                                  const std::string& customer_id, const std::string& etag,
                                  UpdateProfile cmd);
  absl::StatusOr<Customer> Claim(const std::string& tenant, const std::string& request_id,
                                 const std::string& customer_id, const std::string& user);
  absl::StatusOr<Customer> Release(const std::string& tenant, const std::string& request_id,
                                   const std::string& customer_id, const std::string& user,
                                   const std::string& note);
  // Returns the recorded touch (the same one for a retried request id).
  absl::StatusOr<ev::TouchRecorded> RecordTouch(const std::string& tenant,
                                                const std::string& request_id,
                                                const std::string& customer_id,
                                                customer::RecordTouch cmd);
  absl::StatusOr<RepPool> SetCapacity(const std::string& tenant, const std::string& request_id,
                                      const std::string& rep, SetCapacity cmd);
  // Applies drop protection to one customer at the clock's now: warns or
  // releases when due, else does nothing. Safe to call any number of times.
  absl::StatusOr<Customer> EnforceDropProtection(const std::string& tenant,
                                                 const std::string& customer_id);

  // NOT_FOUND when the customer does not exist (at `as_of`, when given).
  absl::StatusOr<Customer> Get(const std::string& tenant, const std::string& customer_id,
                               absl::Time as_of = absl::InfiniteFuture());

  struct HistoryEntry {
    absl::Time time;
    int64_t version;
    std::string type;
    HistoryLine line;
    std::string owner_after;
  };
  // Every event of the customer, oldest first. NOT_FOUND when there is none.
  absl::StatusOr<std::vector<HistoryEntry>> History(const std::string& tenant,
                                                    const std::string& customer_id);
  absl::StatusOr<RepPool> GetPool(const std::string& tenant, const std::string& rep);

  const Policy& policy() const { return policy_; }
  Clock* clock() const { return clock_; }

 private:
  using DecideFn = std::function<absl::StatusOr<Decision>(const Customer&, const RepPool&)>;
  // Load, decide, append, retrying on ABORTED. `pool_of` names the rep whose
  // pool the decision may change ("" for none).
  absl::Status Execute(const std::string& tenant, const std::string& request_id,
                       const std::string& customer_id,
                       const std::function<std::string(const Customer&)>& pool_of,
                       const DecideFn& decide);

  eventstore::EventStore* store_;
  Clock* clock_;
  Policy policy_;
};

// The customer as its stream stands (version 0 when it does not exist), or
// as it stood at `as_of`: only events appended at or before it count.
absl::StatusOr<Customer> LoadCustomer(eventstore::EventStore* store, const std::string& tenant,
                                      const std::string& customer_id,
                                      absl::Time as_of = absl::InfiniteFuture());
absl::StatusOr<RepPool> LoadPool(eventstore::EventStore* store, const std::string& tenant,
                                 const std::string& rep);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_CUSTOMER_COMMANDS_H_
