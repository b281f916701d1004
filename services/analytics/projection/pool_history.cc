#include "services/analytics/projection/pool_history.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"
#include "services/analytics/projection/funnel.h"
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

void PoolEvent(const readstore::StoredEvent& e, readstore::RowWriter& rows, absl::string_view kind,
               absl::string_view rep = "", int64_t amount = 0) {
  rows.Put(RowKey(e.tenant(), "pool-event", EventWhen(e) + kSep + e.stream_id()),
           absl::StrCat(kind, "\n", rep, "\n", amount));
}

void Profile(const readstore::StoredEvent& e, readstore::RowWriter& rows,
             const cev::Profile& profile) {
  rows.Put(RowKey(e.tenant(), "profile", e.stream_id() + kSep + EventWhen(e)),
           absl::StrCat(profile.region(), "\n", profile.industry()));
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

// Each customer's latest row of one kind as of a moment, for customers
// asked in ascending order from `first` (`<kind>` rows sort by customer,
// then time): a cursor walking beside another scan of customers, so a
// query over the tenant holds one customer's rows at a time.
class LatestAsOf {
 public:
  LatestAsOf(readstore::ReadStore* store, const std::string& tenant, absl::string_view kind,
             absl::Time as_of, absl::string_view first = "")
      : prefix_(RowKey(tenant, kind)),
        as_of_(as_of),
        it_(store->db()->NewIterator(rocksdb::ReadOptions(), store->rows())) {
    it_->Seek(prefix_ + std::string(first));
  }

  // The value of `customer`'s latest row by as_of; nullopt when none.
  std::optional<std::string> For(absl::string_view customer) {
    std::optional<std::string> out;
    for (; it_->Valid() && it_->key().starts_with(prefix_); it_->Next()) {
      absl::string_view rest(it_->key().data(), it_->key().size());
      rest.remove_prefix(prefix_.size());
      if (rest.size() < 17) continue;
      const absl::string_view of = rest.substr(0, rest.size() - 17);
      if (of < customer) continue;
      if (of > customer) break;
      if (WhenTime(rest.substr(rest.size() - 16)) <= as_of_) out = it_->value().ToString();
    }
    return out;
  }

  absl::Status status() const { return readstore::FromRocks(it_->status(), "scan rows"); }

 private:
  const std::string prefix_;
  const absl::Time as_of_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

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
      Profile(event, rows, e.created().profile());
      break;
    case cev::CustomerEvent::kProfileUpdated:
      rows.Put(completeness_key, absl::StrCat(e.profile_updated().completeness()));
      Profile(event, rows, e.profile_updated().profile());
      break;
    case cev::CustomerEvent::kClaimed:
      Owned(event, rows, e.claimed().customer_id(), e.claimed().owner_id(), "claimed");
      PoolEvent(event, rows, "claim", e.claimed().owner_id());
      break;
    case cev::CustomerEvent::kReleased: {
      const auto& r = e.released();
      Owned(event, rows, r.customer_id(), "", ReleaseHow(r.reason()));
      PoolEvent(event, rows,
                r.reason() == cev::RELEASE_REASON_BY_OWNER ||
                        r.reason() == cev::RELEASE_REASON_UNSPECIFIED
                    ? "release-owner"
                    : "release-drop",
                r.previous_owner_id());
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
      PoolEvent(event, rows, "reserve", e.reserved().rep_id());
      rows.Put(RowKey(tenant, "reserved-by", event.stream_id() + kSep + e.reserved().rep_id()),
               "1");
      break;
    case cev::CustomerEvent::kReservationSecured:
      PoolEvent(event, rows, "secure", e.reservation_secured().rep_id());
      break;
    case cev::CustomerEvent::kReservationEnded:
      PoolEvent(event, rows,
                e.reservation_ended().reason() == cev::RESERVATION_END_REASON_LAPSED
                    ? "lapse"
                    : "reservation-end",
                e.reservation_ended().rep_id());
      break;
    case cev::CustomerEvent::kContractSignedNoted: {
      // A reservation-lead signing: signed while owned by a rep who had
      // reserved the customer.
      const auto& s = e.contract_signed_noted();
      ASSIGN_OR_RETURN(auto reserved, rows.Get(RowKey(tenant, "reserved-by",
                                                      event.stream_id() + kSep + s.owner_id())));
      if (reserved && !s.owner_id().empty()) {
        PoolEvent(event, rows, "reservation-signing", s.owner_id(), s.amount());
      }
      break;
    }
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
                                               const std::string& tenant, const Window& w,
                                               v1::GetPoolHealthRequest::GroupBy group_by) {
  using Req = v1::GetPoolHealthRequest;
  std::map<std::string, std::string> team;  // rep -> team at as_of
  if (group_by == Req::GROUP_BY_TEAM) {
    ASSIGN_OR_RETURN(team, RepTeamsAsOf(store, tenant, w.as_of));
  }
  // The group a figure about `customer` (whose region is `region`, when
  // grouping by region) and `rep` counts for; nullopt: none.
  auto group_of = [&](const std::string& rep,
                      const std::string& region) -> std::optional<std::string> {
    switch (group_by) {
      case Req::GROUP_BY_REP:
        return rep.empty() ? std::nullopt : std::optional<std::string>(rep);
      case Req::GROUP_BY_TEAM:
        if (rep.empty()) return std::nullopt;
        return team.count(rep) ? team[rep] : "";
      case Req::GROUP_BY_REGION:
        return region;
      default:
        return std::nullopt;
    }
  };
  v1::PoolHealth out;
  std::map<std::string, v1::PoolHealth> groups;
  std::map<v1::PoolHealth*, int64_t> completeness_sum, reservations_open;
  auto health = [&](const std::optional<std::string>& group) -> v1::PoolHealth* {
    if (!group) return nullptr;
    v1::PoolHealth& g = groups[*group];
    g.set_group(*group);
    return &g;
  };
  // Customers one at a time, in id order: the owner rows, with the
  // completeness and profile rows read beside them.
  LatestAsOf completeness(store, tenant, "compl", w.as_of);
  LatestAsOf profiles(store, tenant, "profile", w.as_of);
  auto count = [&](const std::string& customer, const std::string& o) {
    int c = 0;
    if (auto value = completeness.For(customer); !value || !absl::SimpleAtoi(*value, &c)) c = 0;
    std::string region;
    if (group_by == Req::GROUP_BY_REGION) {
      if (auto value = profiles.For(customer)) region = value->substr(0, value->find('\n'));
    }
    for (v1::PoolHealth* h : {&out, health(group_of(o, region))}) {
      if (h == nullptr) continue;
      h->set_customers(h->customers() + 1);
      if (o.empty()) {
        h->set_public_pool(h->public_pool() + 1);
      } else {
        h->set_private_pool(h->private_pool() + 1);
      }
      if (h->completeness_buckets_size() == 0) h->mutable_completeness_buckets()->Resize(5, 0);
      h->set_completeness_buckets(std::min(c / 20, 4),
                                  h->completeness_buckets(std::min(c / 20, 4)) + 1);
      completeness_sum[h] += c;
    }
  };
  std::string customer;
  std::optional<std::string> owner;  // the customer's at as_of; nullopt: not yet
  RETURN_IF_ERROR(
      Each(store, RowKey(tenant, "own"), [&](absl::string_view rest, absl::string_view value) {
        const absl::string_view of = rest.substr(0, rest.size() - 17);
        if (of != customer) {
          if (owner) count(customer, *owner);
          customer = std::string(of);
          owner.reset();
        }
        if (WhenTime(rest.substr(rest.size() - 16)) > w.as_of) return;
        owner = std::string(value.substr(0, value.find('\n')));
      }));
  if (owner) count(customer, *owner);
  RETURN_IF_ERROR(completeness.status());
  RETURN_IF_ERROR(profiles.status());
  absl::Status error;
  RETURN_IF_ERROR(Each(
      store, RowKey(tenant, "pool-event"), [&](absl::string_view rest, absl::string_view value) {
        const absl::Time at = WhenTime(rest);
        if (at > w.as_of) return;
        const std::vector<absl::string_view> parts = absl::StrSplit(value, '\n');
        const absl::string_view kind = parts[0];
        const std::string rep(parts.size() > 1 ? parts[1] : "");
        int64_t amount = 0;
        if (parts.size() > 2 && !absl::SimpleAtoi(parts[2], &amount)) amount = 0;
        std::string region;
        if (group_by == Req::GROUP_BY_REGION && kind != "conflict") {
          auto profile = ProfileAsOf(store, tenant, std::string(rest.substr(17)), w.as_of,
                                     /*industry=*/false);
          if (!profile.ok()) {
            error = profile.status();
            return;
          }
          region = *std::move(profile);
        }
        v1::PoolHealth* g = kind == "conflict" ? nullptr : health(group_of(rep, region));
        for (v1::PoolHealth* h : {&out, g}) {
          if (h == nullptr) continue;
          if (kind == "reserve") ++reservations_open[h];
          if (kind == "lapse" || kind == "reservation-end") --reservations_open[h];
          if (at < w.from || at >= w.to) continue;
          if (kind == "claim") h->set_claims(h->claims() + 1);
          if (kind == "release-owner") h->set_releases_by_owner(h->releases_by_owner() + 1);
          if (kind == "release-drop")
            h->set_releases_by_drop_protection(h->releases_by_drop_protection() + 1);
          if (kind == "conflict") h->set_conflicts_judged(h->conflicts_judged() + 1);
          if (kind == "reserve") h->set_reservations_made(h->reservations_made() + 1);
          if (kind == "secure") h->set_reservations_secured(h->reservations_secured() + 1);
          if (kind == "lapse") h->set_reservations_lapsed(h->reservations_lapsed() + 1);
          if (kind == "reservation-signing") {
            h->set_reservation_signings(h->reservation_signings() + 1);
            h->set_reservation_signed_amount(h->reservation_signed_amount() + amount);
          }
        }
      }));
  RETURN_IF_ERROR(error);
  auto finish = [&](v1::PoolHealth& h) {
    if (h.completeness_buckets_size() == 0) h.mutable_completeness_buckets()->Resize(5, 0);
    if (h.customers() > 0) {
      h.set_average_completeness(static_cast<int32_t>(completeness_sum[&h] / h.customers()));
    }
    h.set_reservations_open(reservations_open[&h]);
  };
  finish(out);
  for (auto& [group, h] : groups) {
    finish(h);
    *out.add_groups() = std::move(h);
  }
  return out;
}

absl::StatusOr<std::string> ProfileAsOf(readstore::ReadStore* store, const std::string& tenant,
                                        const std::string& customer, absl::Time as_of,
                                        bool industry) {
  LatestAsOf profile(store, tenant, "profile", as_of, customer);
  const std::optional<std::string> value = profile.For(customer);
  RETURN_IF_ERROR(profile.status());
  if (!value) return std::string();
  const size_t nl = value->find('\n');
  return industry ? value->substr(nl + 1) : value->substr(0, nl);
}

}  // namespace crm::analytics
