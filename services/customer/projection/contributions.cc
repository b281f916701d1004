#include "services/customer/projection/contributions.h"

#include "absl/strings/str_cat.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"
#include "services/customer/domain/customer.h"

namespace crm::customer {
namespace {

const std::string kSep(1, '\0');

std::string ByPrefix(const std::string& tenant, const std::string& rep) {
  return absl::StrCat(tenant, kSep, "contrib-by", kSep, rep, kSep);
}
std::string OfPrefix(const std::string& tenant, const std::string& customer) {
  return absl::StrCat(tenant, kSep, "contrib-of", kSep, customer, kSep);
}

}  // namespace

absl::Status ContributionProjection::Apply(const readstore::StoredEvent& event,
                                           readstore::RowWriter& rows) {
  if (!IsCustomerStream(event.stream_id())) return absl::OkStatus();
  CustomerEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  const HistoryLine line = Describe(e);
  if (line.changed_fields.empty()) return absl::OkStatus();
  v1::Contribution c;
  c.set_customer("customers/" + event.stream_id());
  c.set_rep_id(line.actor);
  for (const auto& f : line.changed_fields) c.add_fields(f);
  *c.mutable_time() = event.time();
  c.set_version(event.version());
  const std::string value = c.SerializeAsString();
  const std::string version = readstore::EncodeBigEndian64(event.version());
  const int64_t micros = event.time().seconds() * 1'000'000 + event.time().nanos() / 1000;
  rows.Put(absl::StrCat(ByPrefix(event.tenant(), line.actor), readstore::EncodeBigEndian64(micros),
                        kSep, event.stream_id(), kSep, version),
           value);
  rows.Put(OfPrefix(event.tenant(), event.stream_id()) + version, value);
  return absl::OkStatus();
}

absl::StatusOr<ContributionPage> ListContributions(readstore::ReadStore* store,
                                                   const std::string& tenant,
                                                   const std::string& rep,
                                                   const std::string& customer_id, int page_size,
                                                   const std::string& after) {
  const std::string prefix = rep.empty() ? OfPrefix(tenant, customer_id) : ByPrefix(tenant, rep);
  ContributionPage page;
  absl::Status parse = absl::OkStatus();
  std::string last;
  RETURN_IF_ERROR(store->Scan(prefix, after.empty() ? "" : prefix + after,
                              [&](absl::string_view key, absl::string_view value) {
                                if (static_cast<int>(page.contributions.size()) == page_size) {
                                  page.next = last;
                                  return false;
                                }
                                if (!page.contributions.emplace_back().ParseFromArray(
                                        value.data(), static_cast<int>(value.size()))) {
                                  parse = absl::DataLossError("corrupt contribution row");
                                  return false;
                                }
                                last = std::string(key.substr(prefix.size()));
                                return true;
                              }));
  RETURN_IF_ERROR(parse);
  return page;
}

}  // namespace crm::customer
