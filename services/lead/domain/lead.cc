#include "services/lead/domain/lead.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

constexpr size_t kMaxNameLength = 200;

bool ValidChannelId(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<LeadEvent>> Decide(const Lead& lead, const CreateLead& cmd) {
  if (lead.exists()) return absl::AlreadyExistsError("lead " + lead.id + " already exists");
  FieldViolations v;
  if (cmd.channel_id.empty()) {
    v.Add("lead.channel_id", "is required");
  } else if (!ValidChannelId(cmd.channel_id)) {
    v.Add("lead.channel_id", "must be 1-64 characters of letters, digits, '-' and '_'");
  }
  const std::string company(absl::StripAsciiWhitespace(cmd.company_name));
  const std::string contact(absl::StripAsciiWhitespace(cmd.contact_name));
  if (company.empty() && contact.empty()) {
    v.Add("lead.company_name", "this or lead.contact_name is required");
  }
  if (company.size() > kMaxNameLength) v.Add("lead.company_name", "must be at most 200 bytes");
  if (contact.size() > kMaxNameLength) v.Add("lead.contact_name", "must be at most 200 bytes");
  std::optional<std::string> email, phone;
  if (!cmd.email.empty() && !(email = NormalizeEmail(cmd.email))) {
    v.Add("lead.email", "must be a valid email address");
  }
  if (!cmd.phone.empty() && !(phone = NormalizePhone(cmd.phone))) {
    v.Add("lead.phone", "must be 6-15 digits, optionally with a leading '+'");
  }
  RETURN_IF_ERROR(v.ToStatus());

  LeadEvent event;
  LeadCreated* c = event.mutable_created();
  c->set_lead_id(cmd.lead_id);
  c->set_channel_id(cmd.channel_id);
  c->set_company_name(company);
  c->set_normalized_company_name(NormalizeCompanyName(company));
  c->set_contact_name(contact);
  c->set_email(email.value_or(""));
  c->set_phone(phone.value_or(""));
  c->set_created_by(cmd.user);
  c->mutable_create_time()->set_seconds(absl::ToUnixSeconds(cmd.now));
  return std::vector<LeadEvent>{event};
}

Lead Evolve(Lead lead, const LeadEvent& event) {
  ++lead.version;
  switch (event.event_case()) {
    case LeadEvent::kCreated:
      lead.id = event.created().lead_id();
      lead.profile = event.created();
      break;
    case LeadEvent::EVENT_NOT_SET:
      break;
  }
  return lead;
}

}  // namespace crm::lead
