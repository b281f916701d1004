#include "services/lead/domain/lead.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

constexpr size_t kMaxNameLength = 200;
constexpr size_t kMaxTextLength = 2000;

bool ValidId(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

absl::Status Refuse(absl::string_view reason, absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, reason, message);
}

absl::Status MustBeOpen(const Lead& lead) {
  if (!lead.exists()) return absl::NotFoundError("lead " + lead.id + " does not exist");
  if (!lead.open()) return Refuse("LEAD_CLOSED", "lead " + lead.id + " is closed");
  return absl::OkStatus();
}

// The owner acts on an owned lead; anyone on a queued one.
absl::Status MayWork(const Lead& lead, const std::string& user) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  if (lead.state != LeadState::kQueued && lead.owner != user) {
    return Refuse("NOT_LEAD_OWNER", "lead " + lead.id + " belongs to " + lead.owner);
  }
  return absl::OkStatus();
}

ev::RepLoadEvent LetGo(const Lead& lead) {
  ev::RepLoadEvent e;
  e.mutable_let_go()->set_rep_id(lead.owner);
  e.mutable_let_go()->set_lead_id(lead.id);
  return e;
}

// Lets the owner's load go when the lead leaves them.
void ReleaseOwner(const Lead& lead, Decision& d) {
  if (!lead.owner.empty()) d.reps[lead.owner].push_back(LetGo(lead));
}

LeadEvent Assigned(const Lead& lead, const std::string& rep, const std::string& team,
                   ev::AssignMethod method, const std::string& by, absl::Time now,
                   const LeadPolicy& policy) {
  LeadEvent e;
  ev::LeadAssigned* a = e.mutable_assigned();
  a->set_lead_id(lead.id);
  a->set_owner_id(rep);
  a->set_team_id(team);
  a->set_method(method);
  a->set_by(by);
  *a->mutable_assign_time() = ToTimestamp(now);
  *a->mutable_work_deadline() = ToTimestamp(now + policy.work_timeout);
  return e;
}

ev::RepLoadEvent Taken(const std::string& rep, const std::string& lead_id) {
  ev::RepLoadEvent e;
  e.mutable_taken()->set_rep_id(rep);
  e.mutable_taken()->set_lead_id(lead_id);
  return e;
}

bool Covers(const google::protobuf::RepeatedPtrField<std::string>& values,
            const std::string& value) {
  if (value.empty()) return false;
  for (const auto& v : values) {
    if (absl::EqualsIgnoreCase(v, value)) return true;
  }
  return false;
}

bool Fits(const ev::TeamMember& m, const Lead& lead, ev::AssignStrategy strategy) {
  switch (strategy) {
    case ev::ASSIGN_STRATEGY_TERRITORY:
      return Covers(m.regions(), lead.profile.region()) ||
             Covers(m.industries(), lead.profile.industry());
    case ev::ASSIGN_STRATEGY_GRADE:
      return m.grades().empty() ||
             std::find(m.grades().begin(), m.grades().end(), lead.grade) != m.grades().end();
    default:
      return true;
  }
}

ev::AssignMethod MethodOf(ev::AssignStrategy strategy) {
  switch (strategy) {
    case ev::ASSIGN_STRATEGY_TERRITORY:
      return ev::ASSIGN_METHOD_TERRITORY;
    case ev::ASSIGN_STRATEGY_GRADE:
      return ev::ASSIGN_METHOD_GRADE;
    default:
      return ev::ASSIGN_METHOD_ROUND_ROBIN;
  }
}

}  // namespace

std::string RepStreamId(const std::string& rep) { return "rep:" + rep; }
std::string TeamStreamId(const std::string& team) { return "team:" + team; }
std::string ChannelStreamId(const std::string& channel) { return "channel:" + channel; }
bool IsLeadStream(absl::string_view id) {
  return !absl::StrContains(id, ':') && id != kPolicyStreamId;
}

Lead Evolve(Lead lead, const LeadEvent& event) {
  ++lead.version;
  switch (event.event_case()) {
    case LeadEvent::kCreated:
      lead.id = event.created().lead_id();
      lead.profile = event.created();
      lead.qualification = event.created().qualification();
      lead.state = LeadState::kQueued;
      lead.score = event.created().score();
      lead.grade = event.created().grade();
      lead.create_time = FromTimestamp(event.created().create_time());
      break;
    case LeadEvent::kRouted:
      lead.id = event.routed().lead().lead_id();
      lead.profile = event.routed().lead();
      lead.state = LeadState::kRouted;
      lead.customer_id = event.routed().customer_id();
      lead.owner = event.routed().owner_id();
      lead.create_time = FromTimestamp(event.routed().lead().create_time());
      break;
    case LeadEvent::kContactErased:
      lead.contact_erased = true;
      lead.profile.clear_contact_name();
      lead.profile.clear_contact_title();
      lead.profile.clear_email();
      lead.profile.clear_phone();
      break;
    case LeadEvent::kQualified:
      lead.qualification = event.qualified().qualification();
      lead.score = event.qualified().score();
      lead.grade = event.qualified().grade();
      break;
    case LeadEvent::kEngaged: {
      const auto& e = event.engaged();
      lead.engagement_points += e.points();
      lead.score = e.score();
      lead.grade = e.grade();
      for (const auto& topic : e.topics()) {
        ++lead.interests[topic].views;
        lead.interests[topic].seconds += e.seconds();
      }
      for (const auto& tag : e.tags_added()) lead.tags.push_back(tag);
      break;
    }
    case LeadEvent::kAssigned:
      lead.state = LeadState::kAssigned;
      lead.owner = event.assigned().owner_id();
      lead.team = event.assigned().team_id();
      lead.work_deadline = FromTimestamp(event.assigned().work_deadline());
      break;
    case LeadEvent::kReturned:
      lead.state = LeadState::kQueued;
      lead.owner.clear();
      lead.work_deadline = absl::InfinitePast();
      break;
    case LeadEvent::kFollowedUp:
      lead.state = LeadState::kWorking;
      ++lead.follow_ups;
      break;
    case LeadEvent::kDisqualified:
      lead.state = LeadState::kDisqualified;
      lead.disqualify_reason = event.disqualified().reason();
      break;
    case LeadEvent::kConverted:
      lead.state = LeadState::kConverted;
      lead.customer_id = event.converted().customer_id();
      lead.opportunity_id = event.converted().opportunity_id();
      break;
    case LeadEvent::kMerged:
      lead.merged_ids.push_back(event.merged().merged_lead_id());
      break;
    case LeadEvent::kMergedInto:
      lead.state = LeadState::kMerged;
      lead.survivor_id = event.merged_into().survivor_id();
      break;
    case LeadEvent::EVENT_NOT_SET:
      break;
  }
  return lead;
}

RepLoad Evolve(RepLoad load, const ev::RepLoadEvent& event) {
  ++load.version;
  if (event.has_taken()) load.open.insert(event.taken().lead_id());
  if (event.has_let_go()) load.open.erase(event.let_go().lead_id());
  return load;
}

TeamTurns Evolve(TeamTurns turns, const ev::TeamEvent& event) {
  ++turns.version;
  if (event.has_turn()) turns.last_rep = event.turn().rep_id();
  return turns;
}

absl::StatusOr<LeadCreated> Clean(const CreateLead& cmd, const LeadPolicy& policy,
                                  absl::string_view prefix) {
  FieldViolations v;
  auto field = [&](absl::string_view name) { return absl::StrCat(prefix, name); };
  if (cmd.channel_id.empty()) {
    v.Add(field("channel_id"), "is required");
  } else if (!ValidId(cmd.channel_id)) {
    v.Add(field("channel_id"), "must be 1-64 characters of letters, digits, '-' and '_'");
  }
  const std::string company(absl::StripAsciiWhitespace(cmd.company_name));
  const std::string contact(absl::StripAsciiWhitespace(cmd.contact_name));
  if (company.empty() && contact.empty()) {
    v.Add(field("company_name"), absl::StrCat("this or ", prefix, "contact_name is required"));
  }
  auto max_length = [&](absl::string_view name, const std::string& value, size_t max) {
    if (value.size() > max) v.Add(field(name), absl::StrCat("must be at most ", max, " bytes"));
  };
  max_length("company_name", company, kMaxNameLength);
  max_length("contact_name", contact, kMaxNameLength);
  max_length("contact_title", cmd.contact_title, kMaxNameLength);
  max_length("industry", cmd.industry, kMaxNameLength);
  max_length("region", cmd.region, kMaxNameLength);
  max_length("qualification.need", cmd.qualification.need(), kMaxTextLength);
  std::optional<std::string> email, phone;
  if (!cmd.email.empty() && !(email = NormalizeEmail(cmd.email))) {
    v.Add(field("email"), "must be a valid email address");
  }
  if (!cmd.phone.empty() && !(phone = NormalizePhone(cmd.phone))) {
    v.Add(field("phone"), "must be 6-15 digits, optionally with a leading '+'");
  }
  const std::string legal(absl::AsciiStrToUpper(absl::StripAsciiWhitespace(cmd.legal_entity_id)));
  if (!legal.empty() && (legal.size() > 32 || !ValidId(legal))) {
    v.Add(field("legal_entity_id"), "must be 1-32 letters, digits, '-' or '_'");
  }
  const int32_t days = cmd.qualification.purchase_within_days();
  if (days < 0 || days > 3650) {
    v.Add(field("qualification.purchase_within_days"), "must be between 0 and 3650");
  }
  RETURN_IF_ERROR(v.ToStatus());

  LeadCreated c;
  c.set_lead_id(cmd.lead_id);
  c.set_channel_id(cmd.channel_id);
  c.set_company_name(company);
  c.set_normalized_company_name(NormalizeCompanyName(company));
  c.set_contact_name(contact);
  c.set_contact_title(std::string(absl::StripAsciiWhitespace(cmd.contact_title)));
  c.set_email(email.value_or(""));
  c.set_phone(phone.value_or(""));
  c.set_legal_entity_id(legal);
  c.set_industry(std::string(absl::StripAsciiWhitespace(cmd.industry)));
  c.set_region(std::string(absl::StripAsciiWhitespace(cmd.region)));
  *c.mutable_qualification() = cmd.qualification;
  c.set_created_by(cmd.user);
  *c.mutable_create_time() = ToTimestamp(cmd.now);
  c.set_import_id(cmd.import_id);
  c.set_import_row(cmd.import_row);
  c.set_score(FitScore(c, cmd.qualification));
  c.set_grade(GradeOf(c.score(), policy));
  return c;
}

std::vector<std::string> MatchKeys(const LeadCreated& lead) {
  std::vector<std::string> keys;
  if (!lead.normalized_company_name().empty()) {
    keys.push_back("company_name:" + lead.normalized_company_name());
  }
  if (!lead.legal_entity_id().empty()) keys.push_back("legal_entity_id:" + lead.legal_entity_id());
  if (!lead.phone().empty()) keys.push_back("phone:" + lead.phone());
  if (!lead.email().empty()) keys.push_back("email:" + lead.email());
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::StatusOr<Decision> Decide(const Lead& lead, LeadCreated cleaned,
                                const std::optional<CustomerMatch>& customer,
                                std::vector<ev::LeadMatch> duplicates) {
  if (lead.exists()) return absl::AlreadyExistsError("lead " + lead.id + " already exists");
  Decision d;
  LeadEvent& e = d.lead.emplace_back();
  if (customer) {
    ev::LeadRouted* r = e.mutable_routed();
    *r->mutable_lead() = std::move(cleaned);
    r->set_customer_id(customer->customer_id);
    r->set_owner_id(customer->owner_id);
    for (const auto& k : customer->keys) r->add_keys(k);
    return d;
  }
  for (auto& m : duplicates) *cleaned.add_duplicates() = std::move(m);
  *e.mutable_created() = std::move(cleaned);
  return d;
}

absl::StatusOr<Decision> Qualify(const Lead& lead, const ev::Qualification& q,
                                 const std::string& user, absl::Time now,
                                 const LeadPolicy& policy) {
  RETURN_IF_ERROR(MayWork(lead, user));
  FieldViolations v;
  if (q.need().size() > kMaxTextLength) v.Add("qualification.need", "must be at most 2000 bytes");
  if (q.purchase_within_days() < 0 || q.purchase_within_days() > 3650) {
    v.Add("qualification.purchase_within_days", "must be between 0 and 3650");
  }
  RETURN_IF_ERROR(v.ToStatus());
  Decision d;
  ev::LeadQualified* e = d.lead.emplace_back().mutable_qualified();
  e->set_lead_id(lead.id);
  *e->mutable_qualification() = q;
  e->set_score(FitScore(lead.profile, q) + lead.engagement_points);
  e->set_grade(GradeOf(e->score(), policy));
  e->set_by(user);
  *e->mutable_qualify_time() = ToTimestamp(now);
  return d;
}

absl::StatusOr<Decision> Engage(const Lead& lead, const RecordEngagement& cmd,
                                const LeadPolicy& policy) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  FieldViolations v;
  if (cmd.kind == ev::ENGAGEMENT_KIND_UNSPECIFIED || !ev::EngagementKind_IsValid(cmd.kind)) {
    v.Add("kind", "is required: CONTENT_VIEWED, LINK_OPENED or FORM_SUBMITTED");
  }
  if (cmd.content_id.size() > kMaxNameLength) v.Add("content_id", "must be at most 200 bytes");
  if (cmd.seconds < 0 || cmd.seconds > 86400) v.Add("seconds", "must be between 0 and 86400");
  if (cmd.topics.size() > 20) v.Add("topics", "at most 20 topics");
  for (const auto& t : cmd.topics) {
    if (!ValidId(t)) v.Add("topics", "each must be 1-64 letters, digits, '-' or '_'");
  }
  RETURN_IF_ERROR(v.ToStatus());

  Decision d;
  ev::EngagementRecorded* e = d.lead.emplace_back().mutable_engaged();
  e->set_lead_id(lead.id);
  e->set_engagement_id(cmd.engagement_id);
  e->set_kind(cmd.kind);
  e->set_content_id(cmd.content_id);
  e->set_seconds(cmd.seconds);
  std::set<std::string> topics;
  for (const auto& t : cmd.topics) topics.insert(absl::AsciiStrToLower(t));
  for (const auto& topic : topics) {
    e->add_topics(topic);
    Lead::Interest before;
    if (auto it = lead.interests.find(topic); it != lead.interests.end()) before = it->second;
    const bool was =
        before.views >= policy.interest_min_views || before.seconds >= policy.interest_min_seconds;
    const bool is = before.views + 1 >= policy.interest_min_views ||
                    before.seconds + cmd.seconds >= policy.interest_min_seconds;
    if (is && !was) e->add_tags_added("interest:" + topic);
  }
  const int32_t room = std::max(0, policy.engagement_cap - lead.engagement_points);
  e->set_points(std::min(room, EngagementPoints(cmd.kind, cmd.seconds)));
  e->set_score(lead.score + e->points());
  e->set_grade(GradeOf(e->score(), policy));
  *e->mutable_engage_time() = ToTimestamp(cmd.now);
  return d;
}

absl::StatusOr<Decision> Claim(const Lead& lead, const RepLoad& load, absl::Time now,
                               const LeadPolicy& policy) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  if (lead.state != LeadState::kQueued) {
    return Refuse("LEAD_NOT_IN_QUEUE", "lead " + lead.id + " was already taken by " + lead.owner);
  }
  if (static_cast<int32_t>(load.open.size()) >= policy.rep_capacity) {
    return Refuse("LEAD_CAPACITY_REACHED",
                  absl::StrCat(load.rep, " already works ", load.open.size(),
                               " open leads, the most the tenant allows"));
  }
  Decision d;
  d.lead.push_back(Assigned(lead, load.rep, "", ev::ASSIGN_METHOD_CLAIM, load.rep, now, policy));
  d.reps[load.rep].push_back(Taken(load.rep, lead.id));
  return d;
}

std::optional<std::string> PickAssignee(const Lead& lead, const ev::Team& team,
                                        const TeamTurns& turns,
                                        const std::map<std::string, RepLoad>& loads,
                                        ev::AssignStrategy strategy, int32_t capacity,
                                        const std::string& exclude,
                                        const std::set<std::string>& priority) {
  const int n = team.members_size();
  if (n == 0) return std::nullopt;
  int start = 0;
  for (int i = 0; i < n; ++i) {
    if (team.members(i).rep_id() == turns.last_rep) start = i + 1;
  }
  for (const bool priority_only : {true, false}) {
    if (priority_only && priority.empty()) continue;
    for (int k = 0; k < n; ++k) {
      const ev::TeamMember& m = team.members((start + k) % n);
      if (priority_only && !priority.count(m.rep_id())) continue;
      if (m.rep_id() == exclude || !Fits(m, lead, strategy)) continue;
      auto it = loads.find(m.rep_id());
      const size_t open = it == loads.end() ? 0 : it->second.open.size();
      if (static_cast<int32_t>(open) < capacity) return m.rep_id();
    }
  }
  return std::nullopt;
}

absl::StatusOr<Decision> Assign(const Lead& lead, const RepLoad& load, const ev::Team& team,
                                ev::AssignStrategy strategy, const std::string& by, absl::Time now,
                                const LeadPolicy& policy) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  if (lead.state != LeadState::kQueued) {
    return Refuse("LEAD_NOT_IN_QUEUE", "lead " + lead.id + " was already taken by " + lead.owner);
  }
  if (static_cast<int32_t>(load.open.size()) >= policy.rep_capacity) {
    return Refuse("LEAD_CAPACITY_REACHED", load.rep + " is at capacity");
  }
  Decision d;
  d.lead.push_back(Assigned(lead, load.rep, team.team_id(), MethodOf(strategy), by, now, policy));
  d.reps[load.rep].push_back(Taken(load.rep, lead.id));
  ev::TeamTurnTaken* turn = d.team.emplace_back().mutable_turn();
  turn->set_team_id(team.team_id());
  turn->set_rep_id(load.rep);
  turn->set_lead_id(lead.id);
  return d;
}

absl::StatusOr<Decision> Return(const Lead& lead, ev::ReturnReason reason, const std::string& user,
                                absl::Time now) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  Decision d;
  if (reason == ev::RETURN_REASON_NOT_WORKED) {
    if (lead.state != LeadState::kAssigned || now < lead.work_deadline) return d;
  } else {
    if (lead.state == LeadState::kQueued) {
      return Refuse("LEAD_NOT_ASSIGNED", "lead " + lead.id + " is in the queue");
    }
    if (lead.owner != user) {
      return Refuse("NOT_LEAD_OWNER", "lead " + lead.id + " belongs to " + lead.owner);
    }
  }
  ev::LeadReturned* e = d.lead.emplace_back().mutable_returned();
  e->set_lead_id(lead.id);
  e->set_previous_owner_id(lead.owner);
  e->set_reason(reason);
  *e->mutable_return_time() = ToTimestamp(now);
  ReleaseOwner(lead, d);
  return d;
}

absl::StatusOr<Decision> RecordFollowUp(const Lead& lead, const FollowUp& cmd) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  if (lead.state == LeadState::kQueued) {
    return Refuse("LEAD_NOT_ASSIGNED", "claim lead " + lead.id + " before working it");
  }
  if (lead.owner != cmd.user) {
    return Refuse("NOT_LEAD_OWNER", "lead " + lead.id + " belongs to " + lead.owner);
  }
  FieldViolations v;
  if (absl::StripAsciiWhitespace(cmd.note).empty()) v.Add("note", "is required");
  if (cmd.note.size() > kMaxTextLength) v.Add("note", "must be at most 2000 bytes");
  if (cmd.next_step.size() > kMaxTextLength) v.Add("next_step", "must be at most 2000 bytes");
  RETURN_IF_ERROR(v.ToStatus());
  Decision d;
  ev::FollowUpRecorded* e = d.lead.emplace_back().mutable_followed_up();
  e->set_lead_id(lead.id);
  e->set_follow_up_id(cmd.follow_up_id);
  e->set_note(cmd.note);
  e->set_next_step(cmd.next_step);
  if (cmd.next_step_time != absl::InfinitePast()) {
    *e->mutable_next_step_time() = ToTimestamp(cmd.next_step_time);
  }
  e->set_by(cmd.user);
  *e->mutable_follow_up_time() = ToTimestamp(cmd.now);
  return d;
}

absl::StatusOr<Decision> EraseContact(const Lead& lead, const std::string& user, absl::Time now) {
  if (!lead.exists()) return absl::NotFoundError("lead " + lead.id + " does not exist");
  Decision d;
  if (lead.contact_erased) return d;
  ev::LeadContactErased* e = d.lead.emplace_back().mutable_contact_erased();
  e->set_lead_id(lead.id);
  e->set_by(user);
  *e->mutable_erase_time() = ToTimestamp(now);
  return d;
}

absl::StatusOr<Decision> Disqualify(const Lead& lead, ev::DisqualifyReason reason,
                                    const std::string& note, const std::string& user,
                                    absl::Time now) {
  RETURN_IF_ERROR(MayWork(lead, user));
  FieldViolations v;
  if (reason == ev::DISQUALIFY_REASON_UNSPECIFIED || !ev::DisqualifyReason_IsValid(reason)) {
    v.Add("reason", "is required");
  }
  if (reason == ev::DISQUALIFY_REASON_OTHER && absl::StripAsciiWhitespace(note).empty()) {
    v.Add("note", "is required when the reason is OTHER");
  }
  if (note.size() > kMaxTextLength) v.Add("note", "must be at most 2000 bytes");
  RETURN_IF_ERROR(v.ToStatus());
  Decision d;
  ev::LeadDisqualified* e = d.lead.emplace_back().mutable_disqualified();
  e->set_lead_id(lead.id);
  e->set_reason(reason);
  e->set_note(note);
  e->set_by(user);
  *e->mutable_disqualify_time() = ToTimestamp(now);
  ReleaseOwner(lead, d);
  return d;
}

absl::Status CheckConvertible(const Lead& lead, const std::string& user) {
  RETURN_IF_ERROR(MustBeOpen(lead));
  if (lead.state == LeadState::kQueued) {
    return Refuse("LEAD_NOT_ASSIGNED", "claim lead " + lead.id + " before converting it");
  }
  if (lead.owner != user) {
    return Refuse("NOT_LEAD_OWNER", "lead " + lead.id + " belongs to " + lead.owner);
  }
  return absl::OkStatus();
}

absl::StatusOr<Decision> Convert(const Lead& lead, const std::string& customer_id,
                                 const std::string& opportunity_id, const std::string& user,
                                 absl::Time now) {
  RETURN_IF_ERROR(CheckConvertible(lead, user));
  Decision d;
  ev::LeadConverted* e = d.lead.emplace_back().mutable_converted();
  e->set_lead_id(lead.id);
  e->set_customer_id(customer_id);
  e->set_owner_id(user);
  e->set_channel_id(lead.profile.channel_id());
  *e->mutable_convert_time() = ToTimestamp(now);
  e->set_opportunity_id(opportunity_id);
  ReleaseOwner(lead, d);
  return d;
}

absl::StatusOr<MergeDecision> Merge(const Lead& survivor, const Lead& merged,
                                    const std::string& user, absl::Time now) {
  if (survivor.id == merged.id) {
    return absl::InvalidArgumentError("merged_lead: cannot merge a lead into itself");
  }
  RETURN_IF_ERROR(MayWork(survivor, user));
  RETURN_IF_ERROR(MayWork(merged, user));
  MergeDecision d;
  ev::LeadMerged* m = d.survivor.lead.emplace_back().mutable_merged();
  m->set_lead_id(survivor.id);
  m->set_merged_lead_id(merged.id);
  *m->mutable_merged() = merged.profile;
  m->set_by(user);
  *m->mutable_merge_time() = ToTimestamp(now);
  ev::LeadMergedInto* into = d.merged.lead.emplace_back().mutable_merged_into();
  into->set_lead_id(merged.id);
  into->set_survivor_id(survivor.id);
  into->set_by(user);
  *into->mutable_merge_time() = ToTimestamp(now);
  ReleaseOwner(merged, d.merged);
  return d;
}

absl::Status ValidateChannel(const ev::ChannelSaved& c) {
  FieldViolations v;
  if (!ValidId(c.channel_id())) {
    v.Add("channel.channel_id", "must be 1-64 characters of letters, digits, '-' and '_'");
  }
  if (absl::StripAsciiWhitespace(c.name()).empty()) v.Add("channel.name", "is required");
  if (c.name().size() > kMaxNameLength) v.Add("channel.name", "must be at most 200 bytes");
  if (c.kind() == ev::CHANNEL_KIND_UNSPECIFIED || !ev::ChannelKind_IsValid(c.kind())) {
    v.Add("channel.kind", "is required: SELF_BUILT, FREE or PAID");
  }
  if (c.monthly_cost() < 0) v.Add("channel.monthly_cost", "must not be negative");
  if (c.kind() == ev::CHANNEL_KIND_FREE && c.monthly_cost() != 0) {
    v.Add("channel.monthly_cost", "must be 0 for a free channel");
  }
  if (!ev::AssignMode_IsValid(c.assign_mode())) v.Add("channel.assign_mode", "is not a mode");
  if (!c.team_id().empty() && !ValidId(c.team_id())) {
    v.Add("channel.team_id", "must be 1-64 characters of letters, digits, '-' and '_'");
  }
  return v.ToStatus();
}

}  // namespace crm::lead
