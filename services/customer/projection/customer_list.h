#ifndef CRM_SERVICES_CUSTOMER_PROJECTION_CUSTOMER_LIST_H_
#define CRM_SERVICES_CUSTOMER_PROJECTION_CUSTOMER_LIST_H_

// CustomerList: every customer of a tenant as a crm.customer.v1.Customer row,
// plus a pool index to list the public pool or one rep's private pool, the
// sales facts tiering ranks, and the saved segments; fed from the service's
// own log.
// Rows: `<tenant>\0customer\0<id>` -> Customer;
//       `<tenant>\0pool\0<owner, empty for public>\0<id>` -> "";
//       `<tenant>\0sales\0<id>` -> "<year>=<amount>\n..." for customers
//       with sales facts; `<tenant>\0count` -> number of customers;
//       `<tenant>\0sales-at` -> log position of the last sales fact applied;
//       `<tenant>\0segment\0<id>` -> events.v1.SegmentSaved.

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "crm/customer/v1/customer_service.pb.h"
#include "libs/readstore/page.h"
#include "libs/readstore/projection_runner.h"
#include "services/customer/domain/tiering.h"

namespace crm::customer {

class CustomerListProjection : public readstore::Projection {
 public:
  std::string name() const override { return "customer_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

using CustomerPage = readstore::Page<crm::customer::v1::Customer>;

// Up to `page_size` customers after `after_id`: all of the tenant's when
// `owner` is nullopt, else those in `owner`'s private pool ("" = public pool).
absl::StatusOr<CustomerPage> ListCustomers(readstore::ReadStore* store, const std::string& tenant,
                                           std::optional<std::string> owner, int page_size,
                                           const std::string& after_id);

// Calls `fn(tenant, rep)` for every rep who ever owned a customer.
absl::Status ForEachRep(readstore::ReadStore* store,
                        const std::function<void(const std::string&, const std::string&)>& fn);

struct PoolQuality {
  int32_t customers = 0;
  int32_t average_completeness = 0;
};
// The size and average completeness of `rep`'s private pool.
absl::StatusOr<PoolQuality> MeasurePool(readstore::ReadStore* store, const std::string& tenant,
                                        const std::string& rep);

// Every tier that is not C, from the tenant's sales facts, kept per tenant:
// the sales rows are read again only when a sales fact was applied since,
// and the tiers worked out again when that or the tenant's customer count
// moved (the top fifth is of all its customers). Every customer a command
// answers with, every page listed, every segment and every rep's moments of
// truth carry tiers; reading every sales row of the tenant for each was a
// whole-tenant read per call. Thread-safe: each tenant is worked out under
// its own lock, so a large tenant's re-read does not hold up another's
// calls; the `max_tenants` asked for most recently are kept.
class TierCache {
 public:
  using Tiers = std::map<std::string, ev::Tier>;
  static constexpr size_t kMaxTenants = 256;
  explicit TierCache(readstore::ReadStore* store, size_t max_tenants = kMaxTenants)
      : store_(store), max_tenants_(std::max<size_t>(max_tenants, 1)) {}
  absl::StatusOr<std::shared_ptr<const Tiers>> Get(const std::string& tenant);
  size_t tenants_kept();

 private:
  struct Kept {
    std::mutex mu;
    bool loaded = false;
    std::string sales_at;  // the sales facts' position `histories` were read at
    std::vector<SalesHistory> histories;
    int64_t count = -1;  // the customer count `tiers` were worked out for
    std::shared_ptr<const Tiers> tiers;
    uint64_t used = 0;  // when last asked for; under the cache's mu_
  };
  readstore::ReadStore* store_;
  const size_t max_tenants_;
  std::mutex mu_;  // tenants_ and each Kept's `used`
  uint64_t asked_ = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<Kept>> tenants_;
};

// Sets the computed fields of a customer row: tier (from `tiers`) and score.
void Decorate(const std::map<std::string, ev::Tier>& tiers, absl::Time now,
              crm::customer::v1::Customer* c);

// Where a customer's moments of truth pushed by other services live
// (`<tenant>\0mot\0<customer>\0<rule>\0<item>` -> v1::Reminder), e.g. a
// payment overdue or a contract up for renewal, from the contract topic.
std::string PushedMotPrefix(const std::string& tenant, const std::string& customer);
std::string PushedMotKey(const std::string& tenant, const std::string& customer,
                         const std::string& rule, const std::string& item);

// `rep`'s moments of truth due at `now` (A-tier customers without a valid
// follow-up for `gap`, and the pushed ones of their customers), soonest due
// first.
absl::StatusOr<std::vector<crm::customer::v1::Reminder>> ListMotReminders(
    readstore::ReadStore* store, const std::string& tenant, const TierCache::Tiers& tiers,
    const std::string& rep, absl::Duration gap, absl::Time now);

absl::StatusOr<std::vector<ev::SegmentSaved>> ListSegments(readstore::ReadStore* store,
                                                           const std::string& tenant);

// Up to `page_size` customers after `after_id` matching `rule` now, among
// those `viewer` sees in full (theirs and the public pool's; an empty viewer
// sees every customer), decorated with the tenant's `tiers`.
absl::StatusOr<CustomerPage> ListSegmentMembers(readstore::ReadStore* store,
                                                const std::string& tenant,
                                                const TierCache::Tiers& tiers,
                                                const ev::SegmentRule& rule,
                                                const std::string& viewer, absl::Time now,
                                                int page_size, const std::string& after_id);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_PROJECTION_CUSTOMER_LIST_H_
