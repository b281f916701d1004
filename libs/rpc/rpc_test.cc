#include "libs/rpc/rpc.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "crm/contract/v1/contract_service.pb.h"
#include "crm/customer/v1/customer_service.pb.h"
#include "crm/lead/v1/lead_service.pb.h"
#include "crm/opportunity/v1/opportunity_service.pb.h"
#include "crm/ops/v1/ops_service.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"
#include "libs/rpc/access.h"
#include "libs/status/status.h"
#include "libs/testing/auth.h"

namespace crm::rpc {
namespace {

TEST(RpcTest, FieldViolationsSurviveTheWire) {
  FieldViolations v;
  v.Add("lead.email", "must be a valid email address");
  grpc::Status wire = ToGrpcStatus(v.ToStatus());
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  absl::Status back = FromGrpcStatus(wire);
  ASSERT_EQ(BadRequestOf(back).field_violations_size(), 1);
  EXPECT_EQ(BadRequestOf(back).field_violations(0).field(), "lead.email");
}

TEST(RpcTest, ReasonSurvivesTheWire) {
  grpc::Status wire = ToGrpcStatus(
      ErrorWithReason(absl::StatusCode::kFailedPrecondition, "CUSTOMER_POOL_FULL", "full"));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReason(FromGrpcStatus(wire)), "CUSTOMER_POOL_FULL");
}

TEST(RpcTest, PageTokensAreBoundToTheirList) {
  std::string token = EncodePageToken("leads", "l0001");
  EXPECT_EQ(*DecodePageToken("leads", token), "l0001");
  EXPECT_EQ(*DecodePageToken("leads", ""), "");
  EXPECT_EQ(DecodePageToken("customers", token).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken("leads", "%%%").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RpcTest, PageSizeRules) {
  EXPECT_EQ(*PageSize(0), 100);
  EXPECT_EQ(*PageSize(5000), 1000);
  EXPECT_EQ(*PageSize(7), 7);
  EXPECT_EQ(PageSize(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RpcTest, ParseNameAndRequestId) {
  EXPECT_EQ(*ParseName("leads", "leads/l1"), "l1");
  for (const std::string& bad : std::vector<std::string>{"leads/", "customers/c1", "leads/a/b",
                                                         std::string("leads/a\0b", 9)}) {
    auto s = ParseName("leads", bad);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(
      BadRequestOf(ParseName("customers", "x", "customer").status()).field_violations(0).field(),
      "customer");
  FieldViolations v;
  CheckRequestId("", v);
  CheckRequestId(std::string(129, 'x'), v);
  CheckRequestId("ok", v);
  EXPECT_EQ(BadRequestOf(v.ToStatus()).field_violations_size(), 2);
}

// The caller of a server call that carried `authorization` (if not empty).
// The method defaults to one every staff role may call.
absl::StatusOr<Caller> CallerWith(const std::string& authorization,
                                  const std::string& method = "crm.lead.v1.LeadService/GetLead") {
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  if (!authorization.empty()) spouse.AddClientMetadata(kAuthorizationMetadata, authorization);
  if (!method.empty()) spouse.AddClientMetadata(kMethodMetadata, "/" + method);
  return CallerFrom(context);
}

TEST(CallerTest, TheCallerIsWhatTheVerifiedTokenSays) {
  test::InstallTestVerifier();
  auto caller = CallerWith("Bearer " +
                           test::TestToken("mgr-1", "acme", "manager, admin", {"north", "south"}));
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->tenant, "acme");
  EXPECT_EQ(caller->user, "mgr-1");
  EXPECT_TRUE(caller->manager);
  EXPECT_TRUE(caller->admin);
  EXPECT_THAT(caller->teams, ::testing::ElementsAre("north", "south"));
  EXPECT_TRUE(caller->service.empty());
}

TEST(CallerTest, MissingMalformedForeignOrBadlyNamedTokensAreUnauthenticated) {
  test::InstallTestVerifier();
  auto code = [](const std::string& authorization) {
    return CallerWith(authorization).status().code();
  };
  EXPECT_EQ(code(""), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code("Basic dXNlcjpwdw=="), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code("Bearer not-a-token"), absl::StatusCode::kUnauthenticated);
  auto foreign = *auth::Key::FromMaterial("a-secret-this-platform-does-not-trust!!");
  auth::Identity id;
  id.tenant = "acme";
  id.user = "rep-1";
  EXPECT_EQ(code("Bearer " + auth::Signer::Create(foreign)->Mint(id, absl::Now(), absl::Hours(1))),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code("Bearer " + test::TestToken("Rep One", "acme")),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code("Bearer " + test::TestToken("rep-1", "ACME/other")),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(CallerWith("Bearer " + test::TestToken("rep-1")).ok());
}

TEST(CallerTest, AServiceActsForTheUserItNames) {
  test::InstallTestVerifier();
  ServiceTokens tokens = test::TestServiceTokens("lead");
  const std::string token = tokens.For("acme", "rep-7");
  EXPECT_EQ(tokens.For("acme", "rep-7"), token);  // reused until near expiry
  auto caller = CallerWith("Bearer " + token, "crm.customer.v1.CustomerService/CreateCustomer");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->user, "rep-7");
  EXPECT_EQ(caller->service, "lead");
  EXPECT_TRUE(caller->roles.count("service"));
  EXPECT_FALSE(caller->admin);
}

TEST(CallerTest, AProcessWithoutAVerifierRefusesEveryCall) {
  InstallVerifier(nullptr);
  EXPECT_EQ(CallerWith("Bearer " + test::TestToken("rep-1")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AccessTest, EachMethodAdmitsTheRolesItsRowNames) {
  test::InstallTestVerifier();
  auto call = [](const std::string& roles, const std::string& method) {
    return CallerWith("Bearer " + test::TestToken("u-1", "acme", roles), method).status();
  };
  const std::string channels = "crm.lead.v1.LeadService/CreateChannel";
  absl::Status denied = call("rep,manager", channels);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorReason(denied), "ROLE_NOT_ALLOWED");
  EXPECT_NE(denied.message().find("admin"), std::string::npos) << denied;
  EXPECT_TRUE(call("rep, admin", channels).ok());
  // No role counts as rep; bi reads analytics and nothing else.
  EXPECT_TRUE(call("", "crm.lead.v1.LeadService/ClaimLead").ok());
  EXPECT_TRUE(call("bi", "crm.analytics.v1.AnalyticsService/GetFunnel").ok());
  EXPECT_EQ(call("bi", "crm.lead.v1.LeadService/ClaimLead").code(),
            absl::StatusCode::kPermissionDenied);
  // Unknown methods and calls whose method went unrecorded are refused.
  EXPECT_EQ(call("admin", "crm.lead.v1.LeadService/DropEverything").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CallerWith("Bearer " + test::TestToken("u-1", "acme", "admin"), "").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(AccessTest, EveryRpcOfEveryServiceHasARow) {
  std::set<std::string> methods;
  for (const google::protobuf::FileDescriptor* file :
       {crm::lead::v1::CreateLeadRequest::descriptor()->file(),
        crm::customer::v1::CreateCustomerRequest::descriptor()->file(),
        crm::opportunity::v1::CreateOpportunityRequest::descriptor()->file(),
        crm::contract::v1::CreateContractRequest::descriptor()->file(),
        crm::analytics::v1::GetFunnelRequest::descriptor()->file(),
        crm::ops::v1::ListParkedEventsRequest::descriptor()->file()}) {
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        methods.insert(
            absl::StrCat(file->service(s)->full_name(), "/", file->service(s)->method(m)->name()));
      }
    }
  }
  std::set<std::string> rows;
  for (const auto& [method, roles] : AccessTable()) rows.insert(method);
  EXPECT_EQ(rows, methods);
}

TEST(AccessTest, TheTableInDocsSecurityIsTheTableTheCodeChecks) {
  std::ifstream in(std::string(CRM_SOURCE_DIR) + "/docs/security.md");
  ASSERT_TRUE(in) << "docs/security.md";
  std::map<std::string, std::set<std::string>> documented;
  std::string line;
  while (std::getline(in, line)) {
    // | `crm.x.v1.Service/Method` | role, role |
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() != 4 || !absl::StartsWith(absl::StripAsciiWhitespace(cells[1]), "`crm.")) {
      continue;
    }
    std::string method(absl::StripAsciiWhitespace(cells[1]));
    method = method.substr(1, method.size() - 2);
    auto& roles = documented[method];
    for (absl::string_view role : absl::StrSplit(cells[2], ',', absl::SkipWhitespace())) {
      role = absl::StripAsciiWhitespace(role);
      if (role == "staff") {
        roles.insert({"rep", "manager", "admin", "team-lead", "director", "legal"});
      } else {
        roles.emplace(role);
      }
    }
  }
  EXPECT_EQ(documented, AccessTable());
}

}  // namespace
}  // namespace crm::rpc
