#include "services/customer/projection/customer_list.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"
#include "services/customer/domain/customer.h"

namespace crm::customer {
namespace {

namespace ev = crm::customer::events::v1;
using Row = v1::Customer;

const std::string kSep(1, '\0');
constexpr char kMotEngagementSpike[] = "mot:engagement-spike";
constexpr absl::Duration kEngagementSpikeShown = absl::Hours(24 * 7);

std::string RowKey(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "customer", kSep, id);
}
std::string PoolPrefix(const std::string& tenant, const std::string& owner) {
  return absl::StrCat(tenant, kSep, "pool", kSep, owner, kSep);
}
std::string SalesKey(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "sales", kSep, id);
}
// Every rep who ever owned a customer, across tenants, for periodic reviews.
const std::string kRepsPrefix = "~reps" + kSep;
std::string RepKey(const std::string& tenant, const std::string& rep) {
  return absl::StrCat(kRepsPrefix, tenant, kSep, rep);
}
std::string CountKey(const std::string& tenant) { return absl::StrCat(tenant, kSep, "count"); }
std::string SalesAtKey(const std::string& tenant) { return absl::StrCat(tenant, kSep, "sales-at"); }
std::string SegmentKey(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "segment", kSep, id);
}

// A year's sales fact: the recorded figure when there is one, else the sum
// of the contracts signed that year.
std::string EncodeSales(const Row& row) {
  std::map<int32_t, int64_t> years;
  for (const auto& s : row.contract_sales()) years[s.year()] = s.amount();
  for (const auto& s : row.annual_sales()) years[s.year()] = s.amount();
  std::string out;
  for (const auto& [year, amount] : years) absl::StrAppend(&out, year, "=", amount, "\n");
  return out;
}

// The entry for `year` in a year-ordered list, added when missing.
ev::AnnualSales* YearEntry(google::protobuf::RepeatedPtrField<ev::AnnualSales>* all, int32_t year) {
  auto it = std::find_if(all->begin(), all->end(),
                         [&](const ev::AnnualSales& s) { return s.year() >= year; });
  if (it != all->end() && it->year() == year) return &*it;
  const auto at = it - all->begin();
  all->Add()->set_year(year);  // then moved into year order
  std::rotate(all->begin() + at, all->end() - 1, all->end());
  return &(*all)[static_cast<int>(at)];
}

absl::Time TimeOf(const google::protobuf::Timestamp& t, absl::Time unset) {
  return t.seconds() == 0 && t.nanos() == 0 ? unset : FromTimestamp(t);
}

// Saved segments live on their own streams; their rows are just the event.
absl::Status ApplySegment(const readstore::StoredEvent& event, readstore::RowWriter& rows) {
  ev::SegmentEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  if (e.has_saved()) {
    rows.Put(SegmentKey(event.tenant(), e.saved().segment_id()), e.saved().SerializeAsString());
  }
  return absl::OkStatus();
}

void SetProfile(const ev::Profile& p, Row* c) {
  c->set_company_name(p.company_name());
  c->set_legal_entity_id(p.legal_entity_id());
  c->set_industry(p.industry());
  c->set_region(p.region());
  c->set_size(p.size());
  c->set_annual_revenue(p.annual_revenue());
  c->set_segment(p.segment());
  *c->mutable_contacts() = p.contacts();
  *c->mutable_tags() = p.tags();
}

}  // namespace

absl::Status CustomerListProjection::Apply(const readstore::StoredEvent& event,
                                           readstore::RowWriter& rows) {
  if (absl::StartsWith(event.stream_id(), "segment:")) return ApplySegment(event, rows);
  if (!IsCustomerStream(event.stream_id())) return absl::OkStatus();
  // One event and one row message per thread, parsed again for each event:
  // parsing reuses the memory of their fields (a rebuild applies millions).
  thread_local ev::CustomerEvent e;
  thread_local v1::Customer row;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  const std::string key = RowKey(event.tenant(), event.stream_id());
  if (e.has_created()) {
    row.Clear();
  } else {
    ASSIGN_OR_RETURN(auto stored, rows.Get(key));
    if (!stored) return absl::FailedPreconditionError("event for a customer never created");
    if (!row.ParseFromString(*stored)) return absl::DataLossError("corrupt customer row");
  }
  const std::string old_owner = row.owner_id();
  switch (e.event_case()) {
    case ev::CustomerEvent::kCreated:
      row.set_customer_id(e.created().customer_id());
      row.set_name("customers/" + e.created().customer_id());
      SetProfile(e.created().profile(), &row);
      row.set_completeness(e.created().completeness());
      row.set_owner_id(e.created().owner_id());
      *row.mutable_create_time() = e.created().create_time();
      if (!row.owner_id().empty()) *row.mutable_claim_time() = e.created().create_time();
      {
        ASSIGN_OR_RETURN(auto count, rows.Get(CountKey(event.tenant())));
        int64_t n = 0;
        if (count && !absl::SimpleAtoi(*count, &n)) return absl::DataLossError("corrupt count");
        rows.Put(CountKey(event.tenant()), absl::StrCat(n + 1));
      }
      break;
    case ev::CustomerEvent::kAnnualSalesRecorded: {
      const ev::AnnualSales& sales = e.annual_sales_recorded().sales();
      YearEntry(row.mutable_annual_sales(), sales.year())->set_amount(sales.amount());
      rows.Put(SalesKey(event.tenant(), row.customer_id()), EncodeSales(row));
      rows.Put(SalesAtKey(event.tenant()), absl::StrCat(event.position()));
      break;
    }
    case ev::CustomerEvent::kEngagementSpikeDetected:
      *row.mutable_engagement_spike_time() = e.engagement_spike_detected().spike_time();
      break;
    case ev::CustomerEvent::kContractSignedNoted: {
      const auto& signed_ = e.contract_signed_noted();
      ev::AnnualSales* year =
          YearEntry(row.mutable_contract_sales(), SalesYear(signed_.sign_time()));
      year->set_amount(year->amount() + signed_.amount());
      rows.Put(SalesKey(event.tenant(), row.customer_id()), EncodeSales(row));
      rows.Put(SalesAtKey(event.tenant()), absl::StrCat(event.position()));
      break;
    }
    case ev::CustomerEvent::kProfileUpdated:
      SetProfile(e.profile_updated().profile(), &row);
      row.set_completeness(e.profile_updated().completeness());
      break;
    case ev::CustomerEvent::kContactErased:
      SetProfile(e.contact_erased().profile(), &row);
      rows.ScrubAfterCommit(event.tenant());
      break;
    case ev::CustomerEvent::kClaimed:
      row.set_owner_id(e.claimed().owner_id());
      *row.mutable_claim_time() = e.claimed().claim_time();
      row.clear_last_valid_touch_time();
      break;
    case ev::CustomerEvent::kReleased:
      row.clear_owner_id();
      row.clear_claim_time();
      row.clear_last_valid_touch_time();
      break;
    case ev::CustomerEvent::kConflictSettled: {
      const auto& settled = e.conflict_settled();
      if (settled.owner_id() != row.owner_id()) {
        row.set_owner_id(settled.owner_id());
        *row.mutable_claim_time() = settled.settle_time();
        row.clear_last_valid_touch_time();
      }
      break;
    }
    case ev::CustomerEvent::kReserved:
      row.set_reserved_by(e.reserved().rep_id());
      *row.mutable_reservation_expire_time() = e.reserved().expire_time();
      row.set_reservation_secured(false);
      break;
    case ev::CustomerEvent::kReservationSecured:
      row.set_reservation_secured(true);
      break;
    case ev::CustomerEvent::kReservationEnded:
      row.clear_reserved_by();
      row.clear_reservation_expire_time();
      row.clear_reservation_secured();
      break;
    case ev::CustomerEvent::kConflictDetected:
      *row.mutable_conflicts() = e.conflict_detected().matches();
      break;
    case ev::CustomerEvent::kTouchRecorded:
      if (e.touch_recorded().valid()) {
        *row.mutable_last_valid_touch_time() = e.touch_recorded().touch_time();
      }
      break;
    default:
      break;
  }
  row.set_pool(row.owner_id().empty() ? v1::POOL_STATE_PUBLIC : v1::POOL_STATE_PRIVATE);
  row.set_etag(absl::StrCat(event.version()));
  rows.Put(key, row.SerializeAsString());
  if (e.has_created() || old_owner != row.owner_id()) {
    if (!e.has_created()) rows.Delete(PoolPrefix(event.tenant(), old_owner) + row.customer_id());
    rows.Put(PoolPrefix(event.tenant(), row.owner_id()) + row.customer_id(), "");
    if (!row.owner_id().empty()) rows.Put(RepKey(event.tenant(), row.owner_id()), "");
  }
  return absl::OkStatus();
}

absl::StatusOr<CustomerPage> ListCustomers(readstore::ReadStore* store, const std::string& tenant,
                                           std::optional<std::string> owner, int page_size,
                                           const std::string& after_id) {
  // An owner's through the pool index, the tenant's from the rows.
  const std::string rows = RowKey(tenant, "");
  return readstore::ReadPage<Row>(store, owner ? PoolPrefix(tenant, *owner) : rows,
                                  owner ? rows : "", after_id, page_size,
                                  [](const Row&) { return true; });
}

absl::Status ForEachRep(readstore::ReadStore* store,
                        const std::function<void(const std::string&, const std::string&)>& fn) {
  return store->Scan(kRepsPrefix, "", [&](absl::string_view key, absl::string_view) {
    absl::string_view rest = key.substr(kRepsPrefix.size());
    const size_t sep = rest.find('\0');
    fn(std::string(rest.substr(0, sep)), std::string(rest.substr(sep + 1)));
    return true;
  });
}

absl::StatusOr<PoolQuality> MeasurePool(readstore::ReadStore* store, const std::string& tenant,
                                        const std::string& rep) {
  PoolQuality q;
  int64_t sum = 0;
  std::string after;
  do {
    ASSIGN_OR_RETURN(CustomerPage page, ListCustomers(store, tenant, rep, 500, after));
    for (const Row& c : page.items) sum += c.completeness();
    q.customers += static_cast<int32_t>(page.items.size());
    after = page.last_id;
  } while (!after.empty());
  q.average_completeness = q.customers == 0 ? 0 : static_cast<int32_t>(sum / q.customers);
  return q;
}

namespace {

absl::StatusOr<int64_t> ReadCount(readstore::ReadStore* store, const std::string& tenant) {
  ASSIGN_OR_RETURN(auto count, store->Get(CountKey(tenant)));
  int64_t n = 0;
  if (count && !absl::SimpleAtoi(*count, &n)) return absl::DataLossError("corrupt count");
  return n;
}

absl::StatusOr<std::vector<SalesHistory>> ReadSales(readstore::ReadStore* store,
                                                    const std::string& tenant) {
  std::vector<SalesHistory> histories;
  const std::string prefix = SalesKey(tenant, "");
  absl::Status parse = absl::OkStatus();
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    SalesHistory& h = histories.emplace_back();
    h.customer_id = std::string(key.substr(prefix.size()));
    for (absl::string_view line : absl::StrSplit(value, '\n', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, '=');
      int32_t year = 0;
      int64_t amount = 0;
      if (!absl::SimpleAtoi(kv.first, &year) || !absl::SimpleAtoi(kv.second, &amount)) {
        parse = absl::DataLossError("corrupt sales row");
        return false;
      }
      h.by_year[year] = amount;
    }
    return true;
  }));
  RETURN_IF_ERROR(parse);
  return histories;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const TierCache::Tiers>> TierCache::Get(const std::string& tenant) {
  // Read before the rows: rows read after are at least as new as these.
  ASSIGN_OR_RETURN(const auto sales_at, store_->Get(SalesAtKey(tenant)));
  ASSIGN_OR_RETURN(const int64_t count, ReadCount(store_, tenant));
  std::shared_ptr<Kept> kept;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Kept>& slot = tenants_[tenant];
    if (!slot) slot = std::make_shared<Kept>();
    kept = slot;
    kept->used = ++asked_;
    if (tenants_.size() > max_tenants_) {
      // Drop the tenant asked for least recently (never this one, just
      // asked for); a caller still working it out keeps its own.
      auto oldest = tenants_.begin();
      for (auto it = tenants_.begin(); it != tenants_.end(); ++it) {
        if (it->second->used < oldest->second->used) oldest = it;
      }
      tenants_.erase(oldest);
    }
  }
  std::lock_guard<std::mutex> lock(kept->mu);
  if (!kept->loaded || kept->sales_at != sales_at.value_or("")) {
    ASSIGN_OR_RETURN(kept->histories, ReadSales(store_, tenant));
    kept->loaded = true;
    kept->sales_at = sales_at.value_or("");
    kept->tiers = nullptr;
  }
  if (!kept->tiers || kept->count != count) {
    kept->tiers = std::make_shared<const Tiers>(AssignTiers(kept->histories, count));
    kept->count = count;
  }
  return kept->tiers;
}

size_t TierCache::tenants_kept() {
  std::lock_guard<std::mutex> lock(mu_);
  return tenants_.size();
}

void Decorate(const std::map<std::string, ev::Tier>& tiers, absl::Time now, Row* c) {
  auto it = tiers.find(c->customer_id());
  c->set_tier(it == tiers.end() ? ev::TIER_C : it->second);
  c->set_score(CustomerScore(c->completeness(), c->tier(),
                             TimeOf(c->last_valid_touch_time(), absl::InfinitePast()), now));
}

std::string PushedMotPrefix(const std::string& tenant, const std::string& customer) {
  return absl::StrCat(tenant, kSep, "mot", kSep, customer, kSep);
}

std::string PushedMotKey(const std::string& tenant, const std::string& customer,
                         const std::string& rule, const std::string& item) {
  return absl::StrCat(PushedMotPrefix(tenant, customer), rule, kSep, item);
}

absl::StatusOr<std::vector<v1::Reminder>> ListMotReminders(readstore::ReadStore* store,
                                                           const std::string& tenant,
                                                           const TierCache::Tiers& tiers,
                                                           const std::string& rep,
                                                           absl::Duration gap, absl::Time now) {
  std::vector<v1::Reminder> out;
  std::string after;
  do {
    ASSIGN_OR_RETURN(CustomerPage page, ListCustomers(store, tenant, rep, 500, after));
    for (const Row& c : page.items) {
      absl::Status parse;
      RETURN_IF_ERROR(store->Scan(PushedMotPrefix(tenant, c.customer_id()), "",
                                  [&](absl::string_view, absl::string_view value) {
                                    v1::Reminder& r = out.emplace_back();
                                    if (!r.ParseFromArray(value.data(), int(value.size()))) {
                                      parse = absl::DataLossError("corrupt reminder row");
                                      return false;
                                    }
                                    r.set_company_name(c.company_name());
                                    return true;
                                  }));
      RETURN_IF_ERROR(parse);
      // An engagement spike the owner has not followed up on (for a week).
      const absl::Time spike = TimeOf(c.engagement_spike_time(), absl::InfinitePast());
      if (spike != absl::InfinitePast() && now - spike <= kEngagementSpikeShown &&
          TimeOf(c.last_valid_touch_time(), absl::InfinitePast()) < spike) {
        v1::Reminder& r = out.emplace_back();
        r.set_customer(c.name());
        r.set_company_name(c.company_name());
        *r.mutable_due_time() = ToTimestamp(spike);
        r.set_rule(kMotEngagementSpike);
        r.set_message(absl::StrCat(c.company_name(),
                                   "'s people are engaging with your content: follow up now"));
      }
      auto tier = tiers.find(c.customer_id());
      auto due = ATierFollowUpDue(tier == tiers.end() ? ev::TIER_C : tier->second,
                                  TimeOf(c.claim_time(), absl::InfinitePast()),
                                  TimeOf(c.last_valid_touch_time(), absl::InfinitePast()), gap);
      if (!due || *due > now) continue;
      v1::Reminder& r = out.emplace_back();
      r.set_customer(c.name());
      r.set_company_name(c.company_name());
      *r.mutable_due_time() = ToTimestamp(*due);
      r.set_rule(kMotATierNoTouch);
      r.set_message(absl::StrCat(c.company_name(),
                                 " is an A-tier customer without a valid follow-up for ",
                                 absl::ToInt64Hours(gap) / 24, " days: follow up now"));
    }
    after = page.last_id;
  } while (!after.empty());
  std::sort(out.begin(), out.end(), [](const v1::Reminder& a, const v1::Reminder& b) {
    return FromTimestamp(a.due_time()) < FromTimestamp(b.due_time());
  });
  return out;
}

absl::StatusOr<std::vector<ev::SegmentSaved>> ListSegments(readstore::ReadStore* store,
                                                           const std::string& tenant) {
  std::vector<ev::SegmentSaved> out;
  absl::Status parse = absl::OkStatus();
  RETURN_IF_ERROR(
      store->Scan(SegmentKey(tenant, ""), "", [&](absl::string_view, absl::string_view value) {
        if (!out.emplace_back().ParseFromArray(value.data(), int(value.size()))) {
          parse = absl::DataLossError("corrupt segment row");
          return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<CustomerPage> ListSegmentMembers(readstore::ReadStore* store,
                                                const std::string& tenant,
                                                const TierCache::Tiers& tiers,
                                                const ev::SegmentRule& rule,
                                                const std::string& viewer, absl::Time now,
                                                int page_size, const std::string& after_id) {
  return readstore::ReadPage<Row>(store, RowKey(tenant, ""), "", after_id, page_size, [&](Row& c) {
    if (!viewer.empty() && !c.owner_id().empty() && c.owner_id() != viewer) return false;
    Decorate(tiers, now, &c);
    SegmentCandidate candidate{{c.tags().begin(), c.tags().end()},
                               c.tier(),
                               c.region(),
                               TimeOf(c.last_valid_touch_time(), absl::InfinitePast()),
                               c.score()};
    return InSegment(rule, candidate);
  });
}

}  // namespace crm::customer
