#ifndef CRM_TOOLS_CRMCTL_COMMANDS_H_
#define CRM_TOOLS_CRMCTL_COMMANDS_H_

// crmctl's commands, a file per service (lead.cc, customer.cc,
// opportunity.cc, contract.cc, analytics.cc), the operator's (ops.cc), the
// demo tenant (demo.cc) and the simulator (simulate.cc). Each takes the
// parsed command line and returns the process's exit code.

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "tools/crmctl/client.h"

namespace crm::crmctl {

// Every command with its flags (main.cc).
extern const char kUsage[];

int LeadCommand(Client& c, const Args& a);
int ChannelCommand(Client& c, const Args& a);
int CustomerCommand(Client& c, const Args& a);
int OpportunityCommand(Client& c, const Args& a);
int ProductCommand(Client& c, const Args& a);
int ContractCommand(Client& c, const Args& a);
int AnalyticsCommand(Client& c, const Args& a);
int OpsCommand(Client& c, const Args& a);
int CallCommand(Client& c, const Args& a);
int DemoLoad(Client& c, const Args& a);

// The enum value whose name ends in `suffix` (case-insensitive), e.g. "paid"
// for CHANNEL_KIND_PAID; -1 when none does.
int EnumValue(const google::protobuf::EnumDescriptor* e, const std::string& suffix);
// The short name of an enum value: "QUEUED" for LEAD_STATE_QUEUED.
std::string Short(const google::protobuf::EnumDescriptor* e, int value, absl::string_view prefix);
// "seat:10:500,setup:1" -> lines (product:quantity[:discount basis points]).
bool ParseLines(const std::string& text,
                google::protobuf::RepeatedPtrField<crm::opportunity::v1::LineInput>* out);

}  // namespace crm::crmctl

#endif  // CRM_TOOLS_CRMCTL_COMMANDS_H_
