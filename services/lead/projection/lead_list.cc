#include "services/lead/projection/lead_list.h"

#include "absl/strings/str_cat.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

std::string Prefix(absl::string_view tenant) {
  return absl::StrCat(tenant, std::string(1, '\0'), "lead", std::string(1, '\0'));
}

}  // namespace

absl::Status LeadListProjection::Apply(const readstore::StoredEvent& event,
                                       readstore::RowWriter& rows) {
  LeadEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  if (e.has_created()) {
    rows.Put(Prefix(event.tenant()) + e.created().lead_id(), e.created().SerializeAsString());
  }
  return absl::OkStatus();
}

absl::StatusOr<LeadPage> ListLeads(readstore::ReadStore* store, const std::string& tenant,
                                   int page_size, const std::string& after_id) {
  LeadPage page;
  const std::string prefix = Prefix(tenant);
  bool more = false;
  absl::Status parse_error;
  RETURN_IF_ERROR(store->Scan(prefix, after_id.empty() ? "" : prefix + after_id,
                              [&](absl::string_view, absl::string_view value) {
                                if (static_cast<int>(page.leads.size()) == page_size) {
                                  more = true;
                                  return false;
                                }
                                if (!page.leads.emplace_back().ParseFromArray(value.data(),
                                                                              int(value.size()))) {
                                  parse_error = absl::DataLossError("corrupt lead row");
                                  return false;
                                }
                                return true;
                              }));
  RETURN_IF_ERROR(parse_error);
  if (more) page.last_id = page.leads.back().lead_id();
  return page;
}

}  // namespace crm::lead
