#ifndef CRM_SERVICES_CUSTOMER_DOMAIN_CUSTOMER_H_
#define CRM_SERVICES_CUSTOMER_DOMAIN_CUSTOMER_H_

// The customer and rep-pool aggregates: pure decisions and state changes.
// A decision that moves a customer between pools yields events for both the
// customer and the rep's pool; the app layer appends them atomically.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/customer/events/v1/customer_events.pb.h"

namespace crm::customer {

namespace ev = crm::customer::events::v1;
using CustomerEvent = ev::CustomerEvent;
using RepPoolEvent = ev::RepPoolEvent;
using Profile = ev::Profile;

// Error reasons (google.rpc.ErrorInfo) of rule refusals.
inline constexpr char kPoolFull[] = "CUSTOMER_POOL_FULL";
inline constexpr char kNotInPublicPool[] = "CUSTOMER_NOT_IN_PUBLIC_POOL";
inline constexpr char kCoolDown[] = "CUSTOMER_COOL_DOWN";
inline constexpr char kNotOwner[] = "NOT_CUSTOMER_OWNER";

// A tenant's rules. The defaults are the ones DOMAIN.md ships.
struct Policy {
  int32_t default_capacity = 50;
  // The rep who released a customer may not claim it back for this long.
  absl::Duration cool_down = absl::Hours(24 * 7);
  // Drop protection windows: no valid follow-up / no signed contract.
  absl::Duration smb_no_follow_up = absl::Hours(24 * 30);
  absl::Duration smb_no_contract = absl::Hours(24 * 90);
  absl::Duration ka_no_follow_up = absl::Hours(24 * 90);
  absl::Duration ka_no_contract = absl::Hours(24 * 180);
  // The owner is warned this long before drop protection releases.
  absl::Duration warn_before = absl::Hours(24 * 3);
  // A valid follow-up: a meeting, or a touch whose note has at least this many
  // characters and is not a banned phrase.
  size_t min_note_chars = 20;
  std::vector<std::string> banned_phrases = {"keep following", "no intention"};
  // Profile fields that must be filled (refused when empty) ...
  std::vector<std::string> mandatory_fields = {"company_name"};
  // ... and those that score completeness. "key_person": a contact flagged
  // as KP; "contact_reach": a contact with a phone or email.
  std::vector<std::string> scored_fields = {"legal_entity_id", "industry",      "region",
                                            "size",            "annual_revenue", "key_person",
                                            "contact_reach"};
};

struct Customer {
  std::string id;
  int64_t version = 0;
  Profile profile;
  int32_t completeness = 0;
  std::string owner;  // empty: public pool
  absl::Time create_time = absl::InfinitePast();
  absl::Time claim_time = absl::InfinitePast();
  absl::Time last_valid_touch = absl::InfinitePast();
  std::string released_by;
  absl::Time released_at = absl::InfinitePast();
  // The drop deadline a warning was last issued for.
  absl::Time warned_for = absl::InfinitePast();
  bool exists() const { return version > 0; }
  bool is_private() const { return !owner.empty(); }
};

struct RepPool {
  std::string rep;
  int64_t version = 0;
  std::set<std::string> customers;
  std::optional<int32_t> capacity;  // unset: the policy default
  int32_t Capacity(const Policy& p) const { return capacity.value_or(p.default_capacity); }
};

// Events for the customer and for one rep's pool, to append together.
struct Decision {
  std::vector<CustomerEvent> customer;
  std::vector<RepPoolEvent> pool;
};

// Stream id of a rep's pool aggregate.
std::string PoolStreamId(const std::string& rep);

struct CreateCustomer {
  std::string customer_id;
  Profile profile;
  std::string user;
  bool into_public_pool = false;
  absl::Time now;
};
// `pool` is the creating user's pool (ignored for the public pool).
// INVALID_ARGUMENT names every bad field (`customer.<field>`);
// FAILED_PRECONDITION CUSTOMER_POOL_FULL at capacity.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const CreateCustomer& cmd,
                                const Policy& policy);

struct UpdateProfile {
  Profile profile;               // new values for the paths
  std::vector<std::string> paths;  // field mask
  std::string user;
  absl::Time now;
};
absl::StatusOr<Decision> Decide(const Customer& c, const UpdateProfile& cmd, const Policy& policy);

struct Claim {
  std::string user;
  absl::Time now;
};
// `pool` is the claiming user's.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Claim& cmd,
                                const Policy& policy);

struct Release {
  std::string user;
  std::string note;
  absl::Time now;
};
// `pool` is the owner's.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Release& cmd);

struct RecordTouch {
  std::string touch_id;
  ev::TouchChannel channel = ev::TOUCH_CHANNEL_UNSPECIFIED;
  std::string outcome, note, next_step;
  std::string user;
  absl::Time now;
};
absl::StatusOr<Decision> Decide(const Customer& c, const RecordTouch& cmd, const Policy& policy);

struct SetCapacity {
  int32_t capacity = 0;
  std::string reason;
  std::string user;
};
absl::StatusOr<std::vector<RepPoolEvent>> Decide(const RepPool& pool, const SetCapacity& cmd);

// Drop protection at `now`: a release once the deadline has passed (strictly
// after it), a warning to the owner within `warn_before` of it (once per
// deadline), else nothing. `pool` is the owner's.
Decision EnforceDropProtection(const Customer& c, const RepPool& pool, absl::Time now,
                               const Policy& policy);

struct DropDeadline {
  absl::Time at;
  ev::ReleaseReason reason;
};
// When drop protection releases `c` if nothing changes; nullopt when public.
std::optional<DropDeadline> NextDropDeadline(const Customer& c, const Policy& policy);
// When EnforceDropProtection next has something to do; nullopt when never.
std::optional<absl::Time> NextDropCheck(const Customer& c, const Policy& policy);

// Whether a touch counts as a valid follow-up; the reason when it does not.
std::optional<std::string> InvalidFollowUpReason(ev::TouchChannel channel,
                                                 const std::string& note, const Policy& policy);

// 0-100: the share of the policy's scored fields `profile` fills.
int32_t Completeness(const Profile& profile, const Policy& policy);

// One event of a customer's history, for people: who acted, what happened,
// which profile fields it set.
struct HistoryLine {
  std::string actor;
  std::string summary;
  std::vector<std::string> changed_fields;
};
HistoryLine Describe(const CustomerEvent& event);

Customer Evolve(Customer c, const CustomerEvent& event);
RepPool Evolve(RepPool pool, const RepPoolEvent& event);

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_DOMAIN_CUSTOMER_H_
