#include "services/customer/projection/customer_list.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

namespace ev = crm::customer::events::v1;
using v1::Customer;

const std::string kSep(1, '\0');

std::string RowKey(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "customer", kSep, id);
}
std::string PoolPrefix(const std::string& tenant, const std::string& owner) {
  return absl::StrCat(tenant, kSep, "pool", kSep, owner, kSep);
}

void SetProfile(const ev::Profile& p, Customer* c) {
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
  if (absl::StartsWith(event.stream_id(), "pool:")) return absl::OkStatus();
  ev::CustomerEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  const std::string key = RowKey(event.tenant(), event.stream_id());
  Customer row;
  if (!e.has_created()) {
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
      break;
    case ev::CustomerEvent::kProfileUpdated:
      SetProfile(e.profile_updated().profile(), &row);
      row.set_completeness(e.profile_updated().completeness());
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
  }
  return absl::OkStatus();
}

absl::StatusOr<CustomerPage> ListCustomers(readstore::ReadStore* store, const std::string& tenant,
                                           std::optional<std::string> owner, int page_size,
                                           const std::string& after_id) {
  CustomerPage page;
  const std::string prefix =
      owner ? PoolPrefix(tenant, *owner) : RowKey(tenant, "");
  std::vector<std::string> ids;
  bool more = false;
  RETURN_IF_ERROR(store->Scan(prefix, after_id.empty() ? "" : prefix + after_id,
                              [&](absl::string_view key, absl::string_view) {
                                if (static_cast<int>(ids.size()) == page_size) {
                                  more = true;
                                  return false;
                                }
                                ids.emplace_back(key.substr(prefix.size()));
                                return true;
                              }));
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(auto stored, store->Get(RowKey(tenant, id)));
    if (!stored || !page.customers.emplace_back().ParseFromString(*stored)) {
      return absl::DataLossError("customer row missing for index entry " + id);
    }
  }
  if (more) page.last_id = ids.back();
  return page;
}

}  // namespace crm::customer
