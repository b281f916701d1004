#ifndef CRM_SERVICES_CUSTOMER_APP_DROP_PROTECTION_H_
#define CRM_SERVICES_CUSTOMER_APP_DROP_PROTECTION_H_

// Drop protection runs from a deadline index kept in the read store and fed
// from the service's own log: after every customer event the index holds the
// customer's next drop check (a warning or a release). The scheduler releases
// or warns every customer whose check time has passed by the injected clock.
//
// The same projection keeps each rep's open reminders: customers whose owner
// was warned and whose deadline has not moved since.
//
// A restart misses nothing (the index is durable and rebuilt from the log)
// and acts on nothing twice (each action's request id derives from the
// customer version it was decided on, and is decided again on fresh state).

#include <atomic>
#include <string>

#include "crm/customer/v1/customer_service.pb.h"
#include "libs/readstore/projection_runner.h"
#include "libs/runtime/periodic.h"
#include "services/customer/app/customer_commands.h"

namespace crm::customer {

class DropIndexProjection : public readstore::Projection {
 public:
  // `commands` gives each tenant's rules and each customer's state.
  explicit DropIndexProjection(CustomerCommandHandler* commands) : commands_(commands) {}
  std::string name() const override { return "drop_protection"; }
  // Reindexes the customer the event belongs to from its current stream; a
  // change of the tenant's rules reindexes every customer it has indexed.
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  absl::Status Reindex(const std::string& tenant, const std::string& customer_id,
                       const Policy& policy, readstore::RowWriter& rows);

  CustomerCommandHandler* commands_;
};

// `rep`'s open drop-protection reminders, soonest due first.
absl::StatusOr<std::vector<crm::customer::v1::Reminder>> ListDropReminders(
    readstore::ReadStore* store, const std::string& tenant, const std::string& rep);

// `rep`'s reservations that lapse within the tenant's warning period unless
// secured (rule "reservation-lapse"), from the pool and customer streams.
absl::StatusOr<std::vector<crm::customer::v1::Reminder>> ListReservationReminders(
    CustomerCommandHandler* commands, const std::string& tenant, const std::string& rep);

class DropScheduler {
 public:
  DropScheduler(readstore::ReadStore* index, CustomerCommandHandler* commands)
      : index_(index), commands_(commands) {}
  ~DropScheduler() { Stop(); }

  // Enforces drop protection on every customer whose check time is before
  // the clock's now. Returns how many customers it acted on.
  absl::StatusOr<int> Tick();

  // Ticks every `period` on a background thread until Stop().
  void Start(absl::Duration period);
  void Stop();
  int64_t actions() const { return actions_.load(); }

 private:
  readstore::ReadStore* index_;
  CustomerCommandHandler* commands_;
  std::atomic<int64_t> actions_{0};
  runtime::Periodic periodic_{"drop scheduler"};
};

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_DROP_PROTECTION_H_
