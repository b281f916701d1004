#include "services/customer/app/drop_protection.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/runtime/log.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const std::string kSep(1, '\0');
// The due index orders every tenant's checks by time; it holds only ids and
// times. Rows: `~drop-due\0<time>\0<tenant>\0<customer>` -> "" and, per
// customer, `<tenant>\0drop-at\0<customer>` -> <time> to find the old entry.
const std::string kDuePrefix = "~drop-due" + kSep;

std::string DueKey(int64_t micros, const std::string& tenant, const std::string& id) {
  return absl::StrCat(kDuePrefix, readstore::EncodeBigEndian64(micros), kSep, tenant, kSep, id);
}

std::string AtKey(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "drop-at", kSep, id);
}

// Reminders: `<tenant>\0reminder\0<rep>\0<due>\0<customer>` -> v1::Reminder,
// and `<tenant>\0reminder-of\0<customer>` -> that row's key, to remove it.
std::string ReminderPrefix(const std::string& tenant, const std::string& rep) {
  return absl::StrCat(tenant, kSep, "reminder", kSep, rep, kSep);
}

std::string ReminderOfKey(const std::string& tenant, const std::string& id) {
  return absl::StrCat(tenant, kSep, "reminder-of", kSep, id);
}

}  // namespace

absl::Status DropIndexProjection::Apply(const readstore::StoredEvent& event,
                                        readstore::RowWriter& rows) {
  const std::string& tenant = event.tenant();
  ASSIGN_OR_RETURN(const Policy policy, commands_->PolicyFor(tenant));
  if (event.stream_id() == kPolicyStream) {
    std::vector<std::string> indexed;
    const std::string prefix = AtKey(tenant, "");
    RETURN_IF_ERROR(rows.Scan(prefix, [&](absl::string_view key, absl::string_view) {
      indexed.emplace_back(key.substr(prefix.size()));
      return true;
    }));
    for (const auto& id : indexed) RETURN_IF_ERROR(Reindex(tenant, id, policy, rows));
    return absl::OkStatus();
  }
  if (!IsCustomerStream(event.stream_id())) return absl::OkStatus();
  return Reindex(tenant, event.stream_id(), policy, rows);
}

absl::Status DropIndexProjection::Reindex(const std::string& tenant, const std::string& customer_id,
                                          const Policy& policy, readstore::RowWriter& rows) {
  ASSIGN_OR_RETURN(Customer c, commands_->Current(tenant, customer_id));
  const std::string at_key = AtKey(tenant, c.id);
  ASSIGN_OR_RETURN(auto old, rows.Get(at_key));
  if (old) rows.Delete(DueKey(readstore::DecodeBigEndian64(*old), tenant, c.id));
  if (auto next = NextDropCheck(c, policy)) {
    const int64_t micros = absl::ToUnixMicros(*next);
    rows.Put(at_key, readstore::EncodeBigEndian64(micros));
    rows.Put(DueKey(micros, tenant, c.id), "");
  } else if (old) {
    rows.Delete(at_key);
  }

  // The open reminder, if the owner was warned about the current deadline.
  const std::string of_key = ReminderOfKey(tenant, c.id);
  ASSIGN_OR_RETURN(auto old_reminder, rows.Get(of_key));
  if (old_reminder) {
    rows.Delete(*old_reminder);
    rows.Delete(of_key);
  }
  const auto deadline = NextDropDeadline(c, policy);
  if (deadline && c.warned_for == deadline->at) {
    const std::string key =
        absl::StrCat(ReminderPrefix(tenant, c.owner),
                     readstore::EncodeBigEndian64(absl::ToUnixMicros(deadline->at)), kSep, c.id);
    crm::customer::v1::Reminder row;
    row.set_customer("customers/" + c.id);
    row.set_company_name(c.profile.company_name());
    row.set_reason(deadline->reason);
    row.mutable_due_time()->set_seconds(absl::ToUnixSeconds(deadline->at));
    row.set_rule("drop-protection");
    row.set_message(absl::StrCat("follow up validly before the due time or ",
                                 c.profile.company_name(), " returns to the public pool"));
    rows.Put(key, row.SerializeAsString());
    rows.Put(of_key, key);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<crm::customer::v1::Reminder>> ListDropReminders(
    readstore::ReadStore* store, const std::string& tenant, const std::string& rep) {
  std::vector<crm::customer::v1::Reminder> out;
  absl::Status parse = absl::OkStatus();
  RETURN_IF_ERROR(
      store->Scan(ReminderPrefix(tenant, rep), "", [&](absl::string_view, absl::string_view value) {
        if (!out.emplace_back().ParseFromArray(value.data(), int(value.size()))) {
          parse = absl::DataLossError("corrupt reminder row");
          return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(parse);
  return out;
}

absl::StatusOr<std::vector<crm::customer::v1::Reminder>> ListReservationReminders(
    CustomerCommandHandler* commands, const std::string& tenant, const std::string& rep) {
  ASSIGN_OR_RETURN(const Policy policy, commands->PolicyFor(tenant));
  ASSIGN_OR_RETURN(RepPool pool, commands->GetPool(tenant, rep));
  const absl::Time now = commands->clock()->Now();
  std::vector<crm::customer::v1::Reminder> out;
  for (const std::string& id : pool.reservations) {
    ASSIGN_OR_RETURN(Customer c, commands->Get(tenant, id));
    if (c.reserved_by != rep || c.reservation_secured) continue;
    if (c.reserved_until - policy.warn_before > now) continue;
    crm::customer::v1::Reminder& r = out.emplace_back();
    r.set_customer("customers/" + c.id);
    r.set_company_name(c.profile.company_name());
    r.mutable_due_time()->set_seconds(absl::ToUnixSeconds(c.reserved_until));
    r.set_rule("reservation-lapse");
    r.set_message(absl::StrCat(
        "raise ", c.profile.company_name(), " to ", policy.reservation_completeness_target,
        "% complete before the due time or the reservation lapses (now ", c.completeness, "%)"));
  }
  return out;
}

absl::StatusOr<int> DropScheduler::Tick() {
  const int64_t now = absl::ToUnixMicros(commands_->clock()->Now());
  std::vector<std::pair<std::string, std::string>> due;  // tenant, customer
  RETURN_IF_ERROR(index_->Scan(kDuePrefix, "", [&](absl::string_view key, absl::string_view) {
    absl::string_view rest = key.substr(kDuePrefix.size());
    if (readstore::DecodeBigEndian64(rest.substr(0, 8)) >= now) return false;
    rest.remove_prefix(9);
    const size_t sep = rest.find('\0');
    due.emplace_back(std::string(rest.substr(0, sep)), std::string(rest.substr(sep + 1)));
    return true;
  }));
  int acted = 0;
  for (const auto& [tenant, id] : due) {
    auto r = commands_->EnforceDropProtection(tenant, id);
    if (!r.ok()) {
      LogWarn("drop protection",
              {{"tenant", tenant}, {"customer", id}, {"error", r.status().ToString()}});
      continue;
    }
    ++acted;
  }
  actions_ += acted;
  return acted;
}

void DropScheduler::Start(absl::Duration period) {
  periodic_.Start(period, [this] { return Tick().status(); });
}

void DropScheduler::Stop() { periodic_.Stop(); }

}  // namespace crm::customer
