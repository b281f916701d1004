#include "services/customer/app/customer_commands.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/eventstore/codec.h"
#include "libs/eventstore/ids.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

constexpr int kMaxAttempts = 16;

absl::Time EventTime(const eventstore::StoredEvent& e) {
  return absl::FromUnixSeconds(e.time().seconds()) + absl::Nanoseconds(e.time().nanos());
}

template <typename Event>
absl::StatusOr<std::vector<eventstore::NewEvent>> Encode(const std::vector<Event>& events) {
  std::vector<eventstore::NewEvent> out;
  for (const auto& e : events) {
    ASSIGN_OR_RETURN(auto ne, eventstore::ToNewEvent(e));
    out.push_back(std::move(ne));
  }
  return out;
}

}  // namespace

absl::StatusOr<Customer> LoadCustomer(eventstore::EventStore* store, const std::string& tenant,
                                      const std::string& customer_id, absl::Time as_of) {
  ASSIGN_OR_RETURN(auto stored, store->ReadStream({tenant, customer_id}));
  Customer c;
  c.id = customer_id;
  for (const auto& e : stored) {
    if (EventTime(e) > as_of) break;
    CustomerEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    c = Evolve(std::move(c), event);
  }
  return c;
}

absl::StatusOr<RepPool> LoadPool(eventstore::EventStore* store, const std::string& tenant,
                                 const std::string& rep) {
  ASSIGN_OR_RETURN(auto stored, store->ReadStream({tenant, PoolStreamId(rep)}));
  RepPool pool;
  pool.rep = rep;
  for (const auto& e : stored) {
    RepPoolEvent event;
    RETURN_IF_ERROR(eventstore::FromStored(e.type(), e.payload(), &event));
    pool = Evolve(std::move(pool), event);
  }
  return pool;
}

absl::Status CustomerCommandHandler::Execute(
    const std::string& tenant, const std::string& request_id, const std::string& customer_id,
    const std::function<std::string(const Customer&)>& pool_of, const DecideFn& decide) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) return absl::OkStatus();
    ASSIGN_OR_RETURN(Customer c, LoadCustomer(store_, tenant, customer_id));
    const std::string rep = pool_of(c);
    RepPool pool;
    if (!rep.empty()) {
      ASSIGN_OR_RETURN(pool, LoadPool(store_, tenant, rep));
    }
    ASSIGN_OR_RETURN(Decision d, decide(c, pool));
    if (d.customer.empty() && d.pool.empty()) return absl::OkStatus();
    std::vector<eventstore::StreamAppend> appends;
    if (!d.customer.empty()) {
      ASSIGN_OR_RETURN(auto events, Encode(d.customer));
      appends.push_back({{tenant, customer_id}, c.version, std::move(events)});
    }
    if (!d.pool.empty()) {
      ASSIGN_OR_RETURN(auto events, Encode(d.pool));
      appends.push_back({{tenant, PoolStreamId(rep)}, pool.version, std::move(events)});
    }
    auto appended = store_->AppendMany(std::move(appends), request_id);
    if (appended.ok()) return absl::OkStatus();
    if (appended.status().code() != absl::StatusCode::kAborted) return appended.status();
  }
  return absl::AbortedError("the customer kept changing under this command; retry it");
}

absl::StatusOr<Customer> CustomerCommandHandler::Get(const std::string& tenant,
                                                     const std::string& customer_id,
                                                     absl::Time as_of) {
  ASSIGN_OR_RETURN(Customer c, LoadCustomer(store_, tenant, customer_id, as_of));
  if (!c.exists()) {
    return absl::NotFoundError(absl::StrCat(
        "customer ", customer_id, " does not exist",
        as_of == absl::InfiniteFuture()
            ? ""
            : absl::StrCat(" as of ", absl::FormatTime(absl::RFC3339_full, as_of,
                                                       absl::UTCTimeZone()))));
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
  return LoadPool(store_, tenant, rep);
}

absl::StatusOr<Customer> CustomerCommandHandler::Create(const std::string& tenant,
                                                        const std::string& request_id,
                                                        CreateCustomer cmd) {
  ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
  if (seen) return Get(tenant, seen->stream_id());
  cmd.now = clock_->Now();
  cmd.customer_id = eventstore::NewTimeOrderedId('c', cmd.now);
  const std::string user = cmd.user;
  const bool into_public = cmd.into_public_pool;
  RETURN_IF_ERROR(Execute(
      tenant, request_id, cmd.customer_id,
      [&](const Customer&) { return into_public ? std::string() : user; },
      [&](const Customer& c, const RepPool& pool) { return Decide(c, pool, cmd, policy_); }));
  ASSIGN_OR_RETURN(auto first, store_->FindRequest(tenant, request_id));
  return Get(tenant, first ? first->stream_id() : cmd.customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::Update(const std::string& tenant,
                                                        const std::string& request_id,
                                                        const std::string& customer_id,
                                                        const std::string& etag,
                                                        UpdateProfile cmd) {
  int64_t expected = -1;
  if (!etag.empty() && !absl::SimpleAtoi(etag, &expected)) {
    FieldViolations v;
    v.Add("customer.etag", "is not an etag this service issued");
    return v.ToStatus();
  }
  cmd.now = clock_->Now();
  RETURN_IF_ERROR(Execute(tenant, request_id, customer_id,
                          [](const Customer&) { return std::string(); },
                          [&](const Customer& c, const RepPool&) -> absl::StatusOr<Decision> {
                            if (expected >= 0 && c.exists() && c.version != expected) {
                              return absl::AbortedError(absl::StrCat(
                                  "etag ", expected, " is stale: the customer is at ", c.version));
                            }
                            return Decide(c, cmd, policy_);
                          }));
  return Get(tenant, customer_id);
}

absl::StatusOr<Customer> CustomerCommandHandler::Claim(const std::string& tenant,
                                                       const std::string& request_id,
                                                       const std::string& customer_id,
                                                       const std::string& user) {
  const absl::Time now = clock_->Now();
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [&](const Customer&) { return user; },
      [&](const Customer& c, const RepPool& pool) {
        return Decide(c, pool, customer::Claim{user, now}, policy_);
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
  cmd.now = clock_->Now();
  cmd.touch_id = eventstore::NewTimeOrderedId('t', cmd.now);
  RETURN_IF_ERROR(Execute(tenant, request_id, customer_id,
                          [](const Customer&) { return std::string(); },
                          [&](const Customer& c, const RepPool&) {
                            return Decide(c, cmd, policy_);
                          }));
  // The touch this request recorded, first attempt or retry.
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, customer_id}));
  for (auto it = stored.rbegin(); it != stored.rend(); ++it) {
    if (it->request_id() != request_id) continue;
    CustomerEvent e;
    RETURN_IF_ERROR(eventstore::FromStored(it->type(), it->payload(), &e));
    if (e.has_touch_recorded()) return e.touch_recorded();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("request id ", request_id, " was used for another command"));
}

absl::StatusOr<RepPool> CustomerCommandHandler::SetCapacity(const std::string& tenant,
                                                            const std::string& request_id,
                                                            const std::string& rep,
                                                            customer::SetCapacity cmd) {
  bool done = false;
  for (int attempt = 0; attempt < kMaxAttempts && !done; ++attempt) {
    ASSIGN_OR_RETURN(auto seen, store_->FindRequest(tenant, request_id));
    if (seen) break;
    ASSIGN_OR_RETURN(RepPool pool, LoadPool(store_, tenant, rep));
    pool.rep = rep;
    ASSIGN_OR_RETURN(auto events, Decide(pool, cmd));
    ASSIGN_OR_RETURN(auto encoded, Encode(events));
    auto r = store_->Append({tenant, PoolStreamId(rep)}, pool.version, std::move(encoded),
                            request_id);
    if (!r.ok() && r.status().code() != absl::StatusCode::kAborted) return r.status();
    done = r.ok();
  }
  ASSIGN_OR_RETURN(auto applied, store_->FindRequest(tenant, request_id));
  if (!applied) return absl::AbortedError("the pool kept changing under this command; retry it");
  return LoadPool(store_, tenant, rep);
}

absl::StatusOr<Customer> CustomerCommandHandler::EnforceDropProtection(
    const std::string& tenant, const std::string& customer_id) {
  ASSIGN_OR_RETURN(Customer current, Get(tenant, customer_id));
  const absl::Time now = clock_->Now();
  // Derived from the state decided on: the same state never acts twice.
  const std::string request_id = absl::StrCat("drop-protection:", customer_id, ":", current.version);
  RETURN_IF_ERROR(Execute(
      tenant, request_id, customer_id, [](const Customer& c) { return c.owner; },
      [&](const Customer& c, const RepPool& pool) -> absl::StatusOr<Decision> {
        if (c.version != current.version) return Decision{};  // changed meanwhile: next tick
        return customer::EnforceDropProtection(c, pool, now, policy_);
      }));
  return Get(tenant, customer_id);
}

}  // namespace crm::customer
