#include "services/customer/domain/customer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/clock/timestamp.h"
#include "libs/normalize/normalize.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

constexpr size_t kMaxName = 200;
constexpr int kMaxContacts = 50;
constexpr int kMaxTags = 50;

bool ValidLegalEntityId(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

bool FieldFilled(const Profile& p, const std::string& field) {
  if (field == "company_name") return !p.company_name().empty();
  if (field == "legal_entity_id") return !p.legal_entity_id().empty();
  if (field == "industry") return !p.industry().empty();
  if (field == "region") return !p.region().empty();
  if (field == "size") return p.size() != ev::COMPANY_SIZE_UNSPECIFIED;
  if (field == "annual_revenue") return p.annual_revenue() > 0;
  if (field == "contacts") return p.contacts_size() > 0;
  if (field == "tags") return p.tags_size() > 0;
  if (field == "key_person") {
    return std::any_of(p.contacts().begin(), p.contacts().end(),
                       [](const ev::Contact& c) { return c.key_person(); });
  }
  if (field == "contact_reach") {
    return std::any_of(p.contacts().begin(), p.contacts().end(), [](const ev::Contact& c) {
      return !c.phone().empty() || !c.email().empty();
    });
  }
  return false;
}

// Validates and normalises `p` in place, naming bad fields as customer.<field>.
void CleanProfile(Profile& p, const Policy& policy, FieldViolations& v) {
  p.set_company_name(std::string(absl::StripAsciiWhitespace(p.company_name())));
  if (p.company_name().size() > kMaxName)
    v.Add("customer.company_name", "must be at most 200 bytes");
  p.set_normalized_company_name(NormalizeCompanyName(p.company_name()));
  if (!p.legal_entity_id().empty() && !ValidLegalEntityId(p.legal_entity_id())) {
    v.Add("customer.legal_entity_id", "must be 1-64 of letters, digits and '-'");
  }
  p.set_legal_entity_id(absl::AsciiStrToUpper(p.legal_entity_id()));
  if (p.industry().size() > kMaxName) v.Add("customer.industry", "must be at most 200 bytes");
  if (p.region().size() > kMaxName) v.Add("customer.region", "must be at most 200 bytes");
  if (p.annual_revenue() < 0) v.Add("customer.annual_revenue", "must not be negative");
  if (!ev::CompanySize_IsValid(p.size())) v.Add("customer.size", "is not a known size");
  if (!ev::Segment_IsValid(p.segment())) v.Add("customer.segment", "is not a known segment");
  if (p.segment() == ev::SEGMENT_UNSPECIFIED) p.set_segment(ev::SEGMENT_SMB);
  if (p.contacts_size() > kMaxContacts) v.Add("customer.contacts", "at most 50 contacts");
  for (int i = 0; i < p.contacts_size(); ++i) {
    ev::Contact* c = p.mutable_contacts(i);
    const std::string path = absl::StrCat("customer.contacts[", i, "]");
    c->set_name(std::string(absl::StripAsciiWhitespace(c->name())));
    // An erased contact (sent back as it was read) has no name any more.
    if (c->name().empty() && !c->sealed().erased()) v.Add(path + ".name", "is required");
    if (c->name().size() > kMaxName) v.Add(path + ".name", "must be at most 200 bytes");
    if (!c->phone().empty()) {
      if (auto phone = NormalizePhone(c->phone())) {
        c->set_phone(*phone);
      } else {
        v.Add(path + ".phone", "must be 6-15 digits, optionally with a leading '+'");
      }
    }
    if (!c->email().empty()) {
      if (auto email = NormalizeEmail(c->email())) {
        c->set_email(*email);
      } else {
        v.Add(path + ".email", "must be a valid email address");
      }
    }
  }
  // New contacts get the first free "k<n>" id.
  std::set<std::string> ids;
  for (const ev::Contact& c : p.contacts()) {
    if (c.contact_id().empty()) continue;
    if (!ids.insert(c.contact_id()).second) {
      v.Add("customer.contacts", "contact ids must be unique");
    }
  }
  int next_id = 1;
  for (ev::Contact& c : *p.mutable_contacts()) {
    if (!c.contact_id().empty()) continue;
    while (ids.count(absl::StrCat("k", next_id)) > 0) ++next_id;
    c.set_contact_id(absl::StrCat("k", next_id));
    ids.insert(c.contact_id());
  }
  if (p.tags_size() > kMaxTags) v.Add("customer.tags", "at most 50 tags");
  for (int i = 0; i < p.tags_size(); ++i) {
    if (p.tags(i).empty() || p.tags(i).size() > 64) {
      v.Add(absl::StrCat("customer.tags[", i, "]"), "must be 1-64 bytes");
    }
  }
  for (const std::string& field : policy.mandatory_fields) {
    if (!FieldFilled(p, field)) v.Add("customer." + field, "is required by the tenant");
  }
}

absl::Status NotOwner(const Customer& c, const std::string& user) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kNotOwner,
                         absl::StrCat("customer ", c.id, " is not in ", user, "'s private pool"));
}

absl::Status PoolFull(const RepPool& pool, const Policy& policy) {
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, kPoolFull,
      absl::StrCat("private pool of ", pool.rep, " is full (", pool.customers.size(), " of ",
                   pool.Capacity(policy), "): release a customer first"));
}

bool PoolHasRoom(const RepPool& pool, const Policy& policy) {
  return static_cast<int64_t>(pool.customers.size()) < pool.Capacity(policy);
}

RepPoolEvent Added(const std::string& rep, const std::string& customer) {
  RepPoolEvent e;
  e.mutable_customer_added()->set_rep_id(rep);
  e.mutable_customer_added()->set_customer_id(customer);
  return e;
}

CustomerEvent Detected(const std::string& customer, const std::vector<ev::ConflictMatch>& matches,
                       const char* on, const std::string& by, absl::Time now) {
  CustomerEvent e;
  ev::ConflictDetected* d = e.mutable_conflict_detected();
  d->set_customer_id(customer);
  for (const auto& m : matches) *d->add_matches() = m;
  d->set_detected_on(on);
  d->set_by(by);
  *d->mutable_detect_time() = ToTimestamp(now);
  return e;
}

RepPoolEvent ReservationRemoved(const std::string& rep, const std::string& customer) {
  RepPoolEvent e;
  e.mutable_reservation_removed()->set_rep_id(rep);
  e.mutable_reservation_removed()->set_customer_id(customer);
  return e;
}

CustomerEvent ReservationEnded(const Customer& c, ev::ReservationEndReason reason, absl::Time now) {
  CustomerEvent e;
  ev::ReservationEnded* r = e.mutable_reservation_ended();
  r->set_customer_id(c.id);
  r->set_rep_id(c.reserved_by);
  r->set_reason(reason);
  *r->mutable_end_time() = ToTimestamp(now);
  return e;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

RepPoolEvent Removed(const std::string& rep, const std::string& customer) {
  RepPoolEvent e;
  e.mutable_customer_removed()->set_rep_id(rep);
  e.mutable_customer_removed()->set_customer_id(customer);
  return e;
}

}  // namespace

std::string PoolStreamId(const std::string& rep) { return "pool:" + rep; }

bool IsCustomerStream(absl::string_view stream_id) {
  return !absl::StartsWith(stream_id, "pool:") && !absl::StartsWith(stream_id, "conflict:") &&
         !absl::StartsWith(stream_id, "segment:") && stream_id != "policy";
}

std::vector<std::string> MatchKeys(const Profile& p) {
  std::vector<std::string> keys;
  const std::string name = NormalizeCompanyName(p.company_name());
  if (!name.empty()) keys.push_back("company_name:" + name);
  if (!p.legal_entity_id().empty()) {
    keys.push_back("legal_entity_id:" + absl::AsciiStrToUpper(p.legal_entity_id()));
  }
  for (const ev::Contact& c : p.contacts()) {
    if (!c.key_person()) continue;
    if (auto phone = NormalizePhone(c.phone())) keys.push_back("key_person_phone:" + *phone);
    if (auto email = NormalizeEmail(c.email())) keys.push_back("key_person_email:" + *email);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// Gives every contact of `next` the person whose key seals its personal
// fields: an existing contact (same id in `before`) keeps its person, and an
// erased one stays erased (new personal data for it is refused: add the
// person again as a new contact); a new contact gets a person id of its own,
// unique over the customer's history. Whatever `sealed` a caller sent is
// dropped.
void AssignPersons(const Profile* before, Profile& next, const std::string& customer_id,
                   int64_t version, bool keep_given, FieldViolations& v) {
  for (int i = 0; i < next.contacts_size(); ++i) {
    ev::Contact& c = *next.mutable_contacts(i);
    const bool claims_erased = c.sealed().erased();
    c.clear_sealed();
    const ev::Contact* old = nullptr;
    if (before != nullptr) {
      for (const ev::Contact& k : before->contacts()) {
        if (k.contact_id() == c.contact_id()) old = &k;
      }
    }
    if (old != nullptr) {
      c.set_person_id(old->person_id());
      if (old->sealed().erased()) {
        if (!c.name().empty() || !c.title().empty() || !c.phone().empty() || !c.email().empty()) {
          v.Add(absl::StrCat("customer.contacts[", i, "]"),
                "this contact was erased; add the person again as a new contact");
        }
        *c.mutable_sealed() = old->sealed();
        continue;
      }
    }
    if (claims_erased) {
      v.Add(absl::StrCat("customer.contacts[", i, "].name"), "is required");
    }
    // A contact stored before personal data was sealed has no person yet.
    if (old != nullptr && old->person_id().empty()) old = nullptr;
    if (old == nullptr && (!keep_given || c.person_id().empty())) {
      c.set_person_id(absl::StrCat(customer_id, "/", c.contact_id(), "/", version));
    }
  }
}

int32_t Completeness(const Profile& profile, const Policy& policy) {
  if (policy.scored_fields.empty()) return 100;
  int filled = 0;
  for (const auto& f : policy.scored_fields) filled += FieldFilled(profile, f) ? 1 : 0;
  return static_cast<int32_t>((filled * 100 + static_cast<int>(policy.scored_fields.size()) / 2) /
                              static_cast<int>(policy.scored_fields.size()));
}

absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const CreateCustomer& cmd,
                                const Policy& policy) {
  if (c.exists()) return absl::AlreadyExistsError("customer " + c.id + " already exists");
  Profile profile = cmd.profile;
  FieldViolations v;
  CleanProfile(profile, policy, v);
  AssignPersons(nullptr, profile, cmd.customer_id, 1, cmd.keep_person_ids, v);
  RETURN_IF_ERROR(v.ToStatus());
  if (!cmd.into_public_pool && !PoolHasRoom(pool, policy)) return PoolFull(pool, policy);
  Decision d;
  ev::CustomerCreated* e = d.customer.emplace_back().mutable_created();
  e->set_customer_id(cmd.customer_id);
  *e->mutable_profile() = profile;
  if (!cmd.into_public_pool) e->set_owner_id(cmd.user);
  e->set_created_by(cmd.user);
  *e->mutable_create_time() = ToTimestamp(cmd.now);
  e->set_completeness(Completeness(profile, policy));
  if (!cmd.matches.empty()) {
    d.customer.push_back(Detected(cmd.customer_id, cmd.matches, "create", cmd.user, cmd.now));
  }
  if (!cmd.into_public_pool) d.pool.push_back(Added(cmd.user, cmd.customer_id));
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const UpdateProfile& cmd, const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  const bool reserver = !c.is_private() && c.reserved_by == cmd.user;
  if (c.owner != cmd.user && !reserver) return NotOwner(c, cmd.user);
  static const char* const kPaths[] = {"company_name", "legal_entity_id", "industry", "region",
                                       "size",         "annual_revenue",  "segment",  "contacts",
                                       "tags"};
  FieldViolations v;
  if (cmd.paths.empty()) v.Add("update_mask", "names no field to update");
  google::protobuf::FieldMask mask;
  for (const std::string& path : cmd.paths) {
    if (std::find(std::begin(kPaths), std::end(kPaths), path) == std::end(kPaths)) {
      v.Add("update_mask", absl::StrCat("'", path, "' is not an updatable field"));
    } else {
      mask.add_paths(path);
    }
  }
  Profile next = c.profile;
  google::protobuf::util::FieldMaskUtil::MergeOptions replace;
  replace.set_replace_repeated_fields(true);
  replace.set_replace_message_fields(true);
  google::protobuf::util::FieldMaskUtil::MergeMessageTo(cmd.profile, mask, replace, &next);
  RETURN_IF_ERROR(v.ToStatus());
  CleanProfile(next, policy, v);
  AssignPersons(&c.profile, next, c.id, c.version + 1, false, v);
  RETURN_IF_ERROR(v.ToStatus());
  Decision d;
  ev::CustomerProfileUpdated* e = d.customer.emplace_back().mutable_profile_updated();
  e->set_customer_id(c.id);
  *e->mutable_profile() = next;
  for (const auto& p : cmd.paths) e->add_paths(p);
  e->set_updated_by(cmd.user);
  *e->mutable_update_time() = ToTimestamp(cmd.now);
  e->set_completeness(Completeness(next, policy));
  if (reserver && !c.reservation_secured &&
      e->completeness() >= policy.reservation_completeness_target &&
      e->completeness() > c.reserved_at_completeness) {
    ev::ReservationSecured* r = d.customer.emplace_back().mutable_reservation_secured();
    r->set_customer_id(c.id);
    r->set_rep_id(cmd.user);
    r->set_completeness(e->completeness());
    *r->mutable_secure_time() = ToTimestamp(cmd.now);
  }
  return d;
}

absl::StatusOr<std::string> PersonOf(const Customer& c, const std::string& contact_id) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  for (const ev::Contact& k : c.profile.contacts()) {
    if (k.contact_id() == contact_id) return k.person_id();
  }
  return absl::NotFoundError(absl::StrCat("customer ", c.id, " has no contact '", contact_id, "'"));
}

absl::StatusOr<Decision> Decide(const Customer& c, const EraseContact& cmd) {
  ASSIGN_OR_RETURN(const std::string person, PersonOf(c, cmd.contact_id));
  Decision d;
  if (c.erased_contacts.count(cmd.contact_id) > 0) return d;
  ev::ContactErased* e = d.customer.emplace_back().mutable_contact_erased();
  e->set_customer_id(c.id);
  e->set_contact_id(cmd.contact_id);
  e->set_person_id(person);
  *e->mutable_profile() = c.profile;
  for (ev::Contact& k : *e->mutable_profile()->mutable_contacts()) {
    if (k.contact_id() != cmd.contact_id) continue;
    k.clear_name();
    k.clear_title();
    k.clear_phone();
    k.clear_email();
    k.mutable_sealed()->Clear();
    k.mutable_sealed()->set_person_id(person);
    k.mutable_sealed()->set_erased(true);
  }
  e->set_by(cmd.user);
  *e->mutable_erase_time() = ToTimestamp(cmd.now);
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Claim& cmd,
                                const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  if (c.is_private()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kNotInPublicPool,
        absl::StrCat("customer ", c.id, " is in ", c.owner == cmd.user ? "your" : "another rep's",
                     " private pool"));
  }
  if (c.released_by == cmd.user && cmd.now < c.released_at + policy.cool_down) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kCoolDown,
        absl::StrCat("you released customer ", c.id, "; you may claim it again after ",
                     Rfc3339(c.released_at + policy.cool_down)));
  }
  if (!c.reserved_by.empty() && c.reserved_by != cmd.user) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReserved,
        absl::StrCat("customer ", c.id, " is reserved by ", c.reserved_by,
                     c.reservation_secured ? "" : " until " + Rfc3339(c.reserved_until)));
  }
  if (!PoolHasRoom(pool, policy)) return PoolFull(pool, policy);
  Decision d;
  if (c.reserved_by == cmd.user) {
    d.customer.push_back(ReservationEnded(c, ev::RESERVATION_END_REASON_CLAIMED, cmd.now));
    d.pool.push_back(ReservationRemoved(cmd.user, c.id));
  }
  ev::CustomerClaimed* e = d.customer.emplace_back().mutable_claimed();
  e->set_customer_id(c.id);
  e->set_owner_id(cmd.user);
  *e->mutable_claim_time() = ToTimestamp(cmd.now);
  if (!cmd.matches.empty()) {
    d.customer.push_back(Detected(c.id, cmd.matches, "claim", cmd.user, cmd.now));
  }
  d.pool.push_back(Added(cmd.user, c.id));
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Reserve& cmd,
                                const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  if (c.is_private()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kNotInPublicPool,
                           absl::StrCat("customer ", c.id, " is in a private pool"));
  }
  if (!c.reserved_by.empty()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kReserved,
                           absl::StrCat("customer ", c.id, " is already reserved by ",
                                        c.reserved_by == cmd.user ? "you" : c.reserved_by));
  }
  if (static_cast<int64_t>(pool.reservations.size()) >= pool.ReservationLimit(policy)) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kReservationLimit,
        absl::StrCat(pool.rep, " holds ", pool.reservations.size(), " reservations, the limit (",
                     policy.reservation_multiple, "x capacity)"));
  }
  Decision d;
  ev::CustomerReserved* e = d.customer.emplace_back().mutable_reserved();
  e->set_customer_id(c.id);
  e->set_rep_id(cmd.user);
  *e->mutable_reserve_time() = ToTimestamp(cmd.now);
  *e->mutable_expire_time() = ToTimestamp(cmd.now + policy.reservation_window);
  e->set_completeness(c.completeness);
  e->set_completeness_target(policy.reservation_completeness_target);
  RepPoolEvent& added = d.pool.emplace_back();
  added.mutable_reservation_added()->set_rep_id(cmd.user);
  added.mutable_reservation_added()->set_customer_id(c.id);
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool,
                                const CancelReservation& cmd) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  if (c.reserved_by != cmd.user) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kNotOwner,
                           absl::StrCat(cmd.user, " holds no reservation on customer ", c.id));
  }
  Decision d;
  d.customer.push_back(ReservationEnded(c, ev::RESERVATION_END_REASON_CANCELLED, cmd.now));
  d.pool.push_back(ReservationRemoved(pool.rep, c.id));
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Release& cmd) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  if (c.owner != cmd.user) return NotOwner(c, cmd.user);
  if (cmd.note.size() > 500) {
    FieldViolations v;
    v.Add("note", "must be at most 500 bytes");
    return v.ToStatus();
  }
  Decision d;
  ev::CustomerReleased* e = d.customer.emplace_back().mutable_released();
  e->set_customer_id(c.id);
  e->set_previous_owner_id(c.owner);
  e->set_reason(ev::RELEASE_REASON_BY_OWNER);
  e->set_note(cmd.note);
  *e->mutable_release_time() = ToTimestamp(cmd.now);
  d.pool.push_back(Removed(pool.rep, c.id));
  return d;
}

std::optional<std::string> InvalidFollowUpReason(ev::TouchChannel channel, const std::string& note,
                                                 const Policy& policy) {
  if (channel == ev::TOUCH_CHANNEL_MEETING) return std::nullopt;
  const std::string trimmed(absl::StripAsciiWhitespace(note));
  // Characters, not bytes: count UTF-8 lead bytes.
  size_t chars = 0;
  for (unsigned char ch : trimmed) chars += (ch & 0xC0) != 0x80 ? 1 : 0;
  if (chars < policy.min_note_chars) {
    return absl::StrCat("note has ", chars, " characters; a valid follow-up needs ",
                        policy.min_note_chars, " or a meeting");
  }
  const std::string lower = absl::AsciiStrToLower(trimmed);
  for (const std::string& banned : policy.banned_phrases) {
    std::string stripped = lower;
    stripped.erase(std::remove_if(stripped.begin(), stripped.end(),
                                  [](char ch) { return absl::ascii_ispunct(ch); }),
                   stripped.end());
    if (std::string(absl::StripAsciiWhitespace(stripped)) == banned) {
      return absl::StrCat("note is the banned phrase '", banned, "'");
    }
  }
  return std::nullopt;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RecordTouch& cmd, const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  FieldViolations v;
  if (cmd.channel == ev::TOUCH_CHANNEL_UNSPECIFIED || !ev::TouchChannel_IsValid(cmd.channel)) {
    v.Add("touch.channel", "is required: meeting, phone, SMS, email or WeChat");
  }
  if (cmd.note.size() > 2000) v.Add("touch.note", "must be at most 2000 bytes");
  if (cmd.outcome.size() > 500) v.Add("touch.outcome", "must be at most 500 bytes");
  if (cmd.next_step.size() > 500) v.Add("touch.next_step", "must be at most 500 bytes");
  if (!cmd.contact_id.empty() &&
      std::none_of(c.profile.contacts().begin(), c.profile.contacts().end(),
                   [&](const ev::Contact& k) { return k.contact_id() == cmd.contact_id; })) {
    v.Add("touch.contact_id", "is not one of the customer's contacts");
  }
  RETURN_IF_ERROR(v.ToStatus());
  if (c.owner != cmd.user) return NotOwner(c, cmd.user);
  Decision d;
  ev::TouchRecorded* e = d.customer.emplace_back().mutable_touch_recorded();
  e->set_customer_id(c.id);
  e->set_touch_id(cmd.touch_id);
  e->set_channel(cmd.channel);
  e->set_outcome(cmd.outcome);
  e->set_note(cmd.note);
  e->set_next_step(cmd.next_step);
  const auto invalid = InvalidFollowUpReason(cmd.channel, cmd.note, policy);
  e->set_valid(!invalid);
  e->set_invalid_reason(invalid.value_or(""));
  e->set_by(cmd.user);
  *e->mutable_touch_time() = ToTimestamp(cmd.now);
  e->set_contact_id(cmd.contact_id);
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RecordEngagement& cmd,
                                const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  const absl::Time at = cmd.occurred == absl::InfinitePast() ? cmd.now : cmd.occurred;
  FieldViolations v;
  if (cmd.kind == ev::ENGAGEMENT_KIND_UNSPECIFIED || !ev::EngagementKind_IsValid(cmd.kind)) {
    v.Add("kind", "is required: content viewed, link opened, email opened or form submitted");
  }
  if (cmd.topic.size() > 64) v.Add("topic", "must be at most 64 bytes");
  if (cmd.seconds < 0 || cmd.seconds > 86400) v.Add("seconds", "must be 0-86400");
  if (at > cmd.now + absl::Minutes(5)) v.Add("occur_time", "must not be in the future");
  RETURN_IF_ERROR(v.ToStatus());
  Decision d;
  ev::EngagementRecorded* e = d.customer.emplace_back().mutable_engagement_recorded();
  e->set_customer_id(c.id);
  e->set_engagement_id(cmd.engagement_id);
  e->set_kind(cmd.kind);
  e->set_topic(absl::AsciiStrToLower(absl::StripAsciiWhitespace(cmd.topic)));
  e->set_seconds(cmd.seconds);
  *e->mutable_occur_time() = ToTimestamp(at);
  e->set_recorded_by(cmd.user);
  // The engagements in the window ending at this one, after the last spike.
  const absl::Time from = std::max(at - policy.engagement_spike_window, c.last_engagement_spike);
  int32_t in_window = 1;
  for (absl::Time t : c.engagements) in_window += t > from && t <= at ? 1 : 0;
  if (in_window >= policy.engagement_spike_count && at > c.last_engagement_spike) {
    ev::EngagementSpikeDetected* spike =
        d.customer.emplace_back().mutable_engagement_spike_detected();
    spike->set_customer_id(c.id);
    *spike->mutable_spike_time() = ToTimestamp(at);
    spike->set_engagements(in_window);
    spike->set_window_hours(
        static_cast<int32_t>(absl::ToInt64Hours(policy.engagement_spike_window)));
  }
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RecordSales& cmd) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  FieldViolations v;
  if (cmd.year < 1900 || cmd.year > 2200) v.Add("sales.year", "must be 1900-2200");
  if (cmd.amount < 0) v.Add("sales.amount", "must not be negative");
  RETURN_IF_ERROR(v.ToStatus());
  if (c.owner != cmd.user) return NotOwner(c, cmd.user);
  Decision d;
  ev::AnnualSalesRecorded* e = d.customer.emplace_back().mutable_annual_sales_recorded();
  e->set_customer_id(c.id);
  e->mutable_sales()->set_year(cmd.year);
  e->mutable_sales()->set_amount(cmd.amount);
  e->set_recorded_by(cmd.user);
  *e->mutable_record_time() = ToTimestamp(cmd.now);
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const NoteOpportunity& cmd) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  Decision d;
  auto it = c.opportunities.find(cmd.opportunity_id);
  if (it != c.opportunities.end() && it->second.rep == cmd.rep &&
      it->second.probability == cmd.probability) {
    return d;  // no change
  }
  ev::OpportunityProgressNoted* e = d.customer.emplace_back().mutable_opportunity_progress_noted();
  e->set_customer_id(c.id);
  e->set_opportunity_id(cmd.opportunity_id);
  e->set_rep_id(cmd.rep);
  e->set_stage_id(cmd.stage_id);
  e->set_probability(cmd.probability);
  *e->mutable_note_time() = ToTimestamp(cmd.time);
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const NoteContract& cmd) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  Decision d;
  if (c.contracts.count(cmd.contract_id)) return d;
  ev::ContractSignedNoted* e = d.customer.emplace_back().mutable_contract_signed_noted();
  e->set_customer_id(c.id);
  e->set_contract_id(cmd.contract_id);
  e->set_owner_id(c.OwnerAt(cmd.sign_time));
  e->set_amount(cmd.amount);
  *e->mutable_sign_time() = ToTimestamp(cmd.sign_time);
  return d;
}

absl::StatusOr<std::vector<RepPoolEvent>> Decide(const RepPool& pool, const SetCapacity& cmd) {
  FieldViolations v;
  if (cmd.capacity < 0 || cmd.capacity > 10000) v.Add("capacity", "must be 0-10000");
  if (cmd.reason.size() > 500) v.Add("reason", "must be at most 500 bytes");
  RETURN_IF_ERROR(v.ToStatus());
  RepPoolEvent e;
  e.mutable_capacity_set()->set_rep_id(pool.rep);
  e.mutable_capacity_set()->set_capacity(cmd.capacity);
  e.mutable_capacity_set()->set_reason(cmd.reason);
  e.mutable_capacity_set()->set_set_by(cmd.user);
  return std::vector<RepPoolEvent>{e};
}

namespace {

RepPoolEvent Penalty(const RepPool& pool, ev::PenaltyReason reason, std::string detail,
                     absl::Time now, const Policy& policy) {
  const int32_t before = pool.Capacity(policy);
  const int32_t cut = std::max(1, (before * policy.penalty_percent + 99) / 100);
  RepPoolEvent e;
  ev::PoolPenaltyApplied* p = e.mutable_penalty_applied();
  p->set_rep_id(pool.rep);
  p->set_reason(reason);
  p->set_capacity_before(before);
  p->set_capacity_after(std::max(1, before - cut));
  p->set_detail(std::move(detail));
  *p->mutable_apply_time() = ToTimestamp(now);
  return e;
}

}  // namespace

int32_t RecentConflictsLost(const RepPool& pool, absl::Time now, const Policy& policy) {
  int32_t recent = 0;
  for (absl::Time t : pool.conflicts_lost) recent += now - t < policy.loss_window ? 1 : 0;
  return recent;
}

std::vector<RepPoolEvent> LoseConflict(const RepPool& pool, const std::string& conflict_id,
                                       absl::Time now, const Policy& policy) {
  std::vector<RepPoolEvent> out;
  ev::PoolConflictLost* lost = out.emplace_back().mutable_conflict_lost();
  lost->set_rep_id(pool.rep);
  lost->set_conflict_id(conflict_id);
  *lost->mutable_lose_time() = ToTimestamp(now);
  const int32_t recent = RecentConflictsLost(pool, now, policy) + 1;
  if (policy.losses_for_penalty > 0 && recent % policy.losses_for_penalty == 0) {
    out.push_back(Penalty(pool, ev::PENALTY_REASON_LOST_CONFLICTS,
                          absl::StrCat(recent, " conflicts lost within ",
                                       absl::ToInt64Hours(policy.loss_window) / 24, " days"),
                          now, policy));
  }
  return out;
}

std::vector<RepPoolEvent> ReviewStanding(const RepPool& pool, int32_t customers,
                                         int32_t average_completeness, absl::Time now,
                                         const Policy& policy) {
  std::vector<RepPoolEvent> out;
  if (now - pool.last_review < policy.review_period) return out;
  const bool judged = customers >= policy.review_min_customers;
  ev::PoolStandingReviewed* r = out.emplace_back().mutable_standing_reviewed();
  r->set_rep_id(pool.rep);
  r->set_customers(customers);
  r->set_average_completeness(average_completeness);
  r->set_lead_priority(judged && average_completeness >= policy.high_completeness);
  *r->mutable_review_time() = ToTimestamp(now);
  if (judged && average_completeness < policy.low_completeness) {
    out.push_back(
        Penalty(pool, ev::PENALTY_REASON_LOW_COMPLETENESS,
                absl::StrCat("average completeness ", average_completeness, "% over ", customers,
                             " customers, below ", policy.low_completeness, "%"),
                now, policy));
  }
  return out;
}

std::optional<DropDeadline> NextDropDeadline(const Customer& c, const Policy& policy) {
  if (!c.is_private()) return std::nullopt;
  const bool ka = c.profile.segment() == ev::SEGMENT_KA;
  const absl::Time follow_up_base = std::max(c.claim_time, c.last_valid_touch);
  DropDeadline follow_up{follow_up_base + (ka ? policy.ka_no_follow_up : policy.smb_no_follow_up),
                         ev::RELEASE_REASON_NO_VALID_FOLLOW_UP};
  if (c.last_contract >= c.claim_time) return follow_up;
  DropDeadline contract{c.claim_time + (ka ? policy.ka_no_contract : policy.smb_no_contract),
                        ev::RELEASE_REASON_NO_SIGNED_CONTRACT};
  return contract.at < follow_up.at ? contract : follow_up;
}

std::optional<absl::Time> NextDropCheck(const Customer& c, const Policy& policy) {
  if (!c.is_private()) {
    if (c.reserved_by.empty() || c.reservation_secured) return std::nullopt;
    return c.reserved_until;
  }
  auto deadline = NextDropDeadline(c, policy);
  if (!deadline) return std::nullopt;
  if (c.warned_for != deadline->at) return deadline->at - policy.warn_before;
  return deadline->at;
}

Decision EnforceDropProtection(const Customer& c, const RepPool& pool, absl::Time now,
                               const Policy& policy, const RepPool* previous) {
  Decision d;
  if (!c.is_private() && !c.reserved_by.empty() && !c.reservation_secured &&
      now > c.reserved_until) {
    d.customer.push_back(ReservationEnded(c, ev::RESERVATION_END_REASON_LAPSED, now));
    d.pool.push_back(ReservationRemoved(pool.rep, c.id));
    return d;
  }
  auto deadline = NextDropDeadline(c, policy);
  if (!deadline) return d;
  const char* rule = deadline->reason == ev::RELEASE_REASON_NO_VALID_FOLLOW_UP
                         ? "no valid follow-up within the segment's window"
                         : "no signed contract within the segment's window after claim";
  if (now > deadline->at) {
    ev::CustomerReleased* e = d.customer.emplace_back().mutable_released();
    e->set_customer_id(c.id);
    e->set_previous_owner_id(c.owner);
    e->set_reason(deadline->reason);
    e->set_note(absl::StrCat("drop protection: ", rule));
    *e->mutable_release_time() = ToTimestamp(now);
    *e->mutable_deadline() = ToTimestamp(deadline->at);
    d.pool.push_back(Removed(pool.rep, c.id));
    if (policy.drop_back_to_previous_owner && previous && previous->rep == c.previous_owner &&
        !c.previous_owner.empty() && c.previous_owner != c.owner &&
        PoolHasRoom(*previous, policy)) {
      e->set_note(absl::StrCat(e->note(), "; handed back to ", c.previous_owner));
      ev::CustomerClaimed* back = d.customer.emplace_back().mutable_claimed();
      back->set_customer_id(c.id);
      back->set_owner_id(c.previous_owner);
      *back->mutable_claim_time() = ToTimestamp(now);
      d.other_rep = previous->rep;
      d.other_pool_version = previous->version;
      d.other_pool.push_back(Added(previous->rep, c.id));
    }
  } else if (now > deadline->at - policy.warn_before && c.warned_for != deadline->at) {
    ev::DropWarningIssued* e = d.customer.emplace_back().mutable_drop_warning_issued();
    e->set_customer_id(c.id);
    e->set_owner_id(c.owner);
    e->set_reason(deadline->reason);
    *e->mutable_deadline() = ToTimestamp(deadline->at);
    *e->mutable_issue_time() = ToTimestamp(now);
  }
  return d;
}

HistoryLine Describe(const CustomerEvent& event) {
  static const char* const kFields[] = {"company_name", "legal_entity_id", "industry", "region",
                                        "size",         "annual_revenue",  "contacts", "tags"};
  static const char* const kReasons[] = {"", "by its owner", "no valid follow-up in time",
                                         "no signed contract in time"};
  HistoryLine line;
  switch (event.event_case()) {
    case CustomerEvent::kCreated: {
      const auto& e = event.created();
      line.actor = e.created_by();
      line.summary =
          e.owner_id().empty()
              ? absl::StrCat("created in the public pool, ", e.completeness(), "% complete")
              : absl::StrCat("created in ", e.owner_id(), "'s private pool, ", e.completeness(),
                             "% complete");
      for (const char* f : kFields) {
        if (FieldFilled(e.profile(), f)) line.changed_fields.push_back(f);
      }
      break;
    }
    case CustomerEvent::kContactErased:
      line.actor = event.contact_erased().by();
      line.changed_fields.push_back("contacts");
      line.summary = absl::StrCat("contact ", event.contact_erased().contact_id(), " erased");
      break;
    case CustomerEvent::kProfileUpdated: {
      const auto& e = event.profile_updated();
      line.actor = e.updated_by();
      line.changed_fields.assign(e.paths().begin(), e.paths().end());
      line.summary = absl::StrCat("profile updated, ", e.completeness(), "% complete");
      break;
    }
    case CustomerEvent::kClaimed:
      line.actor = event.claimed().owner_id();
      line.summary = absl::StrCat("claimed by ", event.claimed().owner_id());
      break;
    case CustomerEvent::kReleased: {
      const auto& e = event.released();
      const bool by_rule = e.reason() != ev::RELEASE_REASON_BY_OWNER;
      line.actor = by_rule ? "drop-protection" : e.previous_owner_id();
      line.summary = absl::StrCat("released from ", e.previous_owner_id(), "'s pool ",
                                  kReasons[e.reason() >= 0 && e.reason() <= 3 ? e.reason() : 0],
                                  e.note().empty() ? "" : ": ", e.note());
      break;
    }
    case CustomerEvent::kTouchRecorded: {
      const auto& e = event.touch_recorded();
      line.actor = e.by();
      line.summary = absl::StrCat(ev::TouchChannel_Name(e.channel()), " touch",
                                  e.valid() ? " (valid follow-up)" : " (not a valid follow-up)",
                                  e.note().empty() ? "" : ": ", e.note());
      break;
    }
    case CustomerEvent::kDropWarningIssued:
      line.actor = "drop-protection";
      line.summary =
          absl::StrCat("owner ", event.drop_warning_issued().owner_id(), " warned: release due at ",
                       Rfc3339(FromTimestamp(event.drop_warning_issued().deadline())));
      break;
    case CustomerEvent::kConflictDetected: {
      const auto& e = event.conflict_detected();
      line.actor = e.by();
      std::vector<std::string> others;
      for (const auto& m : e.matches()) {
        others.push_back(absl::StrCat(m.customer_id(), " (",
                                      m.owner_id().empty() ? "public pool" : m.owner_id(), ": ",
                                      absl::StrJoin(m.keys(), ", "), ")"));
      }
      line.summary = absl::StrCat("on ", e.detected_on(), " matched ", absl::StrJoin(others, "; "));
      break;
    }
    case CustomerEvent::kConflictSettled: {
      const auto& e = event.conflict_settled();
      line.actor = "conflict-judgement";
      line.summary = absl::StrCat(
          "conflict ", e.conflict_id(), " judged by ", e.rule_version(), ": ", e.winner_id(),
          " won over ", e.loser_id(),
          e.owner_id() == e.previous_owner_id()
              ? ""
              : absl::StrCat("; moved from ", e.previous_owner_id(), " to ", e.owner_id()));
      break;
    }
    case CustomerEvent::kAnnualSalesRecorded: {
      const auto& e = event.annual_sales_recorded();
      line.actor = e.recorded_by();
      line.summary = absl::StrCat("sales ", e.sales().year(), ": ", e.sales().amount());
      line.changed_fields.push_back("annual_sales");
      break;
    }
    case CustomerEvent::kOpportunityProgressNoted: {
      const auto& e = event.opportunity_progress_noted();
      line.actor = e.rep_id();
      line.summary = absl::StrCat("opportunity ", e.opportunity_id(), " at ", e.stage_id(), " (",
                                  e.probability(), "%)");
      break;
    }
    case CustomerEvent::kContractSignedNoted: {
      const auto& e = event.contract_signed_noted();
      line.actor = "contract-service";
      line.summary = absl::StrCat("contract ", e.contract_id(), " signed (", e.amount(),
                                  e.owner_id().empty() ? ")" : ", owner " + e.owner_id() + ")");
      break;
    }
    case CustomerEvent::kReserved:
      line.actor = event.reserved().rep_id();
      line.summary = absl::StrCat("reserved by ", event.reserved().rep_id(), " until ",
                                  Rfc3339(FromTimestamp(event.reserved().expire_time())),
                                  ": completeness ", event.reserved().completeness(),
                                  "% must reach ", event.reserved().completeness_target(), "%");
      break;
    case CustomerEvent::kReservationSecured:
      line.actor = event.reservation_secured().rep_id();
      line.summary = absl::StrCat("reservation secured at ",
                                  event.reservation_secured().completeness(), "% complete");
      break;
    case CustomerEvent::kReservationEnded:
      line.actor = event.reservation_ended().reason() == ev::RESERVATION_END_REASON_LAPSED
                       ? "drop-protection"
                       : event.reservation_ended().rep_id();
      line.summary =
          absl::StrCat(event.reservation_ended().rep_id(), "'s reservation ",
                       event.reservation_ended().reason() == ev::RESERVATION_END_REASON_LAPSED
                           ? "lapsed: completeness target not reached in time"
                       : event.reservation_ended().reason() == ev::RESERVATION_END_REASON_CANCELLED
                           ? "given up"
                           : "ended by claiming the customer");
      break;
    case CustomerEvent::kEngagementRecorded: {
      const auto& e = event.engagement_recorded();
      line.actor = e.recorded_by();
      line.summary =
          absl::StrCat(absl::AsciiStrToLower(absl::StripPrefix(ev::EngagementKind_Name(e.kind()),
                                                               "ENGAGEMENT_KIND_")),
                       e.topic().empty() ? "" : " about " + e.topic(), ", ", e.seconds(), " s");
      break;
    }
    case CustomerEvent::kEngagementSpikeDetected: {
      const auto& e = event.engagement_spike_detected();
      line.actor = "engagement";
      line.summary =
          absl::StrCat("engagement spike: ", e.engagements(), " within ", e.window_hours(), " h");
      break;
    }
    case CustomerEvent::EVENT_NOT_SET:
      break;
  }
  return line;
}

int32_t SalesYear(const google::protobuf::Timestamp& t) {
  return static_cast<int32_t>(absl::ToCivilYear(FromTimestamp(t), absl::UTCTimeZone()).year());
}

std::string Customer::OwnerAt(absl::Time t) const {
  std::string at;
  for (const auto& [from, who] : ownership) {
    if (from > t) break;
    at = who;
  }
  return at;
}

Customer Evolve(Customer c, const CustomerEvent& event) {
  ++c.version;
  switch (event.event_case()) {
    case CustomerEvent::kCreated: {
      const auto& e = event.created();
      c.id = e.customer_id();
      c.profile = e.profile();
      c.completeness = e.completeness();
      c.owner = e.owner_id();
      c.create_time = FromTimestamp(e.create_time());
      c.ownership.emplace_back(c.create_time, c.owner);
      if (!c.owner.empty()) c.claim_time = c.create_time;
      break;
    }
    case CustomerEvent::kProfileUpdated:
      c.profile = event.profile_updated().profile();
      c.completeness = event.profile_updated().completeness();
      break;
    case CustomerEvent::kContactErased:
      c.profile = event.contact_erased().profile();
      c.erased_contacts.insert(event.contact_erased().contact_id());
      break;
    case CustomerEvent::kClaimed:
      c.previous_owner = c.released_by;
      c.owner = event.claimed().owner_id();
      c.claim_time = FromTimestamp(event.claimed().claim_time());
      c.ownership.emplace_back(c.claim_time, c.owner);
      c.last_valid_touch = absl::InfinitePast();
      c.warned_for = absl::InfinitePast();
      break;
    case CustomerEvent::kReleased:
      c.released_by = event.released().previous_owner_id();
      c.released_at = FromTimestamp(event.released().release_time());
      c.owner.clear();
      c.ownership.emplace_back(c.released_at, "");
      c.claim_time = absl::InfinitePast();
      c.last_valid_touch = absl::InfinitePast();
      c.warned_for = absl::InfinitePast();
      break;
    case CustomerEvent::kTouchRecorded:
      if (event.touch_recorded().valid()) {
        c.last_valid_touch = FromTimestamp(event.touch_recorded().touch_time());
      }
      break;
    case CustomerEvent::kDropWarningIssued:
      c.warned_for = FromTimestamp(event.drop_warning_issued().deadline());
      break;
    case CustomerEvent::kConflictDetected:
      c.matches.assign(event.conflict_detected().matches().begin(),
                       event.conflict_detected().matches().end());
      break;
    case CustomerEvent::kConflictSettled: {
      const auto& e = event.conflict_settled();
      if (e.owner_id() != c.owner) {
        // The winner's protection windows start at the hand-over.
        c.previous_owner = c.owner;
        c.owner = e.owner_id();
        c.claim_time = FromTimestamp(e.settle_time());
        c.ownership.emplace_back(c.claim_time, c.owner);
        c.last_valid_touch = absl::InfinitePast();
        c.warned_for = absl::InfinitePast();
      }
      break;
    }
    case CustomerEvent::kContractSignedNoted:
      c.last_contract =
          std::max(c.last_contract, FromTimestamp(event.contract_signed_noted().sign_time()));
      c.contracts.insert(event.contract_signed_noted().contract_id());
      c.contract_sales[SalesYear(event.contract_signed_noted().sign_time())] +=
          event.contract_signed_noted().amount();
      break;
    case CustomerEvent::kAnnualSalesRecorded:
      c.annual_sales[event.annual_sales_recorded().sales().year()] =
          event.annual_sales_recorded().sales().amount();
      break;
    case CustomerEvent::kEngagementRecorded:
      c.engagements.push_back(FromTimestamp(event.engagement_recorded().occur_time()));
      if (c.engagements.size() > 100) c.engagements.erase(c.engagements.begin());
      break;
    case CustomerEvent::kEngagementSpikeDetected:
      c.last_engagement_spike = FromTimestamp(event.engagement_spike_detected().spike_time());
      break;
    case CustomerEvent::kOpportunityProgressNoted: {
      const auto& e = event.opportunity_progress_noted();
      c.opportunities[e.opportunity_id()] = {e.rep_id(), e.probability()};
      break;
    }
    case CustomerEvent::kReserved:
      c.reserved_by = event.reserved().rep_id();
      c.reserved_until = FromTimestamp(event.reserved().expire_time());
      c.reserved_at_completeness = event.reserved().completeness();
      c.reservation_secured = false;
      break;
    case CustomerEvent::kReservationSecured:
      c.reservation_secured = true;
      break;
    case CustomerEvent::kReservationEnded:
      c.reserved_by.clear();
      c.reserved_until = absl::InfiniteFuture();
      c.reservation_secured = false;
      break;
    case CustomerEvent::EVENT_NOT_SET:
      break;
  }
  return c;
}

RepPool Evolve(RepPool pool, const RepPoolEvent& event) {
  ++pool.version;
  switch (event.event_case()) {
    case RepPoolEvent::kCustomerAdded:
      pool.rep = event.customer_added().rep_id();
      pool.customers.insert(event.customer_added().customer_id());
      break;
    case RepPoolEvent::kCustomerRemoved:
      pool.customers.erase(event.customer_removed().customer_id());
      break;
    case RepPoolEvent::kCapacitySet:
      pool.rep = event.capacity_set().rep_id();
      pool.capacity = event.capacity_set().capacity();
      break;
    case RepPoolEvent::kConflictLost:
      pool.rep = event.conflict_lost().rep_id();
      pool.conflicts_lost.push_back(FromTimestamp(event.conflict_lost().lose_time()));
      break;
    case RepPoolEvent::kPenaltyApplied:
      pool.rep = event.penalty_applied().rep_id();
      pool.capacity = event.penalty_applied().capacity_after();
      break;
    case RepPoolEvent::kStandingReviewed:
      pool.rep = event.standing_reviewed().rep_id();
      pool.last_review = FromTimestamp(event.standing_reviewed().review_time());
      pool.lead_priority = event.standing_reviewed().lead_priority();
      break;
    case RepPoolEvent::kReservationAdded:
      pool.rep = event.reservation_added().rep_id();
      pool.reservations.insert(event.reservation_added().customer_id());
      break;
    case RepPoolEvent::kReservationRemoved:
      pool.reservations.erase(event.reservation_removed().customer_id());
      break;
    case RepPoolEvent::EVENT_NOT_SET:
      break;
  }
  return pool;
}

}  // namespace crm::customer
