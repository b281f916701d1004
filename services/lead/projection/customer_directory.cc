#include "services/lead/projection/customer_directory.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/eventstore/codec.h"
#include "libs/normalize/normalize.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

namespace cev = crm::customer::events::v1;

const std::string kSep(1, '\0');

std::string Key(absl::string_view tenant, absl::string_view kind, absl::string_view rest) {
  return absl::StrCat(tenant, kSep, kind, kSep, rest);
}

std::vector<std::string> KeysOf(const pii::Vault& vault, const std::string& tenant,
                                const cev::Profile& p) {
  std::vector<std::string> keys;
  const std::string name = NormalizeCompanyName(p.company_name());
  if (!name.empty()) keys.push_back("company_name:" + name);
  if (!p.legal_entity_id().empty()) {
    keys.push_back("legal_entity_id:" + absl::AsciiStrToUpper(p.legal_entity_id()));
  }
  for (const auto& c : p.contacts()) {
    for (const auto& tag : c.sealed().match_tags()) keys.push_back(tag);
    if (auto phone = NormalizePhone(c.phone())) {
      keys.push_back(vault.MatchTag(tenant, "phone", *phone));
    }
    if (auto email = NormalizeEmail(c.email())) {
      keys.push_back(vault.MatchTag(tenant, "email", *email));
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

absl::Status SetKeys(const pii::Vault& vault, readstore::RowWriter& rows, const std::string& tenant,
                     const std::string& id, const cev::Profile& profile) {
  const std::string keys_key = Key(tenant, "cust-keys", id);
  ASSIGN_OR_RETURN(auto old, rows.Get(keys_key));
  if (old) {
    for (absl::string_view k : absl::StrSplit(*old, '\n', absl::SkipEmpty())) {
      rows.Delete(Key(tenant, "cust", absl::StrCat(k, kSep, id)));
    }
  }
  const std::vector<std::string> keys = KeysOf(vault, tenant, profile);
  for (const auto& k : keys) rows.Put(Key(tenant, "cust", absl::StrCat(k, kSep, id)), "");
  rows.Put(keys_key, absl::StrJoin(keys, "\n"));
  return absl::OkStatus();
}

}  // namespace

absl::Status CustomerDirectoryProjection::Apply(const readstore::StoredEvent& event,
                                                readstore::RowWriter& rows) {
  const std::string& tenant = event.tenant();
  cev::CustomerEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) {
    cev::RepPoolEvent pool;
    ASSIGN_OR_RETURN(const bool is_pool,
                     eventstore::DecodeIfOwn(event.type(), event.payload(), &pool));
    if (is_pool && pool.has_standing_reviewed()) {
      const auto& review = pool.standing_reviewed();
      if (review.lead_priority()) {
        rows.Put(Key(tenant, "rep-priority", review.rep_id()), "");
      } else {
        rows.Delete(Key(tenant, "rep-priority", review.rep_id()));
      }
    }
    return absl::OkStatus();  // another aggregate's event on the topic
  }
  switch (e.event_case()) {
    case cev::CustomerEvent::kCreated:
      RETURN_IF_ERROR(
          SetKeys(*vault_, rows, tenant, e.created().customer_id(), e.created().profile()));
      rows.Put(Key(tenant, "cust-owner", e.created().customer_id()), e.created().owner_id());
      break;
    case cev::CustomerEvent::kProfileUpdated:
      RETURN_IF_ERROR(SetKeys(*vault_, rows, tenant, e.profile_updated().customer_id(),
                              e.profile_updated().profile()));
      break;
    case cev::CustomerEvent::kContactErased:
      RETURN_IF_ERROR(SetKeys(*vault_, rows, tenant, e.contact_erased().customer_id(),
                              e.contact_erased().profile()));
      if (on_erased_) RETURN_IF_ERROR(on_erased_(tenant, e.contact_erased().person_id()));
      rows.ScrubAfterCommit(tenant);
      break;
    case cev::CustomerEvent::kClaimed:
      rows.Put(Key(tenant, "cust-owner", e.claimed().customer_id()), e.claimed().owner_id());
      break;
    case cev::CustomerEvent::kReleased:
      rows.Put(Key(tenant, "cust-owner", e.released().customer_id()), "");
      break;
    case cev::CustomerEvent::kConflictSettled:
      rows.Put(Key(tenant, "cust-owner", e.conflict_settled().customer_id()),
               e.conflict_settled().owner_id());
      break;
    case cev::CustomerEvent::kReserved:
      rows.Put(Key(tenant, "cust-reserved", e.reserved().customer_id()), e.reserved().rep_id());
      break;
    case cev::CustomerEvent::kReservationEnded:
      rows.Delete(Key(tenant, "cust-reserved", e.reservation_ended().customer_id()));
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

std::vector<std::string> TagKeys(const pii::Vault& vault, const std::string& tenant,
                                 const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const std::string& k : keys) {
    const size_t colon = k.find(':');
    const absl::string_view kind = absl::string_view(k).substr(0, colon);
    if (colon != std::string::npos && (kind == "phone" || kind == "email")) {
      out.push_back(vault.MatchTag(tenant, kind, k.substr(colon + 1)));
    } else {
      out.push_back(k);
    }
  }
  return out;
}

absl::StatusOr<bool> HasLeadPriority(readstore::ReadStore* store, const std::string& tenant,
                                     const std::string& rep) {
  ASSIGN_OR_RETURN(auto row, store->Get(Key(tenant, "rep-priority", rep)));
  return row.has_value();
}

absl::StatusOr<std::optional<CustomerMatch>> FindCustomer(readstore::ReadStore* store,
                                                          const std::string& tenant,
                                                          const std::vector<std::string>& keys) {
  std::map<std::string, std::vector<std::string>> kinds;  // customer -> shared kinds
  for (const auto& k : keys) {
    const std::string prefix = Key(tenant, "cust", k + kSep);
    RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
      kinds[std::string(key.substr(prefix.size()))].push_back(k.substr(0, k.find(':')));
      return kinds.size() < 1000;
    }));
  }
  if (kinds.empty()) return std::nullopt;
  auto best = kinds.begin();
  for (auto it = kinds.begin(); it != kinds.end(); ++it) {
    if (it->second.size() > best->second.size()) best = it;
  }
  CustomerMatch m;
  m.customer_id = best->first;
  m.keys = best->second;
  ASSIGN_OR_RETURN(auto owner, store->Get(Key(tenant, "cust-owner", best->first)));
  m.owner_id = owner.value_or("");
  if (m.owner_id.empty()) {
    // A public customer a rep reserved: its inbound leads go to that rep.
    ASSIGN_OR_RETURN(auto reserved, store->Get(Key(tenant, "cust-reserved", best->first)));
    m.owner_id = reserved.value_or("");
  }
  return m;
}

}  // namespace crm::lead
