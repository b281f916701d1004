#include "services/lead/app/lead_commands.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

constexpr int kMaxAttempts = 16;

// Folds a stream of `Wrapper` events into `state` with Evolve.
template <typename Wrapper, typename State>
absl::Status Fold(eventstore::EventStore* store, const eventstore::StreamId& stream, State& state) {
  ASSIGN_OR_RETURN(auto stored, store->ReadStream(stream));
  for (const auto& e : stored) {
    Wrapper event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    state = Evolve(std::move(state), event);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Lead> LeadCommandHandler::Load(const std::string& tenant,
                                              const std::string& lead_id) {
  Lead lead;
  lead.id = lead_id;
  RETURN_IF_ERROR((Fold<LeadEvent>(store_, {tenant, lead_id}, lead)));
  return lead;
}

absl::StatusOr<RepLoad> LeadCommandHandler::GetRepLoad(const std::string& tenant,
                                                       const std::string& rep) {
  RepLoad load;
  load.rep = rep;
  RETURN_IF_ERROR((Fold<ev::RepLoadEvent>(store_, {tenant, RepStreamId(rep)}, load)));
  return load;
}

absl::StatusOr<TeamTurns> LeadCommandHandler::LoadTeam(const std::string& tenant,
                                                       const std::string& team_id) {
  TeamTurns turns;
  RETURN_IF_ERROR((Fold<ev::TeamEvent>(store_, {tenant, TeamStreamId(team_id)}, turns)));
  return turns;
}

absl::StatusOr<Lead> LeadCommandHandler::Get(const std::string& tenant,
                                             const std::string& lead_id) {
  ASSIGN_OR_RETURN(Lead lead, Load(tenant, lead_id));
  if (!lead.exists()) return absl::NotFoundError("lead " + lead_id + " does not exist");
  return lead;
}

absl::Status LeadCommandHandler::Execute(const std::string& tenant, const std::string& request_id,
                                         const std::string& lead_id, const DecideFn& decide) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return absl::OkStatus();
    ASSIGN_OR_RETURN(Lead lead, Load(tenant, lead_id));
    Loaded loaded;
    auto decided = decide(lead, loaded);
    if (!decided.ok()) {
      return eventstore::AppendedMeanwhileOr(*store_, tenant, request_id, decided.status());
    }
    Decision d = *std::move(decided);
    std::vector<eventstore::StreamAppend> appends;
    if (!d.lead.empty()) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(d.lead));
      appends.push_back({{tenant, lead_id}, lead.version, std::move(events)});
    }
    for (const auto& [rep, rep_events] : d.reps) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(rep_events));
      // Taking a lead checks capacity on the version decided on; letting one
      // go commutes with everything.
      auto it = loaded.reps.find(rep);
      const int64_t expected =
          it == loaded.reps.end() ? eventstore::kAnyVersion : it->second.version;
      appends.push_back({{tenant, RepStreamId(rep)}, expected, std::move(events)});
    }
    if (!d.team.empty()) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(d.team));
      appends.push_back(
          {{tenant, TeamStreamId(loaded.team_id)}, loaded.turns.version, std::move(events)});
    }
    if (appends.empty()) return absl::OkStatus();
    auto receipts = store_->AppendMany(std::move(appends), request_id);
    if (receipts.status().code() == absl::StatusCode::kAborted) continue;
    return receipts.status();
  }
  return absl::AbortedError("lead " + lead_id + " is changing too fast; retry");
}

absl::StatusOr<std::pair<ev::AssignMode, std::string>> LeadCommandHandler::RoutingFor(
    const std::string& tenant, const LeadPolicy& policy, const std::string& channel_id) {
  ASSIGN_OR_RETURN(auto channel, GetChannel(tenant, channel_id));
  ev::AssignMode mode = policy.assign_mode;
  std::string team;
  if (channel) {
    if (channel->assign_mode() != ev::ASSIGN_MODE_UNSPECIFIED) mode = channel->assign_mode();
    team = channel->team_id();
  }
  return std::make_pair(mode, team);
}

absl::StatusOr<Lead> LeadCommandHandler::Create(const std::string& tenant,
                                                const std::string& request_id, CreateLead cmd) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());
  ASSIGN_OR_RETURN(const LeadPolicy policy, PolicyFor(tenant));
  cmd.now = clock_->Now();
  cmd.lead_id = eventstore::NewTimeOrderedId('l', cmd.now);
  ASSIGN_OR_RETURN(LeadCreated cleaned, Clean(cmd, policy));
  ASSIGN_OR_RETURN(auto channel, GetChannel(tenant, cleaned.channel_id()));
  if (!channel) {
    FieldViolations v;
    v.Add("lead.channel_id", "names no channel of this tenant; define it with CreateChannel");
    return v.ToStatus();
  }
  const std::vector<std::string> keys = MatchKeys(cleaned);
  std::optional<CustomerMatch> customer;
  if (customer_matcher_) {
    ASSIGN_OR_RETURN(customer, customer_matcher_(tenant, keys));
  }
  std::vector<ev::LeadMatch> duplicates;
  if (lead_matcher_ && !customer) {
    ASSIGN_OR_RETURN(duplicates, lead_matcher_(tenant, keys));
  }
  ASSIGN_OR_RETURN(Decision d, Decide(Lead{}, std::move(cleaned), customer, std::move(duplicates)));
  ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(d.lead));
  ASSIGN_OR_RETURN(auto receipt, store_->Append({tenant, cmd.lead_id}, eventstore::kNoStream,
                                                std::move(events), request_id));
  // A concurrent retry may have won: the receipt names the lead it created.
  ASSIGN_OR_RETURN(Lead lead, Get(tenant, receipt.stream_id()));
  ASSIGN_OR_RETURN(auto routing, RoutingFor(tenant, policy, lead.profile.channel_id()));
  if (lead.state == LeadState::kQueued && routing.first == ev::ASSIGN_MODE_ASSIGN) {
    // Best effort: a lead left queued here is assigned by the work scheduler.
    return AssignNext(tenant, request_id + "/assign", lead.id, "system");
  }
  return lead;
}

absl::StatusOr<Lead> LeadCommandHandler::Qualify(const std::string& tenant,
                                                 const std::string& request_id,
                                                 const std::string& lead_id,
                                                 const std::string& user,
                                                 const ev::Qualification& q) {
  ASSIGN_OR_RETURN(const LeadPolicy policy, PolicyFor(tenant));
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(Execute(tenant, request_id, lead_id, [&](const Lead& lead, Loaded&) {
    return lead::Qualify(lead, q, user, now, policy);
  }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::Engage(const std::string& tenant,
                                                const std::string& request_id,
                                                const std::string& lead_id, RecordEngagement cmd) {
  ASSIGN_OR_RETURN(const LeadPolicy policy, PolicyFor(tenant));
  cmd.now = clock_->Now();
  cmd.engagement_id = eventstore::NewTimeOrderedId('e', cmd.now);
  RETURN_IF_ERROR(Execute(tenant, request_id, lead_id, [&](const Lead& lead, Loaded&) {
    return lead::Engage(lead, cmd, policy);
  }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::Claim(const std::string& tenant,
                                               const std::string& request_id,
                                               const std::string& lead_id,
                                               const std::string& user) {
  ASSIGN_OR_RETURN(const LeadPolicy policy, PolicyFor(tenant));
  RETURN_IF_ERROR(Execute(
      tenant, request_id, lead_id,
      [&](const Lead& lead, Loaded& loaded) -> absl::StatusOr<Decision> {
        if (lead.exists() && lead.open()) {
          ASSIGN_OR_RETURN(auto routing, RoutingFor(tenant, policy, lead.profile.channel_id()));
          if (routing.first == ev::ASSIGN_MODE_ASSIGN) {
            return ErrorWithReason(
                absl::StatusCode::kFailedPrecondition, "LEADS_ARE_ASSIGNED",
                "leads of channel " + lead.profile.channel_id() + " are assigned, not claimed");
          }
        }
        ASSIGN_OR_RETURN(RepLoad load, GetRepLoad(tenant, user));
        loaded.reps[user] = load;
        return lead::Claim(lead, load, clock_->Now(), policy);
      }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::AssignNext(const std::string& tenant,
                                                    const std::string& request_id,
                                                    const std::string& lead_id,
                                                    const std::string& by,
                                                    const std::string& exclude) {
  ASSIGN_OR_RETURN(const LeadPolicy policy, PolicyFor(tenant));
  RETURN_IF_ERROR(Execute(
      tenant, request_id, lead_id,
      [&](const Lead& lead, Loaded& loaded) -> absl::StatusOr<Decision> {
        if (lead.state != LeadState::kQueued) return Decision{};
        ASSIGN_OR_RETURN(auto routing, RoutingFor(tenant, policy, lead.profile.channel_id()));
        // Claim-mode leads wait for a rep to take them.
        if (routing.first != ev::ASSIGN_MODE_ASSIGN) return Decision{};
        const ev::Team* team = policy.FindTeam(routing.second);
        if (team == nullptr) return Decision{};
        loaded.team_id = team->team_id();
        ASSIGN_OR_RETURN(loaded.turns, LoadTeam(tenant, team->team_id()));
        std::set<std::string> priority;
        for (const auto& m : team->members()) {
          ASSIGN_OR_RETURN(loaded.reps[m.rep_id()], GetRepLoad(tenant, m.rep_id()));
          if (!priority_lookup_) continue;
          ASSIGN_OR_RETURN(const bool has, priority_lookup_(tenant, m.rep_id()));
          if (has) priority.insert(m.rep_id());
        }
        auto rep = PickAssignee(lead, *team, loaded.turns, loaded.reps, policy.strategy,
                                policy.rep_capacity, exclude, priority);
        if (!rep) return Decision{};
        return lead::Assign(lead, loaded.reps[*rep], *team, policy.strategy, by, clock_->Now(),
                            policy);
      }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::Return(const std::string& tenant,
                                                const std::string& request_id,
                                                const std::string& lead_id,
                                                const std::string& user) {
  RETURN_IF_ERROR(Execute(tenant, request_id, lead_id, [&](const Lead& lead, Loaded&) {
    return lead::Return(lead, ev::RETURN_REASON_BY_OWNER, user, clock_->Now());
  }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::ReturnIfUnworked(const std::string& tenant,
                                                          const std::string& lead_id) {
  ASSIGN_OR_RETURN(Lead lead, Get(tenant, lead_id));
  if (lead.state != LeadState::kAssigned) return lead;
  // Derived from the version decided on: a retry after a crash returns it
  // once; a later assignment gets a fresh deadline and id.
  const std::string rid = absl::StrCat("return:", lead_id, ":", lead.version);
  const std::string previous = lead.owner;
  RETURN_IF_ERROR(Execute(tenant, rid, lead_id, [&](const Lead& l, Loaded&) {
    return lead::Return(l, ev::RETURN_REASON_NOT_WORKED, "system", clock_->Now());
  }));
  ASSIGN_OR_RETURN(lead, Get(tenant, lead_id));
  if (lead.state != LeadState::kQueued) return lead;
  ASSIGN_OR_RETURN(const LeadPolicy policy, PolicyFor(tenant));
  ASSIGN_OR_RETURN(auto routing, RoutingFor(tenant, policy, lead.profile.channel_id()));
  if (routing.first != ev::ASSIGN_MODE_ASSIGN) return lead;
  return AssignNext(tenant, absl::StrCat(rid, "/assign"), lead_id, "system", previous);
}

absl::StatusOr<Lead> LeadCommandHandler::FollowUp(const std::string& tenant,
                                                  const std::string& request_id,
                                                  const std::string& lead_id, lead::FollowUp cmd) {
  cmd.now = clock_->Now();
  cmd.follow_up_id = eventstore::NewTimeOrderedId('f', cmd.now);
  RETURN_IF_ERROR(Execute(tenant, request_id, lead_id, [&](const Lead& lead, Loaded&) {
    return lead::RecordFollowUp(lead, cmd);
  }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::Disqualify(
    const std::string& tenant, const std::string& request_id, const std::string& lead_id,
    ev::DisqualifyReason reason, const std::string& note, const std::string& user) {
  RETURN_IF_ERROR(Execute(tenant, request_id, lead_id, [&](const Lead& lead, Loaded&) {
    return lead::Disqualify(lead, reason, note, user, clock_->Now());
  }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::EraseContact(const std::string& tenant,
                                                      const std::string& request_id,
                                                      const std::string& lead_id,
                                                      const std::string& user) {
  if (vault_ == nullptr) return absl::FailedPreconditionError("this process has no key store");
  ASSIGN_OR_RETURN(Lead lead, Get(tenant, lead_id));
  // The key goes first: once it is gone, every copy is unreadable.
  RETURN_IF_ERROR(vault_->Erase(tenant, lead.id));
  RETURN_IF_ERROR(Execute(tenant, request_id, lead_id, [&](const Lead& fresh, Loaded&) {
    return lead::EraseContact(fresh, user, clock_->Now());
  }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::Convert(const std::string& tenant,
                                                 const std::string& request_id,
                                                 const std::string& lead_id,
                                                 const std::string& user,
                                                 const std::optional<std::string>& opportunity) {
  ASSIGN_OR_RETURN(Lead lead, Get(tenant, lead_id));
  if (lead.state == LeadState::kConverted) return lead;
  RETURN_IF_ERROR(CheckConvertible(lead, user));
  if (!customer_creator_) return absl::UnavailableError("no customer service is configured");
  if (opportunity && !opportunity_creator_) {
    return absl::UnavailableError("no opportunity service is configured");
  }
  // Derived from the lead alone: every attempt asks for the same customer
  // and opportunity, so an attempt cut short anywhere is simply repeated.
  ASSIGN_OR_RETURN(const std::string customer_id,
                   customer_creator_(tenant, user, "lead-convert:" + lead_id, lead));
  std::string opportunity_id;
  if (opportunity) {
    const std::string name =
        opportunity->empty() ? (lead.profile.company_name().empty() ? lead.profile.contact_name()
                                                                    : lead.profile.company_name())
                             : *opportunity;
    ASSIGN_OR_RETURN(
        opportunity_id,
        opportunity_creator_(tenant, user, "lead-opportunity:" + lead_id, customer_id, name));
  }
  RETURN_IF_ERROR(
      Execute(tenant, request_id, lead_id, [&](const Lead& l, Loaded&) -> absl::StatusOr<Decision> {
        if (l.state == LeadState::kConverted) return Decision{};
        return lead::Convert(l, customer_id, opportunity_id, user, clock_->Now());
      }));
  return Get(tenant, lead_id);
}

absl::StatusOr<Lead> LeadCommandHandler::Merge(const std::string& tenant,
                                               const std::string& request_id,
                                               const std::string& survivor_id,
                                               const std::string& merged_id,
                                               const std::string& user) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return Get(tenant, survivor_id);
    ASSIGN_OR_RETURN(Lead survivor, Get(tenant, survivor_id));
    ASSIGN_OR_RETURN(Lead merged, Get(tenant, merged_id));
    auto decided = lead::Merge(survivor, merged, user, clock_->Now());
    if (!decided.ok()) {
      RETURN_IF_ERROR(
          eventstore::AppendedMeanwhileOr(*store_, tenant, request_id, decided.status()));
      return Get(tenant, survivor_id);
    }
    MergeDecision d = *std::move(decided);
    std::vector<eventstore::StreamAppend> appends;
    ASSIGN_OR_RETURN(auto s_events, eventstore::ToNewEvents(d.survivor.lead));
    appends.push_back({{tenant, survivor_id}, survivor.version, std::move(s_events)});
    ASSIGN_OR_RETURN(auto m_events, eventstore::ToNewEvents(d.merged.lead));
    appends.push_back({{tenant, merged_id}, merged.version, std::move(m_events)});
    for (const auto& [rep, rep_events] : d.merged.reps) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(rep_events));
      appends.push_back({{tenant, RepStreamId(rep)}, eventstore::kAnyVersion, std::move(events)});
    }
    auto receipts = store_->AppendMany(std::move(appends), request_id);
    if (receipts.status().code() == absl::StatusCode::kAborted) continue;
    RETURN_IF_ERROR(receipts.status());
    return Get(tenant, survivor_id);
  }
  return absl::AbortedError("the leads are changing too fast; retry");
}

absl::StatusOr<ev::ChannelSaved> LeadCommandHandler::SaveChannel(const std::string& tenant,
                                                                 const std::string& request_id,
                                                                 ev::ChannelSaved channel,
                                                                 bool create) {
  RETURN_IF_ERROR(ValidateChannel(channel));
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (!seen) {
    const eventstore::StreamId stream{tenant, ChannelStreamId(channel.channel_id())};
    ASSIGN_OR_RETURN(const int64_t version, store_->StreamVersion(stream));
    if (create && version > 0) {
      return absl::AlreadyExistsError("channel " + channel.channel_id() + " already exists");
    }
    if (!create && version == 0) {
      return absl::NotFoundError("channel " + channel.channel_id() + " does not exist");
    }
    *channel.mutable_save_time() = ToTimestamp(clock_->Now());
    ev::ChannelEvent e;
    *e.mutable_saved() = channel;
    ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(e));
    std::vector<eventstore::NewEvent> events;
    events.push_back(std::move(ne));
    auto receipt = store_->Append(stream, version, std::move(events), request_id);
    if (receipt.status().code() == absl::StatusCode::kAborted) {
      return absl::AbortedError("channel " + channel.channel_id() + " changed meanwhile; retry");
    }
    RETURN_IF_ERROR(receipt.status());
  }
  ASSIGN_OR_RETURN(auto saved, GetChannel(tenant, channel.channel_id()));
  if (!saved) return absl::NotFoundError("channel " + channel.channel_id() + " does not exist");
  return *saved;
}

absl::StatusOr<std::optional<ev::ChannelSaved>> LeadCommandHandler::GetChannel(
    const std::string& tenant, const std::string& channel_id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, ChannelStreamId(channel_id)}));
  if (stored.empty()) return std::nullopt;
  ev::ChannelEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(stored.back().type(), stored.back().payload(), &e));
  return e.saved();
}

absl::StatusOr<ev::LeadSettings> LeadCommandHandler::Settings(const std::string& tenant) {
  const eventstore::StreamId stream{tenant, kPolicyStreamId};
  ASSIGN_OR_RETURN(const int64_t version, store_->StreamVersion(stream));
  {
    std::lock_guard<std::mutex> lock(settings_mu_);
    auto it = settings_.find(tenant);
    if (it != settings_.end() && it->second.first == version) return it->second.second;
  }
  ev::LeadSettings settings;
  if (version > 0) {
    ASSIGN_OR_RETURN(auto stored, store_->ReadStream(stream, version));
    ev::LeadPolicyEvent e;
    RETURN_IF_ERROR(eventstore::FromStored(stored.back().type(), stored.back().payload(), &e));
    settings = e.changed().settings();
  }
  std::lock_guard<std::mutex> lock(settings_mu_);
  settings_[tenant] = {version, settings};
  return settings;
}

absl::StatusOr<LeadPolicy> LeadCommandHandler::PolicyFor(const std::string& tenant) {
  ASSIGN_OR_RETURN(auto settings, Settings(tenant));
  return LeadPolicy::From(settings);
}

absl::StatusOr<ev::LeadSettings> LeadCommandHandler::UpdateSettings(
    const std::string& tenant, const std::string& request_id, const ev::LeadSettings& update,
    const std::vector<std::string>& mask, const std::string& user) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return Settings(tenant);
    const eventstore::StreamId stream{tenant, kPolicyStreamId};
    ASSIGN_OR_RETURN(const int64_t version, store_->StreamVersion(stream));
    ASSIGN_OR_RETURN(auto current, Settings(tenant));
    ASSIGN_OR_RETURN(auto merged, MergeSettings(current, update, mask));
    RETURN_IF_ERROR(ValidateSettings(merged));
    ev::LeadPolicyEvent e;
    *e.mutable_changed()->mutable_settings() = merged;
    for (const auto& p : mask) e.mutable_changed()->add_paths(p);
    e.mutable_changed()->set_by(user);
    *e.mutable_changed()->mutable_change_time() = ToTimestamp(clock_->Now());
    ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(e));
    std::vector<eventstore::NewEvent> events;
    events.push_back(std::move(ne));
    auto receipt = store_->Append(stream, version, std::move(events), request_id);
    if (receipt.status().code() == absl::StatusCode::kAborted) continue;
    RETURN_IF_ERROR(receipt.status());
    return Settings(tenant);
  }
  return absl::AbortedError("the lead settings are changing too fast; retry");
}

}  // namespace crm::lead
