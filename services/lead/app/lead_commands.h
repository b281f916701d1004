#ifndef CRM_SERVICES_LEAD_APP_LEAD_COMMANDS_H_
#define CRM_SERVICES_LEAD_APP_LEAD_COMMANDS_H_

// Command handlers of the lead service: load the lead and the companions a
// decision touches (reps' loads, a team's round robin), decide, and append
// them atomically. When another command moved a stream first (ABORTED), the
// command is decided again on the fresh state: of two concurrent claims
// exactly one wins, and no rep is ever assigned over capacity. Every command
// is idempotent on its request id. Thread-safe.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/clock/clock.h"
#include "libs/eventstore/event_store.h"
#include "libs/pii/vault.h"
#include "services/lead/domain/lead.h"

namespace crm::lead {

class LeadCommandHandler {
 public:
  LeadCommandHandler(eventstore::EventStore* store, Clock* clock) : store_(store), clock_(clock) {}

  // Open leads sharing any of `keys` (kinds in LeadMatch.keys).
  using LeadMatcher = std::function<absl::StatusOr<std::vector<ev::LeadMatch>>(
      const std::string& tenant, const std::vector<std::string>& keys)>;
  // The existing customer sharing the most of `keys`, if any.
  using CustomerMatcher = std::function<absl::StatusOr<std::optional<CustomerMatch>>(
      const std::string& tenant, const std::vector<std::string>& keys)>;
  // Creates the customer `lead` converts into, owned by `user`, and returns
  // its id; must be idempotent on `request_id`.
  using CustomerCreator =
      std::function<absl::StatusOr<std::string>(const std::string& tenant, const std::string& user,
                                                const std::string& request_id, const Lead& lead)>;
  void SetLeadMatcher(LeadMatcher m) { lead_matcher_ = std::move(m); }
  void SetCustomerMatcher(CustomerMatcher m) { customer_matcher_ = std::move(m); }
  void SetCustomerCreator(CustomerCreator c) { customer_creator_ = std::move(c); }
  // Opens an opportunity named `name` for `customer_id`, owned by `user`,
  // and returns its id; must be idempotent on `request_id`.
  using OpportunityCreator = std::function<absl::StatusOr<std::string>(
      const std::string& tenant, const std::string& user, const std::string& request_id,
      const std::string& customer_id, const std::string& name)>;
  void SetOpportunityCreator(OpportunityCreator c) { opportunity_creator_ = std::move(c); }
  // Whether a rep's complete data earned them priority for channel leads
  // (from the customer topic); without it nobody has priority.
  using PriorityLookup =
      std::function<absl::StatusOr<bool>(const std::string& tenant, const std::string& rep)>;
  void SetPriorityLookup(PriorityLookup p) { priority_lookup_ = std::move(p); }
  // The key store sealing the leads' contacts; EraseContact needs it.
  void SetVault(pii::Vault* vault) { vault_ = vault; }

  // Creates a lead with a new id (cmd.lead_id and cmd.now are set here) from
  // a channel the tenant defined, or routes it to the owner of the customer
  // it matches. In assign mode the new lead is assigned at once when a rep
  // has room. A request id seen before returns what that request created.
  absl::StatusOr<Lead> Create(const std::string& tenant, const std::string& request_id,
                              CreateLead cmd);
  // The lead as its stream stands now; NOT_FOUND when there is none.
  absl::StatusOr<Lead> Get(const std::string& tenant, const std::string& lead_id);

  absl::StatusOr<Lead> Qualify(const std::string& tenant, const std::string& request_id,
                               const std::string& lead_id, const std::string& user,
                               const ev::Qualification& q);
  // cmd.engagement_id and cmd.now are set here.
  absl::StatusOr<Lead> Engage(const std::string& tenant, const std::string& request_id,
                              const std::string& lead_id, RecordEngagement cmd);
  absl::StatusOr<Lead> Claim(const std::string& tenant, const std::string& request_id,
                             const std::string& lead_id, const std::string& user);
  // Assigns a queued lead of an assign-mode channel by the tenant's (or the
  // channel's) team and strategy to the next rep with room other than
  // `exclude`; leaves it queued when nobody has room, no team is set, or the
  // lead's channel is in claim mode.
  absl::StatusOr<Lead> AssignNext(const std::string& tenant, const std::string& request_id,
                                  const std::string& lead_id, const std::string& by,
                                  const std::string& exclude = "");
  // The owner hands the lead back to the queue.
  absl::StatusOr<Lead> Return(const std::string& tenant, const std::string& request_id,
                              const std::string& lead_id, const std::string& user);
  // Returns the lead to the queue if its work deadline passed unworked, and
  // in assign mode hands it to the next rep. Safe to call any number of times.
  absl::StatusOr<Lead> ReturnIfUnworked(const std::string& tenant, const std::string& lead_id);
  // cmd.follow_up_id and cmd.now are set here.
  absl::StatusOr<Lead> FollowUp(const std::string& tenant, const std::string& request_id,
                                const std::string& lead_id, lead::FollowUp cmd);
  // Deletes the key of the lead's contact, then records LeadContactErased. A
  // retry finishes what a failed attempt began.
  absl::StatusOr<Lead> EraseContact(const std::string& tenant, const std::string& request_id,
                                    const std::string& lead_id, const std::string& user);
  absl::StatusOr<Lead> Disqualify(const std::string& tenant, const std::string& request_id,
                                  const std::string& lead_id, ev::DisqualifyReason reason,
                                  const std::string& note, const std::string& user);
  // Creates the customer through the CustomerCreator with a request id
  // derived from the lead, and with `opportunity` (its name; "" for the
  // company's) an opportunity through the OpportunityCreator likewise, then
  // records LeadConverted: a retry, or a second conversion of a converted
  // lead, creates nothing and returns the lead.
  absl::StatusOr<Lead> Convert(const std::string& tenant, const std::string& request_id,
                               const std::string& lead_id, const std::string& user,
                               const std::optional<std::string>& opportunity = std::nullopt);
  // Merges `merged_id` into `survivor_id`; returns the survivor.
  absl::StatusOr<Lead> Merge(const std::string& tenant, const std::string& request_id,
                             const std::string& survivor_id, const std::string& merged_id,
                             const std::string& user);

  // Defines a channel (`create`: ALREADY_EXISTS when it exists) or changes
  // one (NOT_FOUND when it does not). channel.save_time is set here.
  absl::StatusOr<ev::ChannelSaved> SaveChannel(const std::string& tenant,
                                               const std::string& request_id,
                                               ev::ChannelSaved channel, bool create);
  absl::StatusOr<std::optional<ev::ChannelSaved>> GetChannel(const std::string& tenant,
                                                             const std::string& channel_id);

  // The tenant's settings as stored (zero values: defaults), and as rules.
  absl::StatusOr<ev::LeadSettings> Settings(const std::string& tenant);
  absl::StatusOr<LeadPolicy> PolicyFor(const std::string& tenant);
  // Changes the settings named by `mask` (all when empty); returns them.
  absl::StatusOr<ev::LeadSettings> UpdateSettings(const std::string& tenant,
                                                  const std::string& request_id,
                                                  const ev::LeadSettings& update,
                                                  const std::vector<std::string>& mask,
                                                  const std::string& user);
  absl::StatusOr<RepLoad> GetRepLoad(const std::string& tenant, const std::string& rep);

  Clock* clock() const { return clock_; }

 private:
  // What a decision was made on, for the appends' expected versions.
  struct Loaded {
    std::map<std::string, RepLoad> reps;
    std::string team_id;
    TeamTurns turns;
  };
  using DecideFn = std::function<absl::StatusOr<Decision>(const Lead&, Loaded&)>;
  // Load, decide, append, retrying on ABORTED. OK when appended, when there
  // was nothing to do, and when the request id was seen before.
  absl::Status Execute(const std::string& tenant, const std::string& request_id,
                       const std::string& lead_id, const DecideFn& decide);
  absl::StatusOr<Lead> Load(const std::string& tenant, const std::string& lead_id);
  absl::StatusOr<TeamTurns> LoadTeam(const std::string& tenant, const std::string& team_id);
  // The assign mode and team id for a lead of `channel_id`.
  absl::StatusOr<std::pair<ev::AssignMode, std::string>> RoutingFor(const std::string& tenant,
                                                                    const LeadPolicy& policy,
                                                                    const std::string& channel_id);

  eventstore::EventStore* store_;
  Clock* clock_;
  LeadMatcher lead_matcher_;
  CustomerMatcher customer_matcher_;
  CustomerCreator customer_creator_;
  OpportunityCreator opportunity_creator_;
  PriorityLookup priority_lookup_;
  pii::Vault* vault_ = nullptr;
  std::mutex settings_mu_;
  std::map<std::string, std::pair<int64_t, ev::LeadSettings>> settings_;  // tenant -> version
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_APP_LEAD_COMMANDS_H_
