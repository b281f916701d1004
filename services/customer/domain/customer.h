#ifndef CRM_SERVICES_CUSTOMER_DOMAIN_CUSTOMER_H_
#define CRM_SERVICES_CUSTOMER_DOMAIN_CUSTOMER_H_

// The customer and rep-pool aggregates: pure decisions and state changes.
// A decision that moves a customer between pools yields events for both the
// customer and the rep's pool; the app layer appends them atomically.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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
inline constexpr char kNotDisputable[] = "CUSTOMER_NOT_DISPUTABLE";
inline constexpr char kConflictNoMatch[] = "CONFLICT_NO_MATCH";
inline constexpr char kReserved[] = "CUSTOMER_RESERVED";
inline constexpr char kReservationLimit[] = "RESERVATION_LIMIT";

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
  // Where drop protection sends a customer: the public pool (open race), or
  // back to the rep who owned it before the current owner when that rep has
  // room (else the public pool).
  bool drop_back_to_previous_owner = false;
  // The owner is warned this long before drop protection releases.
  absl::Duration warn_before = absl::Hours(24 * 3);
  // MOT: an A-tier customer's owner is reminded after this long without a
  // valid follow-up.
  absl::Duration a_tier_follow_up_gap = absl::Hours(24 * 14);
  // A valid follow-up: a meeting, or a touch whose note has at least this many
  // characters and is not a banned phrase.
  size_t min_note_chars = 20;
  std::vector<std::string> banned_phrases = {"keep following", "no intention"};
  // A rep may reserve this many times their capacity from the public pool,
  // and must raise a reservation's completeness to the target (and above
  // where it started) within the window or lose it.
  int32_t reservation_multiple = 5;
  absl::Duration reservation_window = absl::Hours(24 * 30);
  int32_t reservation_completeness_target = 80;
  // Penalties and rewards: every `losses_for_penalty`-th conflict lost within
  // `loss_window`, and a review (every `review_period`, pools of at least
  // `review_min_customers`) finding average completeness below
  // `low_completeness`, cut capacity by `penalty_percent` (at least one
  // customer, never below 1). An average of at least `high_completeness`
  // earns priority for channel leads until the next review.
  int32_t losses_for_penalty = 3;
  absl::Duration loss_window = absl::Hours(24 * 90);
  absl::Duration review_period = absl::Hours(24 * 30);
  int32_t review_min_customers = 5;
  int32_t low_completeness = 50;
  int32_t high_completeness = 80;
  int32_t penalty_percent = 10;
  // MOT "engagement spike": this many engagements within the window.
  int32_t engagement_spike_count = 3;
  absl::Duration engagement_spike_window = absl::Hours(24);
  // Profile fields that must be filled (refused when empty) ...
  std::vector<std::string> mandatory_fields = {"company_name"};
  // ... and those that score completeness. "key_person": a contact flagged
  // as KP; "contact_reach": a contact with a phone or email.
  std::vector<std::string> scored_fields = {"legal_entity_id", "industry",   "region",       "size",
                                            "annual_revenue",  "key_person", "contact_reach"};
};

// The UTC calendar year a contract signed at `t` counts toward.
int32_t SalesYear(const google::protobuf::Timestamp& t);

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
  // Who owned it before the current owner; empty when nobody did.
  std::string previous_owner;
  // Every change of owner: from when, and who ("" the public pool).
  std::vector<std::pair<absl::Time, std::string>> ownership;
  absl::Time released_at = absl::InfinitePast();
  // The drop deadline a warning was last issued for.
  absl::Time warned_for = absl::InfinitePast();
  // When a contract was last signed with the customer; none: InfinitePast.
  absl::Time last_contract = absl::InfinitePast();
  std::set<std::string> contracts;
  // Contacts erased (ContactErased recorded), by contact id.
  std::set<std::string> erased_contacts;
  // Opportunities with the company: owner and current win probability.
  struct OpportunityProgress {
    std::string rep;
    int32_t probability = 0;
  };
  std::map<std::string, OpportunityProgress> opportunities;
  // The active reservation of a public customer; empty reserved_by: none.
  std::string reserved_by;
  absl::Time reserved_until = absl::InfiniteFuture();
  int32_t reserved_at_completeness = 0;
  bool reservation_secured = false;
  // Sales to the tenant per year: the facts tiering ranks.
  std::map<int32_t, int64_t> annual_sales;
  std::map<int32_t, int64_t> contract_sales;  // signed contracts' amounts per UTC year
  std::vector<absl::Time> engagements;        // when each happened, the latest 100
  absl::Time last_engagement_spike = absl::InfinitePast();
  // Other customers matching this one when it was last created or claimed.
  std::vector<ev::ConflictMatch> matches;
  bool exists() const { return version > 0; }
  bool is_private() const { return !owner.empty(); }
  // Who owned it at `t`: "" before it existed and in the public pool.
  std::string OwnerAt(absl::Time t) const;
};

struct RepPool {
  std::string rep;
  int64_t version = 0;
  std::set<std::string> customers;
  std::set<std::string> reservations;
  std::optional<int32_t> capacity;  // unset: the policy default
  std::vector<absl::Time> conflicts_lost;
  absl::Time last_review = absl::InfinitePast();
  bool lead_priority = false;
  int32_t Capacity(const Policy& p) const { return capacity.value_or(p.default_capacity); }
  int32_t ReservationLimit(const Policy& p) const { return Capacity(p) * p.reservation_multiple; }
};

// Events for the customer and for one rep's pool, to append together.
struct Decision {
  std::vector<CustomerEvent> customer;
  std::vector<RepPoolEvent> pool;
  // A second rep's pool the decision changes too (a hand-back), at the
  // version it was decided on.
  std::string other_rep;
  int64_t other_pool_version = 0;
  std::vector<RepPoolEvent> other_pool;
};

// Stream id of a rep's pool aggregate.
std::string PoolStreamId(const std::string& rep);
// Whether a stream of the service's log is a customer's (not a pool's, a
// conflict's or a segment's).
bool IsCustomerStream(absl::string_view stream_id);

// What identifies the company behind a profile, as "<kind>:<value>" with
// kind company_name, legal_entity_id, key_person_phone or key_person_email,
// values normalised (so raw and cleaned profiles give the same keys).
std::vector<std::string> MatchKeys(const Profile& profile);

struct CreateCustomer {
  std::string customer_id;
  Profile profile;
  std::string user;
  bool into_public_pool = false;
  absl::Time now;
  // Existing customers it matches; recorded as ConflictDetected.
  std::vector<ev::ConflictMatch> matches;
  // Keep the contacts' given person ids (a lead's conversion, so erasing the
  // person covers the lead too); otherwise every contact gets a new one.
  bool keep_person_ids = false;
};
// `pool` is the creating user's pool (ignored for the public pool).
// INVALID_ARGUMENT names every bad field (`customer.<field>`);
// FAILED_PRECONDITION CUSTOMER_POOL_FULL at capacity.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const CreateCustomer& cmd,
                                const Policy& policy);

// Erases a contact: the event records it; the caller deletes the person's key
// first. Nothing to decide when it was erased before.
struct EraseContact {
  std::string contact_id;
  std::string user;
  absl::Time now;
};
// NOT_FOUND for an unknown customer or contact.
absl::StatusOr<Decision> Decide(const Customer& c, const EraseContact& cmd);
// The person whose key seals the contact's personal fields; NOT_FOUND when
// the customer has no such contact.
absl::StatusOr<std::string> PersonOf(const Customer& c, const std::string& contact_id);

struct UpdateProfile {
  Profile profile;                 // new values for the paths
  std::vector<std::string> paths;  // field mask
  std::string user;
  absl::Time now;
};
absl::StatusOr<Decision> Decide(const Customer& c, const UpdateProfile& cmd, const Policy& policy);

struct Claim {
  std::string user;
  absl::Time now;
  std::vector<ev::ConflictMatch> matches;
};
// `pool` is the claiming user's.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Claim& cmd,
                                const Policy& policy);

struct Reserve {
  std::string user;
  absl::Time now;
};
// `pool` is the reserving user's. FAILED_PRECONDITION
// CUSTOMER_NOT_IN_PUBLIC_POOL, CUSTOMER_RESERVED (by another rep, or
// already by the user), RESERVATION_LIMIT.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Reserve& cmd,
                                const Policy& policy);

struct CancelReservation {
  std::string user;
  absl::Time now;
};
// The reserver gives a reservation up; `pool` is theirs. FAILED_PRECONDITION
// NOT_CUSTOMER_OWNER when the user holds no reservation on it.
absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool,
                                const CancelReservation& cmd);

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
  // Optional: one of the customer's contacts.
  std::string contact_id;
  std::string user;
  absl::Time now;
};
absl::StatusOr<Decision> Decide(const Customer& c, const RecordTouch& cmd, const Policy& policy);

struct RecordEngagement {
  std::string engagement_id;
  ev::EngagementKind kind = ev::ENGAGEMENT_KIND_UNSPECIFIED;
  std::string topic;
  int32_t seconds = 0;
  absl::Time occurred = absl::InfinitePast();  // InfinitePast: now
  std::string user;
  absl::Time now;
};
// Anyone of the tenant records it, on any customer. With it, the tenant's
// spike count of engagements within the window (none of them before the last
// spike) adds EngagementSpikeDetected.
absl::StatusOr<Decision> Decide(const Customer& c, const RecordEngagement& cmd,
                                const Policy& policy);

struct RecordSales {
  int32_t year = 0;
  int64_t amount = 0;
  std::string user;
  absl::Time now;
};
// The owner records (or corrects) a year's sales figure.
absl::StatusOr<Decision> Decide(const Customer& c, const RecordSales& cmd);

struct NoteOpportunity {
  std::string opportunity_id;
  std::string rep;
  std::string stage_id;
  int32_t probability = 0;
  absl::Time time;
};
// An opportunity's stage from the opportunity topic; nothing when unchanged.
absl::StatusOr<Decision> Decide(const Customer& c, const NoteOpportunity& cmd);

struct NoteContract {
  std::string contract_id;
  int64_t amount = 0;
  absl::Time sign_time;
};
// A signed contract from the contract topic, with the customer's owner when
// it was signed (the topic can arrive after the customer changed hands);
// nothing when already noted.
absl::StatusOr<Decision> Decide(const Customer& c, const NoteContract& cmd);

struct SetCapacity {
  int32_t capacity = 0;
  std::string reason;
  std::string user;
};
absl::StatusOr<std::vector<RepPoolEvent>> Decide(const RepPool& pool, const SetCapacity& cmd);

// The loser's pool events of a conflict lost at `now`: the loss, and a
// penalty when it completes another `losses_for_penalty` within the window.
std::vector<RepPoolEvent> LoseConflict(const RepPool& pool, const std::string& conflict_id,
                                       absl::Time now, const Policy& policy);

// Conflicts `pool`'s rep lost within the policy's loss window before `now`.
int32_t RecentConflictsLost(const RepPool& pool, absl::Time now, const Policy& policy);

// The periodic standing review of a pool whose customers average
// `average_completeness`: nothing when reviewed within the period, else the
// review and any penalty.
std::vector<RepPoolEvent> ReviewStanding(const RepPool& pool, int32_t customers,
                                         int32_t average_completeness, absl::Time now,
                                         const Policy& policy);

// Drop protection at `now`: a release once the deadline has passed (strictly
// after it), a warning to the owner within `warn_before` of it (once per
// deadline), else nothing. `pool` is the owner's; `previous` the previous
// owner's, for a policy that hands customers back (nullptr: none). For a public customer, an
// unsecured reservation past its expiry lapses (`pool` is the reserver's).
Decision EnforceDropProtection(const Customer& c, const RepPool& pool, absl::Time now,
                               const Policy& policy, const RepPool* previous = nullptr);

struct DropDeadline {
  absl::Time at;
  ev::ReleaseReason reason;
};
// When drop protection releases `c` if nothing changes; nullopt when public.
// A contract signed since the claim ends the no-contract window.
std::optional<DropDeadline> NextDropDeadline(const Customer& c, const Policy& policy);
// When EnforceDropProtection next has something to do; nullopt when never.
std::optional<absl::Time> NextDropCheck(const Customer& c, const Policy& policy);

// Whether a touch counts as a valid follow-up; the reason when it does not.
std::optional<std::string> InvalidFollowUpReason(ev::TouchChannel channel, const std::string& note,
                                                 const Policy& policy);

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
