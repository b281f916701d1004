#include "services/customer/projection/teams.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const std::string kSep(1, '\0');

std::string ManagesPrefix(const std::string& tenant, const std::string& manager) {
  return absl::StrCat(tenant, kSep, "manages", kSep, manager, kSep);
}

}  // namespace

absl::Status TeamsProjection::Apply(const readstore::StoredEvent& event,
                                    readstore::RowWriter& rows) {
  crm::lead::events::v1::LeadPolicyEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own || !e.has_changed()) return absl::OkStatus();
  const std::string index = absl::StrCat(event.tenant(), kSep, "managed-rows");
  ASSIGN_OR_RETURN(auto old, rows.Get(index));
  if (old) {
    for (absl::string_view k : absl::StrSplit(*old, '\n', absl::SkipEmpty())) rows.Delete(k);
  }
  std::vector<std::string> keys;
  for (const auto& team : e.changed().settings().teams()) {
    for (const auto& manager : team.manager_ids()) {
      for (const auto& member : team.members()) {
        keys.push_back(ManagesPrefix(event.tenant(), manager) + member.rep_id());
        rows.Put(keys.back(), "");
      }
    }
  }
  rows.Put(index, absl::StrJoin(keys, "\n"));
  return absl::OkStatus();
}

absl::StatusOr<std::set<std::string>> ManagedReps(readstore::ReadStore* store,
                                                  const std::string& tenant,
                                                  const std::string& manager) {
  std::set<std::string> out;
  const std::string prefix = ManagesPrefix(tenant, manager);
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view) {
    out.insert(std::string(key.substr(prefix.size())));
    return true;
  }));
  return out;
}

}  // namespace crm::customer
