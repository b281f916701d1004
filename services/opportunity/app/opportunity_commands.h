#ifndef CRM_SERVICES_OPPORTUNITY_APP_OPPORTUNITY_COMMANDS_H_
#define CRM_SERVICES_OPPORTUNITY_APP_OPPORTUNITY_COMMANDS_H_

// Command handlers of the opportunity service: load, decide, append with
// the version decided on, and decide again when another command moved the
// stream first. Every command is idempotent on its request id. The tenant's
// price book and settings live in one `catalog` stream. Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "services/opportunity/domain/opportunity.h"

namespace crm::opportunity {

inline constexpr char kCatalogStreamId[] = "catalog";

// The tenant's price book and settings as the catalog stream leaves them.
struct Catalog {
  int64_t version = 0;
  std::map<std::string, ev::ProductSaved> products;
  ev::OpportunitySettings settings;
};

class OpportunityCommandHandler {
 public:
  OpportunityCommandHandler(eventstore::EventStore* store, Clock* clock)
      : store_(store), clock_(clock) {}

  // What the customer topic says about a customer.
  using CustomerFactsLookup = std::function<absl::StatusOr<CustomerFacts>(
      const std::string& tenant, const std::string& customer_id)>;
  // Creates the contract for a won opportunity and returns its id; must be
  // idempotent on `request_id`.
  using ContractCreator = std::function<absl::StatusOr<std::string>(
      const std::string& tenant, const std::string& user, const std::string& request_id,
      const Opportunity& o)>;
  void SetCustomerFacts(CustomerFactsLookup f) { customer_facts_ = std::move(f); }
  void SetContractCreator(ContractCreator c) { contract_creator_ = std::move(c); }

  // cmd.opportunity_id, cmd.now and cmd.lines (priced from `lines`) are set
  // here; `role` bounds the discounts.
  absl::StatusOr<Opportunity> Create(const std::string& tenant, const std::string& request_id,
                                     Create cmd, const std::vector<LineInput>& lines, Role role);
  absl::StatusOr<Opportunity> Get(const std::string& tenant, const std::string& id);

  absl::StatusOr<Opportunity> SetLines(const std::string& tenant, const std::string& request_id,
                                       const std::string& id, const std::vector<LineInput>& lines,
                                       const std::string& user, Role role);
  absl::StatusOr<Opportunity> RecordNeed(const std::string& tenant, const std::string& request_id,
                                         const std::string& id, const std::string& need,
                                         const std::string& user);
  absl::StatusOr<Opportunity> SendQuote(const std::string& tenant, const std::string& request_id,
                                        const std::string& id, const std::string& user);
  absl::StatusOr<Opportunity> UpdateForecast(const std::string& tenant,
                                             const std::string& request_id, const std::string& id,
                                             absl::Time expected_close,
                                             ev::ForecastCategory category,
                                             const std::string& user);
  absl::StatusOr<Opportunity> Advance(const std::string& tenant, const std::string& request_id,
                                      const std::string& id, const std::string& stage_id,
                                      const std::string& user);
  absl::StatusOr<Opportunity> RequestCloseLost(const std::string& tenant,
                                               const std::string& request_id, const std::string& id,
                                               ev::LossReason reason, const std::string& note,
                                               const std::string& user);
  absl::StatusOr<Opportunity> DecideCloseLost(const std::string& tenant,
                                              const std::string& request_id, const std::string& id,
                                              bool approve, const std::string& comment,
                                              bool manager, const std::string& user);
  // Asks the ContractCreator for the contract with request id
  // `opportunity-won:<id>`, then records the win: a retry, or a second
  // close of a won deal, creates nothing and returns the opportunity.
  absl::StatusOr<Opportunity> CloseWon(const std::string& tenant, const std::string& request_id,
                                       const std::string& id, const std::string& user);

  absl::StatusOr<Catalog> GetCatalog(const std::string& tenant);
  absl::StatusOr<Settings> SettingsFor(const std::string& tenant);
  // product.save_time and product.by are set here.
  absl::StatusOr<ev::ProductSaved> SaveProduct(const std::string& tenant,
                                               const std::string& request_id,
                                               ev::ProductSaved product, const std::string& user);
  absl::StatusOr<ev::OpportunitySettings> UpdateSettings(const std::string& tenant,
                                                         const std::string& request_id,
                                                         const ev::OpportunitySettings& settings,
                                                         const std::string& user);

 private:
  using DecideFn = std::function<absl::StatusOr<std::vector<OpportunityEvent>>(const Opportunity&)>;
  absl::Status Execute(const std::string& tenant, const std::string& request_id,
                       const std::string& id, const DecideFn& decide);
  absl::StatusOr<Opportunity> Load(const std::string& tenant, const std::string& id);
  absl::StatusOr<CustomerFacts> FactsOf(const std::string& tenant, const std::string& customer_id);
  absl::Status AppendCatalog(
      const std::string& tenant, const std::string& request_id,
      const std::function<absl::StatusOr<ev::CatalogEvent>(const Catalog&)>& decide);

  eventstore::EventStore* store_;
  Clock* clock_;
  CustomerFactsLookup customer_facts_;
  ContractCreator contract_creator_;
  std::mutex catalog_mu_;
  std::map<std::string, Catalog> catalogs_;  // tenant -> last read
};

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_APP_OPPORTUNITY_COMMANDS_H_
