#include "services/analytics/projection/lead_counts.h"

#include "absl/strings/str_cat.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::analytics {
namespace {

std::string Prefix(absl::string_view tenant) {
  return absl::StrCat(tenant, std::string(1, '\0'), "leads_by_channel", std::string(1, '\0'));
}

}  // namespace

absl::Status LeadCountsProjection::Apply(const readstore::StoredEvent& event,
                                         readstore::RowWriter& rows) {
  crm::lead::events::v1::LeadEvent e;
  // Channels, reps' loads and teams share the topic; unknown types park.
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own || !e.has_created()) return absl::OkStatus();
  if (e.created().channel_id().empty()) {
    return absl::InvalidArgumentError("LeadCreated without channel_id");
  }
  const std::string key = Prefix(event.tenant()) + e.created().channel_id();
  ASSIGN_OR_RETURN(auto current, rows.Get(key));
  const int64_t count = current ? readstore::DecodeBigEndian64(*current) : 0;
  rows.Put(key, readstore::EncodeBigEndian64(count + 1));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> LeadCountsByChannel(
    readstore::ReadStore* store, const std::string& tenant) {
  std::vector<std::pair<std::string, int64_t>> out;
  const std::string prefix = Prefix(tenant);
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    out.emplace_back(std::string(key.substr(prefix.size())), readstore::DecodeBigEndian64(value));
    return true;
  }));
  return out;
}

}  // namespace crm::analytics
