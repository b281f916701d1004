#include "services/customer/domain/customer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/field_mask_util.h"
#include "libs/normalize/normalize.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

constexpr size_t kMaxName = 200;
constexpr int kMaxContacts = 50;
constexpr int kMaxTags = 50;

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  ts.set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(ts.seconds())) / absl::Nanoseconds(1)));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

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
  if (p.company_name().size() > kMaxName) v.Add("customer.company_name", "must be at most 200 bytes");
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
    if (c->name().empty()) v.Add(path + ".name", "is required");
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
    if (c->contact_id().empty()) c->set_contact_id(absl::StrCat("k", i + 1));
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

RepPoolEvent Removed(const std::string& rep, const std::string& customer) {
  RepPoolEvent e;
  e.mutable_customer_removed()->set_rep_id(rep);
  e.mutable_customer_removed()->set_customer_id(customer);
  return e;
}

}  // namespace

std::string PoolStreamId(const std::string& rep) { return "pool:" + rep; }

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
  RETURN_IF_ERROR(v.ToStatus());
  if (!cmd.into_public_pool && !PoolHasRoom(pool, policy)) return PoolFull(pool, policy);
  Decision d;
  ev::CustomerCreated* e = d.customer.emplace_back().mutable_created();
  e->set_customer_id(cmd.customer_id);
  *e->mutable_profile() = profile;
  if (!cmd.into_public_pool) e->set_owner_id(cmd.user);
  e->set_created_by(cmd.user);
  *e->mutable_create_time() = ToProto(cmd.now);
  e->set_completeness(Completeness(profile, policy));
  if (!cmd.into_public_pool) d.pool.push_back(Added(cmd.user, cmd.customer_id));
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const UpdateProfile& cmd, const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  if (c.owner != cmd.user) return NotOwner(c, cmd.user);
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
  RETURN_IF_ERROR(v.ToStatus());
  Decision d;
  ev::CustomerProfileUpdated* e = d.customer.emplace_back().mutable_profile_updated();
  e->set_customer_id(c.id);
  *e->mutable_profile() = next;
  for (const auto& p : cmd.paths) e->add_paths(p);
  e->set_updated_by(cmd.user);
  *e->mutable_update_time() = ToProto(cmd.now);
  e->set_completeness(Completeness(next, policy));
  return d;
}

absl::StatusOr<Decision> Decide(const Customer& c, const RepPool& pool, const Claim& cmd,
                                const Policy& policy) {
  if (!c.exists()) return absl::NotFoundError("customer " + c.id + " does not exist");
  if (c.is_private()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kNotInPublicPool,
                           absl::StrCat("customer ", c.id, " is in ",
                                        c.owner == cmd.user ? "your" : "another rep's",
                                        " private pool"));
  }
  if (c.released_by == cmd.user && cmd.now < c.released_at + policy.cool_down) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kCoolDown,
        absl::StrCat("you released customer ", c.id, "; you may claim it again after ",
                     absl::FormatTime(absl::RFC3339_sec, c.released_at + policy.cool_down,
                                      absl::UTCTimeZone())));
  }
  if (!PoolHasRoom(pool, policy)) return PoolFull(pool, policy);
  Decision d;
  ev::CustomerClaimed* e = d.customer.emplace_back().mutable_claimed();
  e->set_customer_id(c.id);
  e->set_owner_id(cmd.user);
  *e->mutable_claim_time() = ToProto(cmd.now);
  d.pool.push_back(Added(cmd.user, c.id));
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
  *e->mutable_release_time() = ToProto(cmd.now);
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
  *e->mutable_touch_time() = ToProto(cmd.now);
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

std::optional<DropDeadline> NextDropDeadline(const Customer& c, const Policy& policy) {
  if (!c.is_private()) return std::nullopt;
  const bool ka = c.profile.segment() == ev::SEGMENT_KA;
  const absl::Time follow_up_base = std::max(c.claim_time, c.last_valid_touch);
  DropDeadline follow_up{follow_up_base + (ka ? policy.ka_no_follow_up : policy.smb_no_follow_up),
                         ev::RELEASE_REASON_NO_VALID_FOLLOW_UP};
  DropDeadline contract{c.claim_time + (ka ? policy.ka_no_contract : policy.smb_no_contract),
                        ev::RELEASE_REASON_NO_SIGNED_CONTRACT};
  return contract.at < follow_up.at ? contract : follow_up;
}

std::optional<absl::Time> NextDropCheck(const Customer& c, const Policy& policy) {
  auto deadline = NextDropDeadline(c, policy);
  if (!deadline) return std::nullopt;
  if (c.warned_for != deadline->at) return deadline->at - policy.warn_before;
  return deadline->at;
}

Decision EnforceDropProtection(const Customer& c, const RepPool& pool, absl::Time now,
                               const Policy& policy) {
  Decision d;
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
    *e->mutable_release_time() = ToProto(now);
    *e->mutable_deadline() = ToProto(deadline->at);
    d.pool.push_back(Removed(pool.rep, c.id));
  } else if (now > deadline->at - policy.warn_before && c.warned_for != deadline->at) {
    ev::DropWarningIssued* e = d.customer.emplace_back().mutable_drop_warning_issued();
    e->set_customer_id(c.id);
    e->set_owner_id(c.owner);
    e->set_reason(deadline->reason);
    *e->mutable_deadline() = ToProto(deadline->at);
    *e->mutable_issue_time() = ToProto(now);
  }
  return d;
}

HistoryLine Describe(const CustomerEvent& event) {
  static const char* const kFields[] = {"company_name", "legal_entity_id", "industry",
                                        "region",       "size",            "annual_revenue",
                                        "contacts",     "tags"};
  static const char* const kReasons[] = {"", "by its owner", "no valid follow-up in time",
                                         "no signed contract in time"};
  HistoryLine line;
  switch (event.event_case()) {
    case CustomerEvent::kCreated: {
      const auto& e = event.created();
      line.actor = e.created_by();
      line.summary = e.owner_id().empty()
                         ? absl::StrCat("created in the public pool, ", e.completeness(),
                                        "% complete")
                         : absl::StrCat("created in ", e.owner_id(), "'s private pool, ",
                                        e.completeness(), "% complete");
      for (const char* f : kFields) {
        if (FieldFilled(e.profile(), f)) line.changed_fields.push_back(f);
      }
      break;
    }
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
      line.summary = absl::StrCat(
          "owner ", event.drop_warning_issued().owner_id(), " warned: release due at ",
          absl::FormatTime(absl::RFC3339_sec, FromProto(event.drop_warning_issued().deadline()),
                           absl::UTCTimeZone()));
      break;
    case CustomerEvent::EVENT_NOT_SET:
      break;
  }
  return line;
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
      c.create_time = FromProto(e.create_time());
      if (!c.owner.empty()) c.claim_time = c.create_time;
      break;
    }
    case CustomerEvent::kProfileUpdated:
      c.profile = event.profile_updated().profile();
      c.completeness = event.profile_updated().completeness();
      break;
    case CustomerEvent::kClaimed:
      c.owner = event.claimed().owner_id();
      c.claim_time = FromProto(event.claimed().claim_time());
      c.last_valid_touch = absl::InfinitePast();
      c.warned_for = absl::InfinitePast();
      break;
    case CustomerEvent::kReleased:
      c.released_by = event.released().previous_owner_id();
      c.released_at = FromProto(event.released().release_time());
      c.owner.clear();
      c.claim_time = absl::InfinitePast();
      c.last_valid_touch = absl::InfinitePast();
      c.warned_for = absl::InfinitePast();
      break;
    case CustomerEvent::kTouchRecorded:
      if (event.touch_recorded().valid()) {
        c.last_valid_touch = FromProto(event.touch_recorded().touch_time());
      }
      break;
    case CustomerEvent::kDropWarningIssued:
      c.warned_for = FromProto(event.drop_warning_issued().deadline());
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
    case RepPoolEvent::EVENT_NOT_SET:
      break;
  }
  return pool;
}

}  // namespace crm::customer
