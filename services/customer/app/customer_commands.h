#ifndef CRM_SERVICES_CUSTOMER_APP_CUSTOMER_COMMANDS_H_
#define CRM_SERVICES_CUSTOMER_APP_CUSTOMER_COMMANDS_H_

// Command handlers of the customer service: load the customer and the rep
// pool a decision touches, decide, and append both streams atomically. When
// another command moved either stream first (ABORTED), the command is decided
// again on the fresh state, so of two concurrent claims exactly one wins and
// the other gets the rule that now refuses it. Every command is idempotent on
// its request id. Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "libs/pii/vault.h"
#include "services/customer/app/kept_states.h"
#include "services/customer/domain/conflict.h"
#include "services/customer/domain/customer.h"
#include "services/customer/domain/policy.h"
#include "services/customer/domain/tiering.h"

namespace crm::customer {

class CustomerCommandHandler {
 public:
  // `defaults`: the rules of tenants that never set their own.
  CustomerCommandHandler(eventstore::EventStore* store, Clock* clock, Policy defaults)
      : store_(store), clock_(clock), defaults_(std::move(defaults)) {}

  // Finds customers sharing any of the match keys, other than `exclude`
  // (owners unset); see FindMatches. Without one, nothing is detected.
  using MatchLookup = std::function<absl::StatusOr<std::vector<ev::ConflictMatch>>(
      const std::string& tenant, const std::vector<std::string>& keys, const std::string& exclude)>;
  void SetMatchLookup(MatchLookup lookup) { match_lookup_ = std::move(lookup); }
  // The key store sealing contacts' personal data; EraseContact needs it.
  void SetVault(pii::Vault* vault) { vault_ = vault; }

  // cmd.customer_id, cmd.now and cmd.matches are set here.
  absl::StatusOr<Customer> Create(const std::string& tenant, const std::string& request_id,
                                  CreateCustomer cmd);
  // `etag`, when not empty, must equal the customer's version (ABORTED).
  absl::StatusOr<Customer> Update(const std::string& tenant, const std::string& request_id,
                                  const std::string& customer_id, const std::string& etag,
                                  UpdateProfile cmd);
  // Deletes the contact's key, then records ContactErased. A retry finishes
  // what a failed attempt began; an erased contact is left as it is.
  absl::StatusOr<Customer> EraseContact(const std::string& tenant, const std::string& request_id,
                                        const std::string& customer_id, customer::EraseContact cmd);
  absl::StatusOr<Customer> Claim(const std::string& tenant, const std::string& request_id,
                                 const std::string& customer_id, const std::string& user);
  absl::StatusOr<Customer> Reserve(const std::string& tenant, const std::string& request_id,
                                   const std::string& customer_id, const std::string& user);
  absl::StatusOr<Customer> CancelReservation(const std::string& tenant,
                                             const std::string& request_id,
                                             const std::string& customer_id,
                                             const std::string& user);
  absl::StatusOr<Customer> Release(const std::string& tenant, const std::string& request_id,
                                   const std::string& customer_id, const std::string& user,
                                   const std::string& note);
  // Returns the recorded touch (the same one for a retried request id).
  absl::StatusOr<ev::TouchRecorded> RecordTouch(const std::string& tenant,
                                                const std::string& request_id,
                                                const std::string& customer_id,
                                                customer::RecordTouch cmd);
  // Files `user`'s conflict claim on `customer_id` with their own record
  // `claimant_customer_id`, judges it and moves the loser's record to the
  // winner, all in one append. Returns the verdict (the first one for a
  // retried request id).
  absl::StatusOr<ev::ConflictJudged> FileConflict(const std::string& tenant,
                                                  const std::string& request_id,
                                                  const std::string& customer_id,
                                                  const std::string& claimant_customer_id,
                                                  const std::string& user, const std::string& note);
  absl::StatusOr<ev::ConflictJudged> GetConflict(const std::string& tenant,
                                                 const std::string& conflict_id);
  // Notes a contract signed with the customer (from the contract topic).
  // Idempotent on the contract id.
  absl::StatusOr<Customer> NoteContract(const std::string& tenant, const std::string& customer_id,
                                        customer::NoteContract cmd);
  // Notes an opportunity's progress (from the opportunity topic) under
  // `request_id` (derived from the topic event). Idempotent.
  absl::StatusOr<Customer> NoteOpportunity(const std::string& tenant, const std::string& request_id,
                                           const std::string& customer_id,
                                           customer::NoteOpportunity cmd);
  // cmd.engagement_id and cmd.now are set here.
  absl::StatusOr<Customer> RecordEngagement(const std::string& tenant,
                                            const std::string& request_id,
                                            const std::string& customer_id,
                                            customer::RecordEngagement cmd);
  absl::StatusOr<Customer> RecordSales(const std::string& tenant, const std::string& request_id,
                                       const std::string& customer_id, customer::RecordSales cmd);
  // cmd.segment_id and cmd.now are set here.
  absl::StatusOr<ev::SegmentSaved> SaveSegment(const std::string& tenant,
                                               const std::string& request_id,
                                               customer::SaveSegment cmd);
  absl::StatusOr<ev::SegmentSaved> GetSegment(const std::string& tenant,
                                              const std::string& segment_id);
  // Reviews `rep`'s data quality (their `customers` private customers
  // average `average_completeness`) unless reviewed within the period:
  // lead priority, and a capacity penalty when low. Safe to repeat.
  absl::StatusOr<RepPool> ReviewStanding(const std::string& tenant, const std::string& rep,
                                         int32_t customers, int32_t average_completeness);
  absl::StatusOr<RepPool> SetCapacity(const std::string& tenant, const std::string& request_id,
                                      const std::string& rep, SetCapacity cmd);
  // Applies drop protection to one customer at the clock's now: warns or
  // releases when due, else does nothing. Safe to call any number of times.
  absl::StatusOr<Customer> EnforceDropProtection(const std::string& tenant,
                                                 const std::string& customer_id);

  // The customer as its stream stands (version 0 when it does not exist):
  // the state last loaded, kept for up to 4,096 customers, with
  // the events appended since. Every command reads its customer, whose
  // stream grows with every touch; replaying it whole was half a command's
  // CPU. The kept states are dropped when a person's key is erased, so no
  // opened copy of their data outlives it here.
  absl::StatusOr<Customer> Current(const std::string& tenant, const std::string& customer_id);

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

  // The tenant's rules: its own settings, else the defaults.
  absl::StatusOr<Policy> PolicyFor(const std::string& tenant);
  // Changes the tenant's rules (field mask over PolicySettings); returns them.
  absl::StatusOr<Policy> UpdatePolicy(const std::string& tenant, const std::string& request_id,
                                      customer::UpdatePolicy cmd);
  Clock* clock() const { return clock_; }

 private:
  using DecideFn = std::function<absl::StatusOr<Decision>(const Customer&, const RepPool&)>;
  // Load, decide, append, retrying on ABORTED. `pool_of` names the rep whose
  // pool the decision may change ("" for none). `appended`, when given, says
  // whether this call appended `decide`'s last decision (false: the request
  // id had been used, or nothing was to be appended).
  //
  // The first attempt decides on the customer and the pool as kept, without
  // reading their streams: the append's expected versions check them, a
  // stale one fails it with ABORTED, and the next attempt reads them up to
  // their heads. A refusal, or a decision to append nothing, stands only on
  // states so read. What was appended is kept as the new states. A retried
  // request is found by the append itself, under the store's lock.
  absl::Status Execute(const std::string& tenant, const std::string& request_id,
                       const std::string& customer_id,
                       const std::function<std::string(const Customer&)>& pool_of,
                       const DecideFn& decide, bool* appended = nullptr);

  // The rep's pool as its stream stands: the state last loaded (kept for
  // up to 4,096 reps) with the events appended since. A pool's
  // stream grows with every customer claimed and released, and most
  // commands read one.
  absl::StatusOr<RepPool> Pool(const std::string& tenant, const std::string& rep);

  // The customer (the rep's pool) as kept, unread, when it is kept and
  // `read` is false; else as its stream stands.
  absl::StatusOr<LoadedState<Customer>> LoadCustomerState(const std::string& tenant,
                                                          const std::string& customer_id,
                                                          bool read);
  absl::StatusOr<LoadedState<RepPool>> LoadPoolState(const std::string& tenant,
                                                     const std::string& rep, bool read);

  // Customers matching `profile` other than `exclude`, with their owners.
  absl::StatusOr<std::vector<ev::ConflictMatch>> DetectMatches(const std::string& tenant,
                                                               const Profile& profile,
                                                               const std::string& exclude);

  eventstore::EventStore* store_;
  Clock* clock_;
  Policy defaults_;
  std::mutex policies_mu_;
  std::map<std::string, std::pair<int64_t, Policy>> policies_;  // tenant -> version, rules
  MatchLookup match_lookup_;
  pii::Vault* vault_ = nullptr;
  KeptStates<RepPool> pools_{4096};       // tenant '\0' rep
  KeptStates<Customer> customers_{4096};  // tenant '\0' customer
};

// The customer as its stream stands (version 0 when it does not exist), or
// as it stood at `as_of`: only events appended at or before it count.
absl::StatusOr<Customer> LoadCustomer(eventstore::EventStore* store, const std::string& tenant,
                                      const std::string& customer_id,
                                      absl::Time as_of = absl::InfiniteFuture());
// `from` (a customer at from.version) with the events of its stream after
// that version, up to `as_of`.
absl::StatusOr<Customer> ReplayCustomer(eventstore::EventStore* store, const std::string& tenant,
                                        Customer from, absl::Time as_of = absl::InfiniteFuture());
// Every event of the customer's stream, oldest first.
absl::StatusOr<std::vector<CustomerEvent>> LoadEvents(eventstore::EventStore* store,
                                                      const std::string& tenant,
                                                      const std::string& customer_id);
// The rep's pool as its stream stands, replayed onto `from` (the pool at
// from.version) when given.
absl::StatusOr<RepPool> LoadPool(eventstore::EventStore* store, const std::string& tenant,
                                 const std::string& rep, RepPool from = {});

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_CUSTOMER_COMMANDS_H_
