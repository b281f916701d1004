#include "services/customer/app/match_index.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const std::string kSep(1, '\0');

std::string KeyPrefix(const std::string& tenant, const std::string& key) {
  return absl::StrCat(tenant, kSep, "match", kSep, key, kSep);
}

std::string KeysOf(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "match-keys", kSep, id);
}

}  // namespace

absl::Status MatchIndexProjection::Apply(const readstore::StoredEvent& event,
                                         readstore::RowWriter& rows) {
  if (!IsCustomerStream(event.stream_id())) return absl::OkStatus();
  CustomerEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  const Profile* profile = e.has_created()           ? &e.created().profile()
                           : e.has_profile_updated() ? &e.profile_updated().profile()
                           : e.has_contact_erased()  ? &e.contact_erased().profile()
                                                     : nullptr;
  if (!profile) return absl::OkStatus();
  const std::string& tenant = event.tenant();
  if (e.has_contact_erased()) rows.ScrubAfterCommit(tenant);
  const std::string& id = event.stream_id();
  ASSIGN_OR_RETURN(auto old, rows.Get(KeysOf(tenant, id)));
  if (old) {
    for (absl::string_view key : absl::StrSplit(*old, '\n', absl::SkipEmpty())) {
      rows.Delete(KeyPrefix(tenant, std::string(key)) + id);
    }
  }
  const std::vector<std::string> keys = MatchKeys(*profile);
  for (const auto& key : keys) rows.Put(KeyPrefix(tenant, key) + id, "");
  rows.Put(KeysOf(tenant, id), absl::StrJoin(keys, "\n"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ev::ConflictMatch>> FindMatches(readstore::ReadStore* store,
                                                           const std::string& tenant,
                                                           const std::vector<std::string>& keys,
                                                           const std::string& exclude, int limit) {
  std::map<std::string, std::vector<std::string>> found;  // ids are time-ordered
  for (const auto& key : keys) {
    const std::string prefix = KeyPrefix(tenant, key);
    const std::string kind = key.substr(0, key.find(':'));
    int seen = 0;
    RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view row, absl::string_view) {
      if (++seen > limit + 1) return false;  // a common name: the oldest few are enough
      std::string id(row.substr(prefix.size()));
      if (id == exclude) return true;
      auto& kinds = found[id];
      if (kinds.empty() || kinds.back() != kind) kinds.push_back(kind);
      return true;
    }));
  }
  std::vector<ev::ConflictMatch> out;
  for (auto& [id, kinds] : found) {
    if (static_cast<int>(out.size()) == limit) break;
    ev::ConflictMatch& m = out.emplace_back();
    m.set_customer_id(id);
    for (auto& k : kinds) m.add_keys(std::move(k));
  }
  return out;
}

}  // namespace crm::customer
