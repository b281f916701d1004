#include "libs/rpc/access.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "libs/status/status.h"

namespace crm::rpc {
namespace {

// "staff": the people who work in the CRM. "bi": accounts that read
// analytics. "service": a service acting for a user (lead -> customer and
// opportunity, opportunity -> contract). "operator": the platform team.
constexpr char kStaff[] = "rep manager admin team-lead director legal";

struct Rule {
  const char* method;
  const char* roles;  // space-separated; "staff" expands
};

// clang-format off
constexpr Rule kRules[] = {
    // Leads: any staff member works them; integrations (service) create
    // leads and record engagement; admins change channels and settings.
    {"crm.lead.v1.LeadService/CreateLead", "staff service"},
    {"crm.lead.v1.LeadService/GetLead", "staff"},
    {"crm.lead.v1.LeadService/ListLeads", "staff"},
    {"crm.lead.v1.LeadService/QualifyLead", "staff"},
    {"crm.lead.v1.LeadService/RecordEngagement", "staff service"},
    {"crm.lead.v1.LeadService/ClaimLead", "staff"},
    {"crm.lead.v1.LeadService/ReturnLead", "staff"},
    {"crm.lead.v1.LeadService/RecordFollowUp", "staff"},
    {"crm.lead.v1.LeadService/DisqualifyLead", "staff"},
    {"crm.lead.v1.LeadService/ConvertLead", "staff"},
    {"crm.lead.v1.LeadService/MergeLeads", "staff"},
    {"crm.lead.v1.LeadService/EraseLeadContact", "admin"},
    {"crm.lead.v1.LeadService/ImportLeads", "staff service"},
    {"crm.lead.v1.LeadService/CreateChannel", "admin"},
    {"crm.lead.v1.LeadService/UpdateChannel", "admin"},
    {"crm.lead.v1.LeadService/ListChannels", "staff bi"},
    {"crm.lead.v1.LeadService/GetLeadSettings", "staff"},
    {"crm.lead.v1.LeadService/UpdateLeadSettings", "admin"},
    {"crm.lead.v1.LeadService/GetRepWorkload", "staff"},
    // Customers: visibility per field is the service's own rule on top.
    {"crm.customer.v1.CustomerService/CreateCustomer", "staff service"},
    {"crm.customer.v1.CustomerService/GetCustomer", "staff"},
    {"crm.customer.v1.CustomerService/ListCustomerHistory", "staff"},
    {"crm.customer.v1.CustomerService/UpdateCustomer", "staff"},
    {"crm.customer.v1.CustomerService/EraseContact", "admin"},
    {"crm.customer.v1.CustomerService/ListCustomers", "staff"},
    {"crm.customer.v1.CustomerService/ClaimCustomer", "staff"},
    {"crm.customer.v1.CustomerService/ReserveCustomer", "staff"},
    {"crm.customer.v1.CustomerService/CancelReservation", "staff"},
    {"crm.customer.v1.CustomerService/ReleaseCustomer", "staff"},
    {"crm.customer.v1.CustomerService/RecordTouch", "staff"},
    {"crm.customer.v1.CustomerService/RecordEngagement", "staff service"},
    {"crm.customer.v1.CustomerService/ListReminders", "staff"},
    {"crm.customer.v1.CustomerService/FileConflict", "staff"},
    {"crm.customer.v1.CustomerService/GetConflict", "staff"},
    {"crm.customer.v1.CustomerService/ListContributions", "staff"},
    {"crm.customer.v1.CustomerService/RecordAnnualSales", "staff service"},
    {"crm.customer.v1.CustomerService/CreateSegment", "staff"},
    {"crm.customer.v1.CustomerService/ListSegments", "staff"},
    {"crm.customer.v1.CustomerService/ListSegmentCustomers", "staff"},
    {"crm.customer.v1.CustomerService/GetTenantPolicy", "staff"},
    {"crm.customer.v1.CustomerService/UpdateTenantPolicy", "admin"},
    {"crm.customer.v1.CustomerService/GetRepPool", "staff"},
    {"crm.customer.v1.CustomerService/SetRepCapacity", "manager admin"},
    // Opportunities: losing needs a manager's decision; admins own the
    // price book and pipelines.
    {"crm.opportunity.v1.OpportunityService/CreateOpportunity", "staff service"},
    {"crm.opportunity.v1.OpportunityService/GetOpportunity", "staff"},
    {"crm.opportunity.v1.OpportunityService/ListOpportunities", "staff"},
    {"crm.opportunity.v1.OpportunityService/SetLines", "staff"},
    {"crm.opportunity.v1.OpportunityService/RecordNeed", "staff"},
    {"crm.opportunity.v1.OpportunityService/SendQuote", "staff"},
    {"crm.opportunity.v1.OpportunityService/UpdateForecast", "staff"},
    {"crm.opportunity.v1.OpportunityService/AdvanceStage", "staff"},
    {"crm.opportunity.v1.OpportunityService/RequestCloseLost", "staff"},
    {"crm.opportunity.v1.OpportunityService/DecideCloseLost", "manager admin"},
    {"crm.opportunity.v1.OpportunityService/CloseWon", "staff"},
    {"crm.opportunity.v1.OpportunityService/GetForecast", "staff bi"},
    {"crm.opportunity.v1.OpportunityService/SaveProduct", "admin"},
    {"crm.opportunity.v1.OpportunityService/ListProducts", "staff"},
    {"crm.opportunity.v1.OpportunityService/GetOpportunitySettings", "staff"},
    {"crm.opportunity.v1.OpportunityService/UpdateOpportunitySettings", "admin"},
    // Contracts: approvers are named by the rules or hold the step's role;
    // admins own templates and approval rules.
    {"crm.contract.v1.ContractService/CreateContract", "staff service"},
    {"crm.contract.v1.ContractService/GetContract", "staff"},
    {"crm.contract.v1.ContractService/ListContracts", "staff"},
    {"crm.contract.v1.ContractService/ChangeContract", "staff"},
    {"crm.contract.v1.ContractService/SubmitContract", "staff"},
    {"crm.contract.v1.ContractService/ApproveContract", "staff"},
    {"crm.contract.v1.ContractService/RejectContract", "staff"},
    {"crm.contract.v1.ContractService/SendContract", "staff"},
    {"crm.contract.v1.ContractService/ConfirmContract", "staff"},
    {"crm.contract.v1.ContractService/EndContract", "staff"},
    {"crm.contract.v1.ContractService/SetPaymentPlan", "staff"},
    {"crm.contract.v1.ContractService/RecordPayment", "staff service"},
    {"crm.contract.v1.ContractService/GetReceivables", "staff bi"},
    {"crm.contract.v1.ContractService/AddMilestone", "staff service"},
    {"crm.contract.v1.ContractService/CompleteMilestone", "staff"},
    {"crm.contract.v1.ContractService/ListContractReminders", "staff"},
    {"crm.contract.v1.ContractService/SaveTemplate", "admin"},
    {"crm.contract.v1.ContractService/GetApprovalRules", "staff"},
    {"crm.contract.v1.ContractService/UpdateApprovalRules", "admin"},
    // Analytics: read-only figures for staff and BI accounts.
    {"crm.analytics.v1.AnalyticsService/GetLeadCountsByChannel", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetFunnel", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetChannelValue", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetOwnership", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetRepPoolAsOf", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetPoolHealth", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetRanking", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetForecast", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetForecastAccuracy", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/GetReceivables", "staff bi"},
    {"crm.analytics.v1.AnalyticsService/BacktestPoolRules", "staff bi"},
    // Operations, on every service.
    {"crm.ops.v1.OpsService/ListParkedEvents", "admin operator"},
    {"crm.ops.v1.OpsService/GetProjectionProgress", "operator"},
};
// clang-format on

class Recorder : public grpc::experimental::Interceptor {
 public:
  explicit Recorder(grpc::experimental::ServerRpcInfo* info) : method_(info->method()) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      md->erase(kMethodMetadata);  // whatever a client sent under the name
      md->emplace(kMethodMetadata, method_);
    }
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      // gRPC answers a request it cannot decode with a bare INTERNAL before
      // any handler runs (handlers always say why); say what it is.
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::INTERNAL && status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request to ", method_,
                         " is not a valid protobuf message of its type (malformed bytes, "
                         "invalid UTF-8 in a string field, or nesting deeper than 100)")));
      }
    }
    methods->Proceed();
  }

 private:
  const char* method_;  // "/package.Service/Method", owned by the server
};

class RecorderFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new Recorder(info);
  }
};

}  // namespace

const std::map<std::string, std::set<std::string>>& AccessTable() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, std::set<std::string>>();
    for (const Rule& rule : kRules) {
      auto& roles = (*t)[rule.method];
      for (absl::string_view role : absl::StrSplit(rule.roles, ' ', absl::SkipEmpty())) {
        if (role == "staff") {
          for (absl::string_view r : absl::StrSplit(kStaff, ' ')) roles.emplace(r);
        } else {
          roles.emplace(role);
        }
      }
    }
    return t;
  }();
  return *table;
}

absl::Status CheckAccess(const std::string& method, const std::set<std::string>& roles) {
  const auto& table = AccessTable();
  auto it = table.find(method);
  if (it == table.end()) {
    return ErrorWithReason(absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED",
                           absl::StrCat("no role may call ", method));
  }
  const std::set<std::string> effective =
      roles.empty() ? std::set<std::string>{kDefaultRole} : roles;
  for (const auto& role : effective) {
    if (it->second.count(role)) return absl::OkStatus();
  }
  return ErrorWithReason(
      absl::StatusCode::kPermissionDenied, "ROLE_NOT_ALLOWED",
      absl::StrCat(method, " needs one of the roles ", absl::StrJoin(it->second, ", "),
                   "; the token has ", absl::StrJoin(effective, ", ")));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MethodRecorder() {
  return std::make_unique<RecorderFactory>();
}

}  // namespace crm::rpc
