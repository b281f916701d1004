#include "services/opportunity/projection/customer_facts.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/customer/events/v1/customer_events.pb.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"

namespace crm::opportunity {
namespace {

namespace cev = crm::customer::events::v1;

std::string Key(absl::string_view tenant, absl::string_view customer) {
  return absl::StrCat(tenant, std::string(1, '\0'), "cust", std::string(1, '\0'), customer);
}

CustomerFacts Parse(absl::string_view row) {
  CustomerFacts f;
  f.known = true;
  const size_t nl = row.find('\n');
  f.owner = std::string(row.substr(0, nl));
  if (nl != absl::string_view::npos && row.size() >= nl + 3) {
    f.key_person = row[nl + 1] == '1';
    f.demo_touch = row[nl + 2] == '1';
  }
  return f;
}

std::string Format(const CustomerFacts& f) {
  return absl::StrCat(f.owner, "\n", f.key_person ? "1" : "0", f.demo_touch ? "1" : "0");
}

bool HasKeyPerson(const cev::Profile& p) {
  for (const auto& c : p.contacts()) {
    if (c.key_person()) return true;
  }
  return false;
}

}  // namespace

absl::Status CustomerFactsProjection::Apply(const readstore::StoredEvent& event,
                                            readstore::RowWriter& rows) {
  cev::CustomerEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();  // another aggregate's event on the topic
  std::string customer;
  switch (e.event_case()) {
    case cev::CustomerEvent::kCreated:
      customer = e.created().customer_id();
      break;
    case cev::CustomerEvent::kProfileUpdated:
      customer = e.profile_updated().customer_id();
      break;
    case cev::CustomerEvent::kClaimed:
      customer = e.claimed().customer_id();
      break;
    case cev::CustomerEvent::kReleased:
      customer = e.released().customer_id();
      break;
    case cev::CustomerEvent::kConflictSettled:
      customer = e.conflict_settled().customer_id();
      break;
    case cev::CustomerEvent::kTouchRecorded:
      customer = e.touch_recorded().customer_id();
      break;
    default:
      return absl::OkStatus();
  }
  const std::string key = Key(event.tenant(), customer);
  ASSIGN_OR_RETURN(auto row, rows.Get(key));
  CustomerFacts f = row ? Parse(*row) : CustomerFacts{};
  switch (e.event_case()) {
    case cev::CustomerEvent::kCreated:
      f.owner = e.created().owner_id();
      f.key_person = HasKeyPerson(e.created().profile());
      break;
    case cev::CustomerEvent::kProfileUpdated:
      f.key_person = HasKeyPerson(e.profile_updated().profile());
      break;
    case cev::CustomerEvent::kClaimed:
      f.owner = e.claimed().owner_id();
      break;
    case cev::CustomerEvent::kReleased:
      f.owner.clear();
      break;
    case cev::CustomerEvent::kConflictSettled:
      f.owner = e.conflict_settled().owner_id();
      break;
    case cev::CustomerEvent::kTouchRecorded: {
      const auto& t = e.touch_recorded();
      const bool demo = absl::StrContains(absl::AsciiStrToLower(t.outcome()), "demo") ||
                        absl::StrContains(absl::AsciiStrToLower(t.note()), "demo");
      f.demo_touch |= t.valid() && t.channel() == cev::TOUCH_CHANNEL_MEETING && demo;
      break;
    }
    default:
      break;
  }
  rows.Put(key, Format(f));
  return absl::OkStatus();
}

absl::StatusOr<CustomerFacts> FindCustomerFacts(readstore::ReadStore* store,
                                                const std::string& tenant,
                                                const std::string& customer_id) {
  ASSIGN_OR_RETURN(auto row, store->Get(Key(tenant, customer_id)));
  if (!row) return CustomerFacts{};
  return Parse(*row);
}

}  // namespace crm::opportunity
