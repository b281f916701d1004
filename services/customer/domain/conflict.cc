#include "services/customer/domain/conflict.h"

#include <algorithm>
#include <iterator>
#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

Customer Replay(const std::vector<CustomerEvent>& events) {
  Customer c;
  for (const auto& e : events) c = Evolve(std::move(c), e);
  return c;
}

// The key kinds (company_name, ...) two profiles share.
std::vector<std::string> SharedKeys(const Profile& a, const Profile& b) {
  const std::vector<std::string> ka = MatchKeys(a), kb = MatchKeys(b);
  std::vector<std::string> shared, kinds;
  std::set_intersection(ka.begin(), ka.end(), kb.begin(), kb.end(), std::back_inserter(shared));
  for (const auto& key : shared) {
    std::string kind = key.substr(0, key.find(':'));
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  return kinds;
}

struct Facts {
  ev::ConflictParty party;
  std::vector<ev::ConflictEvidence> evidence;
};

bool Earlier(const ev::ConflictEvidence& a, const ev::ConflictEvidence& b) {
  return FromTimestamp(a.time()) < FromTimestamp(b.time());
}

// What `rep` did on every record of the company: counts over all of them,
// and as evidence the earliest valid follow-up and key person reached.
// `filed` is the rep's own record in the claim.
Facts Collect(const std::vector<const std::vector<CustomerEvent>*>& records,
              const std::vector<CustomerEvent>& filed, const std::string& rep) {
  Facts f;
  std::optional<ev::ConflictEvidence> first_valid, first_kp;
  for (const auto* events : records) {
    Customer c;
    for (size_t i = 0; i < events->size(); ++i) {
      c = Evolve(std::move(c), (*events)[i]);
      if (!(*events)[i].has_touch_recorded()) continue;
      const ev::TouchRecorded& t = (*events)[i].touch_recorded();
      if (t.by() != rep) continue;
      if (!t.valid()) {
        f.party.set_thin_follow_ups(f.party.thin_follow_ups() + 1);
        continue;
      }
      f.party.set_valid_follow_ups(f.party.valid_follow_ups() + 1);
      ev::ConflictEvidence cite;
      cite.set_customer_id(c.id);
      cite.set_version(static_cast<int64_t>(i + 1));
      cite.set_rep_id(rep);
      *cite.mutable_time() = t.touch_time();
      if (!first_valid || Earlier(cite, *first_valid)) {
        first_valid = cite;
        first_valid->set_fact(
            absl::StrCat("first valid follow-up (", ev::TouchChannel_Name(t.channel()), ")"));
      }
      for (const ev::Contact& k : c.profile.contacts()) {
        if (!t.contact_id().empty() && k.contact_id() == t.contact_id() && k.key_person() &&
            (!first_kp || Earlier(cite, *first_kp))) {
          first_kp = cite;
          first_kp->set_fact(absl::StrCat("key person reached: ", k.name()));
        }
      }
    }
  }
  if (first_valid) {
    *f.party.mutable_first_valid_follow_up_time() = first_valid->time();
    f.evidence.push_back(*first_valid);
  }
  if (first_kp) {
    f.party.set_key_person_reached(true);
    f.evidence.push_back(*first_kp);
  }
  // The rep's most advanced opportunity with the company, as each record
  // noted it last.
  for (const auto* events : records) {
    const Customer c = Replay(*events);
    for (const auto& [id, o] : c.opportunities) {
      if (o.rep != rep || o.probability <= f.party.best_opportunity_probability()) continue;
      f.party.set_best_opportunity_probability(o.probability);
      f.party.set_best_opportunity_id(id);
    }
  }
  if (!f.party.best_opportunity_id().empty()) {
    ev::ConflictEvidence cite;
    cite.set_customer_id(Replay(filed).id);
    cite.set_rep_id(rep);
    cite.set_fact(absl::StrCat("opportunity ", f.party.best_opportunity_id(), " at ",
                               f.party.best_opportunity_probability(), "%"));
    f.evidence.push_back(cite);
  }
  f.party.set_rep_id(rep);
  f.party.set_customer_id(Replay(filed).id);
  f.party.set_version(static_cast<int64_t>(filed.size()));
  f.party.set_progress((f.party.key_person_reached() ? 10 : 0) +
                       f.party.best_opportunity_probability());
  return f;
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return absl::FormatTime(absl::RFC3339_full, FromTimestamp(t), absl::UTCTimeZone());
}

CustomerEvent Settled(const Customer& record, const ev::ConflictJudged& v, absl::Time now) {
  CustomerEvent e;
  ev::ConflictSettled* s = e.mutable_conflict_settled();
  s->set_customer_id(record.id);
  s->set_conflict_id(v.conflict_id());
  s->set_winner_id(v.winner_id());
  s->set_loser_id(v.loser_id());
  s->set_previous_owner_id(record.owner);
  s->set_owner_id(v.winner_id());
  s->set_rule_version(v.rule_version());
  *s->mutable_settle_time() = ToTimestamp(now);
  return e;
}

}  // namespace

std::string ConflictStreamId(const std::string& conflict_id) { return "conflict:" + conflict_id; }

ev::ConflictJudged Judge(const std::vector<CustomerEvent>& disputed,
                         const std::vector<CustomerEvent>& claimant,
                         const std::vector<std::vector<CustomerEvent>>& related) {
  const Customer d = Replay(disputed), k = Replay(claimant);
  std::vector<const std::vector<CustomerEvent>*> records = {&disputed, &claimant};
  for (const auto& r : related) records.push_back(&r);
  const Facts inc = Collect(records, disputed, d.owner), cla = Collect(records, claimant, k.owner);
  const bool ka = d.profile.segment() == ev::SEGMENT_KA || k.profile.segment() == ev::SEGMENT_KA;
  ev::ConflictJudged v;
  *v.mutable_incumbent() = inc.party;
  *v.mutable_claimant() = cla.party;
  for (auto& kind : SharedKeys(d.profile, k.profile)) v.add_matched_keys(std::move(kind));
  v.set_segment(ka ? ev::SEGMENT_KA : ev::SEGMENT_SMB);
  v.set_rule_version(ka ? kKaRule : kSmbRule);

  const ev::ConflictParty& i = inc.party;
  const ev::ConflictParty& c = cla.party;
  bool claimant_wins = false;
  auto thin = [](const ev::ConflictParty& p) {
    return absl::StrCat(p.rep_id(), " has no valid follow-up on ", p.customer_id(), " (",
                        p.thin_follow_ups(), " thin): thin follow-ups lose");
  };
  if (i.valid_follow_ups() == 0 && c.valid_follow_ups() == 0) {
    v.add_reasons("neither rep has a valid follow-up on their record: the owner keeps it");
  } else if (c.valid_follow_ups() == 0) {
    v.add_reasons(thin(c));
  } else if (i.valid_follow_ups() == 0) {
    v.add_reasons(thin(i));
    claimant_wins = true;
  } else if (ka && i.progress() != c.progress()) {
    claimant_wins = c.progress() > i.progress();
    const ev::ConflictParty& w = claimant_wins ? c : i;
    const ev::ConflictParty& l = claimant_wins ? i : c;
    v.add_reasons(absl::StrCat(w.rep_id(), " has more progress (", w.progress(), " against ",
                               l.progress(),
                               "; the key person reached counts 10, an opportunity its stage's "
                               "win probability)"));
  } else {
    if (ka)
      v.add_reasons(
          absl::StrCat("equal progress (", i.progress(), "): first valid follow-up decides"));
    const absl::Time ti = FromTimestamp(i.first_valid_follow_up_time());
    const absl::Time tc = FromTimestamp(c.first_valid_follow_up_time());
    claimant_wins = tc < ti;
    if (ti == tc) {
      v.add_reasons("both reps followed up validly at the same moment: the owner keeps it");
    } else {
      const ev::ConflictParty& w = claimant_wins ? c : i;
      const ev::ConflictParty& l = claimant_wins ? i : c;
      v.add_reasons(absl::StrCat(w.rep_id(), " followed up validly first (",
                                 Rfc3339(w.first_valid_follow_up_time()), ", ", l.rep_id(), " at ",
                                 Rfc3339(l.first_valid_follow_up_time()), ")"));
    }
  }
  v.set_winner_id(claimant_wins ? c.rep_id() : i.rep_id());
  v.set_loser_id(claimant_wins ? i.rep_id() : c.rep_id());
  for (const auto* f : {&inc, &cla}) {
    for (const auto& e : f->evidence) *v.add_evidence() = e;
  }
  for (const auto* events : records) {
    ev::ConflictRecord* read = v.add_records_read();
    read->set_customer_id(Replay(*events).id);
    read->set_version(static_cast<int64_t>(events->size()));
  }
  return v;
}

absl::StatusOr<ConflictDecision> Decide(const std::vector<CustomerEvent>& disputed,
                                        const std::vector<CustomerEvent>& claimant,
                                        const FileConflict& cmd,
                                        const std::vector<std::vector<CustomerEvent>>& related) {
  const Customer d = Replay(disputed), k = Replay(claimant);
  if (!d.exists()) return absl::NotFoundError("customer does not exist");
  if (!k.exists()) return absl::NotFoundError("claimant_customer does not exist");
  FieldViolations fv;
  if (d.id == k.id) fv.Add("claimant_customer", "must be your own record, not the disputed one");
  if (cmd.note.size() > 500) fv.Add("note", "must be at most 500 bytes");
  RETURN_IF_ERROR(fv.ToStatus());
  if (!d.is_private()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kNotDisputable,
                           absl::StrCat("customer ", d.id, " is in the public pool: claim it"));
  }
  if (d.owner == cmd.user) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, kNotDisputable,
                           absl::StrCat("customer ", d.id, " is already yours"));
  }
  if (k.owner != cmd.user) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kNotOwner,
        absl::StrCat("claimant_customer ", k.id, " is not in ", cmd.user, "'s private pool"));
  }
  if (SharedKeys(d.profile, k.profile).empty()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, kConflictNoMatch,
        absl::StrCat("customers ", d.id, " and ", k.id,
                     " share no company name, legal entity id or key person phone or email"));
  }
  ConflictDecision out;
  ev::ConflictJudged& v = out.verdict;
  v = Judge(disputed, claimant, related);
  v.set_conflict_id(cmd.conflict_id);
  v.set_filed_by(cmd.user);
  v.set_note(cmd.note);
  *v.mutable_judge_time() = ToTimestamp(cmd.now);
  out.on_disputed = Settled(d, v, cmd.now);
  out.on_claimant = Settled(k, v, cmd.now);
  out.loser_record = v.winner_id() == d.owner ? k.id : d.id;
  out.loser_pool.mutable_customer_removed()->set_rep_id(v.loser_id());
  out.loser_pool.mutable_customer_removed()->set_customer_id(out.loser_record);
  out.winner_pool.mutable_customer_added()->set_rep_id(v.winner_id());
  out.winner_pool.mutable_customer_added()->set_customer_id(out.loser_record);
  return out;
}

}  // namespace crm::customer
