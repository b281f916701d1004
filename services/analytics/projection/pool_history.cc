#include "services/analytics/projection/pool_history.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"
#include "services/analytics/projection/rows.h"

namespace crm::analytics {
namespace {

namespace cev = crm::customer::events::v1;

const std::string kSep(1, '\0');

std::string ReleaseHow(cev::ReleaseReason r) {
  switch (r) {
    case cev::RELEASE_REASON_NO_VALID_FOLLOW_UP:
      return "released:no-valid-follow-up";
    case cev::RELEASE_REASON_NO_SIGNED_CONTRACT:
      return "released:no-signed-contract";
    default:
      return "released:by-owner";
  }
}

// What drop protection reads of a customer event, nothing personal or free
// text: ownership moves, the segment, valid follow-ups, signed contracts.
std::optional<cev::CustomerEvent> DropFact(const cev::CustomerEvent& e) {
  cev::CustomerEvent kept;
  switch (e.event_case()) {
    case cev::CustomerEvent::kCreated: {
      auto* c = kept.mutable_created();
      c->set_customer_id(e.created().customer_id());
      c->set_owner_id(e.created().owner_id());
      *c->mutable_create_time() = e.created().create_time();
      c->mutable_profile()->set_segment(e.created().profile().segment());
      return kept;
    }
    case cev::CustomerEvent::kProfileUpdated:
      kept.mutable_profile_updated()->mutable_profile()->set_segment(
          e.profile_updated().profile().segment());
      return kept;
    case cev::CustomerEvent::kTouchRecorded:
      if (!e.touch_recorded().valid()) return std::nullopt;
      kept.mutable_touch_recorded()->set_valid(true);
      *kept.mutable_touch_recorded()->mutable_touch_time() = e.touch_recorded().touch_time();
      return kept;
    case cev::CustomerEvent::kReleased:
      kept = e;
      kept.mutable_released()->clear_note();
      return kept;
    case cev::CustomerEvent::kClaimed:
    case cev::CustomerEvent::kConflictSettled:
    case cev::CustomerEvent::kContractSignedNoted:
      return e;
    default:
      return std::nullopt;
  }
}

void PoolEvent(const readstore::StoredEvent& e, readstore::RowWriter& rows,
               absl::string_view kind) {
  rows.Put(RowKey(e.tenant(), "pool-event", EventWhen(e) + kSep + e.stream_id()), kind);
}

void Owned(const readstore::StoredEvent& e, readstore::RowWriter& rows, const std::string& customer,
           const std::string& owner, const std::string& how) {
  rows.Put(RowKey(e.tenant(), "own", customer + kSep + EventWhen(e)), owner + "\n" + how);
}

// Calls `each(key after prefix, value)` for every row under `prefix`.
absl::Status Each(readstore::ReadStore* store, const std::string& prefix,
                  const std::function<void(absl::string_view, absl::string_view)>& each) {
  return store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    each(key.substr(prefix.size()), value);
    return true;
  });
}

}  // namespace

absl::Status PoolHistoryProjection::Apply(const readstore::StoredEvent& event,
                                          readstore::RowWriter& rows) {
  const std::string& tenant = event.tenant();
  cev::RepPoolEvent pool;
  ASSIGN_OR_RETURN(const bool is_pool,
                   eventstore::DecodeIfOwn(event.type(), event.payload(), &pool));
  if (is_pool) {
    if (pool.has_customer_added() || pool.has_customer_removed()) {
      const bool in = pool.has_customer_added();
      const std::string& rep =
          in ? pool.customer_added().rep_id() : pool.customer_removed().rep_id();
      const std::string& customer =
          in ? pool.customer_added().customer_id() : pool.customer_removed().customer_id();
      rows.Put(RowKey(tenant, "held", rep + kSep + customer + kSep + EventWhen(event)),
               in ? "1" : "0");
    }
    return absl::OkStatus();
  }
  cev::ConflictEvent conflict;
  ASSIGN_OR_RETURN(const bool is_conflict,
                   eventstore::DecodeIfOwn(event.type(), event.payload(), &conflict));
  if (is_conflict) {
    if (conflict.has_judged()) PoolEvent(event, rows, "conflict");
    return absl::OkStatus();
  }
  cev::PolicyEvent policy;
  ASSIGN_OR_RETURN(const bool is_policy,
                   eventstore::DecodeIfOwn(event.type(), event.payload(), &policy));
  if (is_policy) {
    rows.Put(RowKey(tenant, "policy", EventWhen(event)),
             policy.set().settings().SerializeAsString());
    return absl::OkStatus();
  }
  cev::CustomerEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();  // segments
  if (std::optional<cev::CustomerEvent> kept = DropFact(e)) {
    rows.Put(RowKey(tenant, "drop-fact", event.stream_id() + kSep + EventWhen(event)),
             kept->SerializeAsString());
  }
  const std::string completeness_key =
      RowKey(tenant, "compl", event.stream_id() + kSep + EventWhen(event));
  switch (e.event_case()) {
    case cev::CustomerEvent::kCreated:
      Owned(event, rows, e.created().customer_id(), e.created().owner_id(), "created");
      rows.Put(completeness_key, absl::StrCat(e.created().completeness()));
      break;
    case cev::CustomerEvent::kProfileUpdated:
      rows.Put(completeness_key, absl::StrCat(e.profile_updated().completeness()));
      break;
    case cev::CustomerEvent::kClaimed:
      Owned(event, rows, e.claimed().customer_id(), e.claimed().owner_id(), "claimed");
      PoolEvent(event, rows, "claim");
      break;
    case cev::CustomerEvent::kReleased: {
      const auto& r = e.released();
      Owned(event, rows, r.customer_id(), "", ReleaseHow(r.reason()));
      PoolEvent(event, rows,
                r.reason() == cev::RELEASE_REASON_BY_OWNER ||
                        r.reason() == cev::RELEASE_REASON_UNSPECIFIED
                    ? "release-owner"
                    : "release-drop");
      break;
    }
    case cev::CustomerEvent::kConflictSettled: {
      const auto& s = e.conflict_settled();
      if (s.owner_id() != s.previous_owner_id()) {
        Owned(event, rows, s.customer_id(), s.owner_id(), "conflict:" + s.conflict_id());
      }
      break;
    }
    case cev::CustomerEvent::kReserved:
      PoolEvent(event, rows, "reserve");
      break;
    case cev::CustomerEvent::kReservationSecured:
      PoolEvent(event, rows, "secure");
      break;
    case cev::CustomerEvent::kReservationEnded:
      PoolEvent(event, rows,
                e.reservation_ended().reason() == cev::RESERVATION_END_REASON_LAPSED
                    ? "lapse"
                    : "reservation-end");
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Ownership> BuildOwnership(readstore::ReadStore* store, const std::string& tenant,
                                             const std::string& customer_id, absl::Time as_of) {
  v1::Ownership out;
  out.set_customer_id(customer_id);
  RETURN_IF_ERROR(Each(store, RowKey(tenant, "own", customer_id + kSep),
                       [&](absl::string_view when, absl::string_view value) {
                         const absl::Time at = WhenTime(when);
                         if (at > as_of) return;
                         const size_t nl = value.find('\n');
                         if (out.spans_size() > 0) {
                           *out.mutable_spans(out.spans_size() - 1)->mutable_to() = ToTimestamp(at);
                         }
                         v1::OwnershipSpan* span = out.add_spans();
                         span->set_owner_id(std::string(value.substr(0, nl)));
                         *span->mutable_from() = ToTimestamp(at);
                         span->set_how(std::string(value.substr(nl + 1)));
                       }));
  if (out.spans().empty()) {
    return absl::NotFoundError("customer " + customer_id + " did not exist then");
  }
  out.set_owner_id(out.spans(out.spans_size() - 1).owner_id());
  return out;
}

absl::StatusOr<v1::RepPoolAsOf> BuildRepPool(readstore::ReadStore* store, const std::string& tenant,
                                             const std::string& rep_id, absl::Time as_of) {
  std::map<std::string, bool> held;  // customer -> in the pool at as_of
  RETURN_IF_ERROR(Each(store, RowKey(tenant, "held", rep_id + kSep),
                       [&](absl::string_view rest, absl::string_view value) {
                         if (WhenTime(rest.substr(rest.size() - 16)) > as_of) return;
                         held[std::string(rest.substr(0, rest.size() - 17))] = value == "1";
                       }));
  v1::RepPoolAsOf out;
  out.set_rep_id(rep_id);
  for (const auto& [customer, in] : held) {
    if (in) out.add_customer_ids(customer);
  }
  return out;
}

absl::StatusOr<v1::PoolHealth> BuildPoolHealth(readstore::ReadStore* store,
                                               const std::string& tenant, const Window& w) {
  v1::PoolHealth out;
  std::map<std::string, std::string> owner;  // customer -> owner at as_of
  RETURN_IF_ERROR(
      Each(store, RowKey(tenant, "own"), [&](absl::string_view rest, absl::string_view value) {
        if (WhenTime(rest.substr(rest.size() - 16)) > w.as_of) return;
        owner[std::string(rest.substr(0, rest.size() - 17))] =
            std::string(value.substr(0, value.find('\n')));
      }));
  std::map<std::string, int> completeness;
  RETURN_IF_ERROR(
      Each(store, RowKey(tenant, "compl"), [&](absl::string_view rest, absl::string_view value) {
        if (WhenTime(rest.substr(rest.size() - 16)) > w.as_of) return;
        int c = 0;
        if (absl::SimpleAtoi(value, &c))
          completeness[std::string(rest.substr(0, rest.size() - 17))] = c;
      }));
  out.set_customers(static_cast<int64_t>(owner.size()));
  std::vector<int64_t> buckets(5, 0);
  int64_t sum = 0;
  for (const auto& [customer, o] : owner) {
    if (o.empty()) {
      out.set_public_pool(out.public_pool() + 1);
    } else {
      out.set_private_pool(out.private_pool() + 1);
    }
    const int c = completeness.count(customer) ? completeness[customer] : 0;
    ++buckets[std::min(c / 20, 4)];
    sum += c;
  }
  for (int64_t b : buckets) out.add_completeness_buckets(b);
  if (!owner.empty())
    out.set_average_completeness(static_cast<int32_t>(sum / static_cast<int64_t>(owner.size())));
  int64_t reserved = 0, ended = 0;
  RETURN_IF_ERROR(Each(
      store, RowKey(tenant, "pool-event"), [&](absl::string_view rest, absl::string_view kind) {
        const absl::Time at = WhenTime(rest);
        if (at > w.as_of) return;
        if (kind == "reserve") ++reserved;
        if (kind == "lapse" || kind == "reservation-end") ++ended;
        if (at < w.from || at >= w.to) return;
        if (kind == "claim") out.set_claims(out.claims() + 1);
        if (kind == "release-owner") out.set_releases_by_owner(out.releases_by_owner() + 1);
        if (kind == "release-drop")
          out.set_releases_by_drop_protection(out.releases_by_drop_protection() + 1);
        if (kind == "conflict") out.set_conflicts_judged(out.conflicts_judged() + 1);
        if (kind == "reserve") out.set_reservations_made(out.reservations_made() + 1);
        if (kind == "secure") out.set_reservations_secured(out.reservations_secured() + 1);
        if (kind == "lapse") out.set_reservations_lapsed(out.reservations_lapsed() + 1);
      }));
  out.set_reservations_open(reserved - ended);
  return out;
}

}  // namespace crm::analytics
