#include "services/customer/app/customer_commands.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

constexpr int kMaxAttempts = 16;

absl::Time EventTime(const eventstore::StoredEvent& e) { return FromTimestamp(e.time()); }

}  // namespace

absl::StatusOr<Customer> LoadCustomer(eventstore::EventStore* store, const std::string& tenant,
                                      const std::string& customer_id, absl::Time as_of) {
  Customer c;
  c.id = customer_id;
  return ReplayCustomer(store, tenant, std::move(c), as_of);
}

absl::StatusOr<Customer> ReplayCustomer(eventstore::EventStore* store, const std::string& tenant,
                                        Customer from, absl::Time as_of) {
  ASSIGN_OR_RETURN(auto stored, store->ReadStream({tenant, from.id}, from.version + 1));
  Customer c = std::move(from);
  for (const auto& e : stored) {
    if (EventTime(e) > as_of) break;
    CustomerEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    c = Evolve(std::move(c), event);
  }
  return c;
}

absl::StatusOr<std::vector<CustomerEvent>> LoadEvents(eventstore::EventStore* store,
                                                      const std::string& tenant,
                                                      const std::string& customer_id) {
  ASSIGN_OR_RETURN(auto stored, store->ReadStream({tenant, customer_id}));
  std::vector<CustomerEvent> events(stored.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    RETURN_IF_ERROR(eventstore::FromStored(stored[i].type(), stored[i].payload(), &events[i]));
  }
  return events;
}

absl::StatusOr<RepPool> LoadPool(eventstore::EventStore* store, const std::string& tenant,
                                 const std::string& rep, RepPool from) {
  ASSIGN_OR_RETURN(auto stored, store->ReadStream({tenant, PoolStreamId(rep)}, from.version + 1));
  RepPool pool = std::move(from);
  pool.rep = rep;
  for (const auto& e : stored) {
    RepPoolEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    pool = Evolve(std::move(pool), event);
  }
  return pool;
}

namespace {

// The state kept under `key` (else `fresh`, an empty stream's), brought up
// to its stream's head by `replay` when `read` or when none is kept.
template <typename State, typename Replay>
absl::StatusOr<LoadedState<State>> LoadKept(KeptStates<State>& states, std::string key, State fresh,
                                            bool read, const Replay& replay) {
  LoadedState<State> out;
  out.key = std::move(key);
  auto [kept, generation] = states.Find(out.key);
  out.generation = generation;
  out.read = read || !kept;
  out.state = kept ? *kept : std::move(fresh);
  if (!out.read) return out;
  ASSIGN_OR_RETURN(out.state, replay(std::move(out.state)));
  if (out.state.version > 0 && (!kept || out.state.version != kept->version)) {
    states.Keep(out.key, out.state, generation);
  }
  return out;
}

// Keeps `from` with `events` applied, as its stream stands after they were
// appended at from.state.version.
template <typename State, typename Event>
void KeepAppended(KeptStates<State>& kept, LoadedState<State> from,
                  const std::vector<Event>& events) {
  if (events.empty()) return;
  for (const Event& e : events) from.state = Evolve(std::move(from.state), e);
  kept.Keep(from.key, std::move(from.state), from.generation);
}

}  // namespace

absl::StatusOr<LoadedState<RepPool>> CustomerCommandHandler::LoadPoolState(
    const std::string& tenant, const std::string& rep, bool read) {
  return LoadKept(pools_, absl::StrCat(tenant, std::string(1, '\0'), rep), RepPool{}, read,
                  [&](RepPool from) { return LoadPool(store_, tenant, rep, std::move(from)); });
}

absl::StatusOr<RepPool> CustomerCommandHandler::Pool(const std::string& tenant,
                                                     const std::string& rep) {
  ASSIGN_OR_RETURN(auto loaded, LoadPoolState(tenant, rep, /*read=*/true));
  return std::move(loaded.state);
}

absl::StatusOr<LoadedState<Customer>> CustomerCommandHandler::LoadCustomerState(
    const std::string& tenant, const std::string& customer_id, bool read) {
  Customer fresh;
  fresh.id = customer_id;
  return LoadKept(customers_, absl::StrCat(tenant, std::string(1, '\0'), customer_id),
                  std::move(fresh), read,
                  [&](Customer from) { return ReplayCustomer(store_, tenant, std::move(from)); });
}

absl::StatusOr<Customer> CustomerCommandHandler::Current(const std::string& tenant,
                                                         const std::string& customer_id) {
  ASSIGN_OR_RETURN(auto loaded, LoadCustomerState(tenant, customer_id, /*read=*/true));
  return std::move(loaded.state);
}

absl::Status CustomerCommandHandler::Execute(
    const std::string& tenant, const std::string& request_id, const std::string& customer_id,
    const std::function<std::string(const Customer&)>& pool_of, const DecideFn& decide,
    bool* appended_by_this_call) {
  if (appended_by_this_call) *appended_by_this_call = false;
  bool read = false;  // whether to read the states up to their heads
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(LoadedState<Customer> c, LoadCustomerState(tenant, customer_id, read));
    const std::string rep = pool_of(c.state);
    LoadedState<RepPool> pool;
    if (!rep.empty()) {
      ASSIGN_OR_RETURN(pool, LoadPoolState(tenant, rep, read));
    }
    auto decided = decide(c.state, pool.state);
    if (!c.read || !pool.read) {
      if (!decided.ok() || (decided->customer.empty() && decided->pool.empty())) {
        read = true;
        continue;
      }
    }
    if (!decided.ok()) {
      return eventstore::AppendedMeanwhileOr(*store_, tenant, request_id, decided.status());
    }
    Decision d = *std::move(decided);
    if (d.customer.empty() && d.pool.empty()) return absl::OkStatus();
    std::vector<eventstore::StreamAppend> appends;
    if (!d.customer.empty()) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(d.customer));
      appends.push_back({{tenant, customer_id}, c.state.version, std::move(events)});
    }
    if (!d.pool.empty()) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(d.pool));
      appends.push_back({{tenant, PoolStreamId(rep)}, pool.state.version, std::move(events)});
    }
    if (!d.other_pool.empty()) {
      ASSIGN_OR_RETURN(auto events, eventstore::ToNewEvents(d.other_pool));
      appends.push_back(
          {{tenant, PoolStreamId(d.other_rep)}, d.other_pool_version, std::move(events)});
    }
    bool replayed = false;
    auto appended = store_->AppendMany(std::move(appends), request_id, &replayed);
    if (appended.ok()) {
      // A concurrent retry of this request may have appended first: then its
      // decision stands, not this one.
      if (appended_by_this_call) *appended_by_this_call = !replayed;
      if (!replayed) {
        KeepAppended(customers_, std::move(c), d.customer);
        if (!rep.empty()) KeepAppended(pools_, std::move(pool), d.pool);
      }
      return absl::OkStatus();
    }
    if (appended.status().code() != absl::StatusCode::kAborted) return appended.status();
    read = true;
  }
  return absl::AbortedError("the customer kept changing under this command; retry it");
}

absl::StatusOr<Customer> CustomerCommandHandler::Get(const std::string& tenant,
                                                     const std::string& customer_id,
                                                     absl::Time as_of) {
  ASSIGN_OR_RETURN(Customer c, as_of == absl::InfiniteFuture()
                                   ? Current(tenant, customer_id)
                                   : LoadCustomer(store_, tenant, customer_id, as_of));
  if (!c.exists()) {
    return absl::NotFoundError(absl::StrCat(
        "customer ", customer_id, " does not exist",
        as_of == absl::InfiniteFuture()
            ? ""
            : absl::StrCat(" as of ",
                           absl::FormatTime(absl::RFC3339_full, as_of, absl::UTCTimeZone()))));
  }
  return c;
}

absl::StatusOr<std::vector<CustomerCommandHandler::HistoryEntry>> CustomerCommandHandler::History(
    const std::string& tenant, const std::string& customer_id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, customer_id}));
  if (stored.empty()) return absl::NotFoundError("customer " + customer_id + " does not exist");
  std::vector<HistoryEntry> out;
  Customer c;
  c.id = customer_id;
  for (const auto& e : stored) {
    CustomerEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    c = Evolve(std::move(c), event);
    out.push_back({EventTime(e), e.version(), e.type(), Describe(event), c.owner});
  }
  return out;
}

absl::StatusOr<RepPool> CustomerCommandHandler::GetPool(const std::string& tenant,
                                                        const std::string& rep) {
  return Pool(tenant, rep);
}

absl::StatusOr<Customer> CustomerCommandHandler::Create(const std::string& tenant,
                                                        const std::string& request_id,
                                                        CreateCustomer cmd) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());
  cmd.now = clock_->Now();
  cmd.customer_id = eventstore::NewTimeOrderedId('c', cmd.now);
  ASSIGN_OR_RETURN(cmd.matches, DetectMatches(tenant, cmd.profile, ""));
  const std::string user = cmd.user;
  const bool into_public = cmd.into_public_pool;
  RETURN_IF_ERROR(Execute(
      tenant, request_id, cmd.customer_id,
      [&](const Customer&) { return into_public ? std::string() : user; },
      [&](const Customer& c, const RepPool& pool) { return Decide(c, pool, cmd, policy); }));
  ASSIGN_OR_RETURN(auto first, store_->FindRequest(tenant, request_id));
  return Get(tenant, first ? first->stream_id() : cmd.customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::Update(const std::string& tenant,
                                                        const std::string& request_id,
                                                        const std::string& customer_id,
                                                        const std::string& etag,
                                                        UpdateProfile cmd) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  int64_t expected = -1;
  if (!etag.empty() && !absl::SimpleAtoi(etag, &expected)) {
    FieldViolations v;
    v.Add("customer.etag", "is not an etag this service issued");
    return v.ToStatus();
  }
  cmd.now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer&) { return std::string(); },
      [&](const Customer& c, const RepPool&) -> absl::StatusOr<Decision> {
        if (expected >= 0 && c.exists() && c.version != expected) {
          return absl::AbortedError(
              absl::StrCat("etag ", expected, " is stale: the customer is at ", c.version));
        }
        return Decide(c, cmd, policy);
      }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::EraseContact(const std::string& tenant,
                                                              const std::string& request_id,
                                                              const std::string& customer_id,
                                                              customer::EraseContact cmd) {
  if (vault_ == nullptr) return absl::FailedPreconditionError("this process has no key store");
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, customer_id);
  ASSIGN_OR_RETURN(Customer c, Current(tenant, customer_id));
  ASSIGN_OR_RETURN(const std::string person, PersonOf(c, cmd.contact_id));
  if (person.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "contact ", cmd.contact_id, " was stored before personal data was sealed per person"));
  }
  // The key goes first: once it is gone, every copy is unreadable, and the
  // event below only records it (a retry after a failure appends it then).
  RETURN_IF_ERROR(vault_->Erase(tenant, person));
  // The person may be a contact of other customers too: their kept states
  // hold the person's opened data, which replaying now cannot.
  customers_.Clear();
  cmd.now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer&) { return std::string(); },
      [&](const Customer& fresh, const RepPool&) { return Decide(fresh, cmd); }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::Claim(const std::string& tenant,
                                                       const std::string& request_id,
                                                       const std::string& customer_id,
                                                       const std::string& user) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(Customer current, Current(tenant, customer_id));
  std::vector<ev::ConflictMatch> matches;
  if (current.exists() && !current.is_private()) {
    ASSIGN_OR_RETURN(matches, DetectMatches(tenant, current.profile, customer_id));
  }
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [&](const Customer&) { return user; },
      [&](const Customer& c, const RepPool& pool) {
        return Decide(c, pool, customer::Claim{user, now, matches}, policy);
      }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::Reserve(const std::string& tenant,
                                                         const std::string& request_id,
                                                         const std::string& customer_id,
                                                         const std::string& user) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [&](const Customer&) { return user; },
      [&](const Customer& c, const RepPool& pool) {
        return Decide(c, pool, customer::Reserve{user, now}, policy);
      }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::CancelReservation(const std::string& tenant,
                                                                   const std::string& request_id,
                                                                   const std::string& customer_id,
                                                                   const std::string& user) {
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [&](const Customer&) { return user; },
      [&](const Customer& c, const RepPool& pool) {
        return Decide(c, pool, customer::CancelReservation{user, now});
      }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::Release(const std::string& tenant,
                                                         const std::string& request_id,
                                                         const std::string& customer_id,
                                                         const std::string& user,
                                                         const std::string& note) {
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [&](const Customer&) { return user; },
      [&](const Customer& c, const RepPool& pool) {
        return Decide(c, pool, customer::Release{user, note, now});
      }));
  return Get(tenant, customer_id);
}

absl::StatusOr<ev::TouchRecorded> CustomerCommandHandler::RecordTouch(
    const std::string& tenant, const std::string& request_id, const std::string& customer_id,
    customer::RecordTouch cmd) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  cmd.now = clock_->Now();
  cmd.touch_id = eventstore::NewTimeOrderedId('t', cmd.now);
  std::optional<ev::TouchRecorded> decided;
  bool appended = false;
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer&) { return std::string(); },
      [&](const Customer& c, const RepPool&) -> absl::StatusOr<Decision> {
        ASSIGN_OR_RETURN(Decision d, Decide(c, cmd, policy));
        decided.reset();
        for (const CustomerEvent& e : d.customer) {
          if (e.has_touch_recorded()) decided = e.touch_recorded();
        }
        return d;
      },
      &appended));
  if (appended && decided) return *std::move(decided);
  // A retry: the touch the first attempt recorded, reading only the events
  // its receipt names, not the whole stream again.
  ASSIGN_OR_RETURN(auto receipt, store_->FindRequest(tenant, request_id));
  if (receipt && receipt->stream_id() == customer_id) {
    ASSIGN_OR_RETURN(auto stored,
                     store_->ReadStream({tenant, customer_id}, receipt->first_version()));
    for (const auto& stored_event : stored) {
      if (stored_event.version() > receipt->last_version()) break;
      CustomerEvent e;
      RETURN_IF_ERROR(eventstore::FromStored(stored_event.type(), stored_event.payload(), &e));
      if (e.has_touch_recorded()) return e.touch_recorded();
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("request id ", request_id, " was used for another command"));
}

absl::StatusOr<std::vector<ev::ConflictMatch>> CustomerCommandHandler::DetectMatches(
    const std::string& tenant, const Profile& profile, const std::string& exclude) {
  if (!match_lookup_) return std::vector<ev::ConflictMatch>{};
  ASSIGN_OR_RETURN(auto matches, match_lookup_(tenant, MatchKeys(profile), exclude));
  for (ev::ConflictMatch& m : matches) {
    ASSIGN_OR_RETURN(Customer other, Current(tenant, m.customer_id()));
    m.set_owner_id(other.owner);
  }
  return matches;
}

absl::StatusOr<ev::ConflictJudged> CustomerCommandHandler::FileConflict(
    const std::string& tenant, const std::string& request_id, const std::string& customer_id,
    const std::string& claimant_customer_id, const std::string& user, const std::string& note) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  const absl::Time now = clock_->Now();
  const customer::FileConflict cmd{eventstore::NewTimeOrderedId('x', now), user, note, now};
  // The conflict an earlier attempt of the request recorded on `stream`.
  auto recorded = [&](const std::string& stream) -> absl::StatusOr<ev::ConflictJudged> {
    if (!absl::StartsWith(stream, "conflict:")) {
      return absl::FailedPreconditionError(
          absl::StrCat("request id ", request_id, " was used for another command"));
    }
    return GetConflict(tenant, stream.substr(std::string("conflict:").size()));
  };
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return recorded(seen->stream_id());
    ASSIGN_OR_RETURN(auto disputed, LoadEvents(store_, tenant, customer_id));
    if (disputed.empty()) return absl::NotFoundError("customer " + customer_id + " does not exist");
    ASSIGN_OR_RETURN(auto claimant, LoadEvents(store_, tenant, claimant_customer_id));
    if (claimant.empty()) {
      return absl::NotFoundError("claimant_customer " + claimant_customer_id + " does not exist");
    }
    // The company's other records, as the match index knows them.
    std::vector<std::vector<CustomerEvent>> related;
    if (match_lookup_) {
      Customer d;
      for (const auto& e : disputed) d = Evolve(std::move(d), e);
      ASSIGN_OR_RETURN(auto matches, match_lookup_(tenant, MatchKeys(d.profile), customer_id));
      for (const auto& m : matches) {
        if (m.customer_id() == claimant_customer_id) continue;
        ASSIGN_OR_RETURN(related.emplace_back(), LoadEvents(store_, tenant, m.customer_id()));
      }
    }
    auto decided = Decide(disputed, claimant, cmd, related);
    if (!decided.ok()) {
      ASSIGN_OR_RETURN(seen, store_->FindRequest(tenant, request_id));
      if (seen) return recorded(seen->stream_id());
      return decided.status();
    }
    ConflictDecision d = *std::move(decided);
    ASSIGN_OR_RETURN(RepPool loser, Pool(tenant, d.verdict.loser_id()));
    ASSIGN_OR_RETURN(RepPool winner, Pool(tenant, d.verdict.winner_id()));
    ConflictEvent judged;
    *judged.mutable_judged() = d.verdict;
    std::vector<eventstore::StreamAppend> appends;
    ASSIGN_OR_RETURN(auto e0, eventstore::ToNewEvents(std::vector<ConflictEvent>{judged}));
    appends.push_back({{tenant, ConflictStreamId(cmd.conflict_id)}, 0, std::move(e0)});
    ASSIGN_OR_RETURN(auto e1, eventstore::ToNewEvents(std::vector<CustomerEvent>{d.on_disputed}));
    appends.push_back({{tenant, customer_id}, int64_t(disputed.size()), std::move(e1)});
    ASSIGN_OR_RETURN(auto e2, eventstore::ToNewEvents(std::vector<CustomerEvent>{d.on_claimant}));
    appends.push_back({{tenant, claimant_customer_id}, int64_t(claimant.size()), std::move(e2)});
    std::vector<RepPoolEvent> lost = LoseConflict(loser, cmd.conflict_id, now, policy);
    lost.insert(lost.begin(), d.loser_pool);
    ASSIGN_OR_RETURN(auto e3, eventstore::ToNewEvents(lost));
    appends.push_back({{tenant, PoolStreamId(loser.rep)}, loser.version, std::move(e3)});
    ASSIGN_OR_RETURN(auto e4, eventstore::ToNewEvents(std::vector<RepPoolEvent>{d.winner_pool}));
    appends.push_back({{tenant, PoolStreamId(winner.rep)}, winner.version, std::move(e4)});
    auto appended = store_->AppendMany(std::move(appends), request_id);
    if (appended.ok()) {
      // A concurrent retry of the request may have been first: its receipt
      // names the conflict it recorded, which is the answer to both.
      const std::string& stream = appended->front().stream_id();
      if (stream == ConflictStreamId(cmd.conflict_id)) return d.verdict;
      return recorded(stream);
    }
    if (appended.status().code() != absl::StatusCode::kAborted) return appended.status();
  }
  return absl::AbortedError("the customers kept changing under this conflict claim; retry it");
}

absl::StatusOr<ev::ConflictJudged> CustomerCommandHandler::GetConflict(
    const std::string& tenant, const std::string& conflict_id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, ConflictStreamId(conflict_id)}));
  if (stored.empty()) return absl::NotFoundError("conflict " + conflict_id + " does not exist");
  ConflictEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(stored.front().type(), stored.front().payload(), &e));
  return e.judged();
}

absl::StatusOr<Customer> CustomerCommandHandler::NoteContract(const std::string& tenant,
                                                              const std::string& customer_id,
                                                              customer::NoteContract cmd) {
  RETURN_IF_ERROR(Execute(
      tenant, absl::StrCat("contract-signed:", cmd.contract_id), customer_id,
      [](const Customer&) { return std::string(); },
      [&](const Customer& c, const RepPool&) { return Decide(c, cmd); }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::NoteOpportunity(const std::string& tenant,
                                                                 const std::string& request_id,
                                                                 const std::string& customer_id,
                                                                 customer::NoteOpportunity cmd) {
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer&) { return std::string(); },
      [&](const Customer& c, const RepPool&) { return Decide(c, cmd); }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::RecordEngagement(const std::string& tenant,
                                                                  const std::string& request_id,
                                                                  const std::string& customer_id,
                                                                  customer::RecordEngagement cmd) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  cmd.now = clock_->Now();
  cmd.engagement_id = eventstore::NewTimeOrderedId('g', cmd.now);
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer&) { return std::string(); },
      [&](const Customer& c, const RepPool&) { return Decide(c, cmd, policy); }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::RecordSales(const std::string& tenant,
                                                             const std::string& request_id,
                                                             const std::string& customer_id,
                                                             customer::RecordSales cmd) {
  cmd.now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer&) { return std::string(); },
      [&](const Customer& c, const RepPool&) { return Decide(c, cmd); }));
  return Get(tenant, customer_id);
}

absl::StatusOr<ev::SegmentSaved> CustomerCommandHandler::SaveSegment(const std::string& tenant,
                                                                     const std::string& request_id,
                                                                     customer::SaveSegment cmd) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (!seen) {
    cmd.now = clock_->Now();
    cmd.segment_id = eventstore::NewTimeOrderedId('s', cmd.now);
    ASSIGN_OR_RETURN(ev::SegmentSaved saved, Decide(cmd));
    ev::SegmentEvent e;
    *e.mutable_saved() = std::move(saved);
    ASSIGN_OR_RETURN(auto encoded, eventstore::ToNewEvents(std::vector<ev::SegmentEvent>{e}));
    RETURN_IF_ERROR(
        store_->Append({tenant, SegmentStreamId(cmd.segment_id)}, 0, std::move(encoded), request_id)
            .status());
    ASSIGN_OR_RETURN(seen, store_->FindRequest(tenant, request_id));
  }
  if (!seen || !absl::StartsWith(seen->stream_id(), "segment:")) {
    return absl::FailedPreconditionError(
        absl::StrCat("request id ", request_id, " was used for another command"));
  }
  return GetSegment(tenant, seen->stream_id().substr(std::string("segment:").size()));
}

absl::StatusOr<ev::SegmentSaved> CustomerCommandHandler::GetSegment(const std::string& tenant,
                                                                    const std::string& segment_id) {
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, SegmentStreamId(segment_id)}));
  if (stored.empty()) return absl::NotFoundError("segment " + segment_id + " does not exist");
  ev::SegmentEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(stored.front().type(), stored.front().payload(), &e));
  return e.saved();
}

absl::StatusOr<RepPool> CustomerCommandHandler::ReviewStanding(const std::string& tenant,
                                                               const std::string& rep,
                                                               int32_t customers,
                                                               int32_t average_completeness) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  const absl::Time now = clock_->Now();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(RepPool pool, Pool(tenant, rep));
    pool.rep = rep;
    auto events = customer::ReviewStanding(pool, customers, average_completeness, now, policy);
    if (events.empty()) return pool;
    ASSIGN_OR_RETURN(auto encoded, eventstore::ToNewEvents(events));
    // Derived from the state decided on: the same state is reviewed once.
    auto r = store_->Append({tenant, PoolStreamId(rep)}, pool.version, std::move(encoded),
                            absl::StrCat("standing:", rep, ":", pool.version));
    if (r.ok()) return Pool(tenant, rep);
    if (r.status().code() != absl::StatusCode::kAborted) return r.status();
  }
  return absl::AbortedError("the pool kept changing under the standing review; retry it");
}

absl::StatusOr<Policy> CustomerCommandHandler::PolicyFor(const std::string& tenant) {
  // Every decision asks: one point read of the stream head, and the last
  // event (it carries the whole settings) only when it changed.
  ASSIGN_OR_RETURN(const int64_t version, store_->StreamVersion({tenant, kPolicyStream}));
  if (version == 0) return defaults_;
  {
    std::lock_guard<std::mutex> lock(policies_mu_);
    auto it = policies_.find(tenant);
    if (it != policies_.end() && it->second.first == version) return it->second.second;
  }
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, kPolicyStream}, version));
  if (stored.empty()) return absl::DataLossError("policy stream head without its event");
  ev::PolicyEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(stored.back().type(), stored.back().payload(), &e));
  Policy policy = FromSettings(e.set().settings());
  std::lock_guard<std::mutex> lock(policies_mu_);
  policies_[tenant] = {version, policy};
  return policy;
}

absl::StatusOr<Policy> CustomerCommandHandler::UpdatePolicy(const std::string& tenant,
                                                            const std::string& request_id,
                                                            customer::UpdatePolicy cmd) {
  cmd.now = clock_->Now();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return PolicyFor(tenant);
    ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, kPolicyStream}));
    ASSIGN_OR_RETURN(const Policy current, PolicyFor(tenant));
    ASSIGN_OR_RETURN(ev::TenantPolicySet set, Decide(current, cmd));
    ev::PolicyEvent e;
    *e.mutable_set() = std::move(set);
    ASSIGN_OR_RETURN(auto encoded, eventstore::ToNewEvents(std::vector<ev::PolicyEvent>{e}));
    auto r = store_->Append({tenant, kPolicyStream}, static_cast<int64_t>(stored.size()),
                            std::move(encoded), request_id);
    if (r.ok()) return PolicyFor(tenant);
    if (r.status().code() != absl::StatusCode::kAborted) return r.status();
  }
  return absl::AbortedError("the policy kept changing under this update; retry it");
}

absl::StatusOr<RepPool> CustomerCommandHandler::SetCapacity(const std::string& tenant,
                                                            const std::string& request_id,
                                                            const std::string& rep,
                                                            customer::SetCapacity cmd) {
  bool done = false;
  for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) break;
    ASSIGN_OR_RETURN(RepPool pool, Pool(tenant, rep));
    pool.rep = rep;
    ASSIGN_OR_RETURN(auto events, Decide(pool, cmd));
    ASSIGN_OR_RETURN(auto encoded, eventstore::ToNewEvents(events));
    auto r =
        store_->Append({tenant, PoolStreamId(rep)}, pool.version, std::move(encoded), request_id);
    if (!r.ok() && r.status().code() != absl::StatusCode::kAborted) return r.status();
    done = r.ok();
  }
  ASSIGN_OR_RETURN(auto applied, store_->FindRequest(tenant, request_id));
  if (!applied) return absl::AbortedError("the pool kept changing under this command; retry it");
  return Pool(tenant, rep);
}

absl::StatusOr<Customer> CustomerCommandHandler::EnforceDropProtection(
    const std::string& tenant, const std::string& customer_id) {
  ASSIGN_OR_RETURN(const Policy policy, PolicyFor(tenant));
  ASSIGN_OR_RETURN(Customer current, Get(tenant, customer_id));
  const absl::Time now = clock_->Now();
  // Derived from the state decided on: the same state never acts twice.
  const std::string request_id =
      absl::StrCat("drop-protection:", customer_id, ":", current.version);
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id,
      [](const Customer& c) { return c.is_private() ? c.owner : c.reserved_by; },
      [&](const Customer& c, const RepPool& pool) -> absl::StatusOr<Decision> {
        if (c.version != current.version) return Decision{};  // changed meanwhile: next tick
        if (!policy.drop_back_to_previous_owner || c.previous_owner.empty()) {
          return customer::EnforceDropProtection(c, pool, now, policy);
        }
        ASSIGN_OR_RETURN(RepPool previous, Pool(tenant, c.previous_owner));
        return customer::EnforceDropProtection(c, pool, now, policy, &previous);
      }));
  return Get(tenant, customer_id);
}

}  // namespace crm::customer
