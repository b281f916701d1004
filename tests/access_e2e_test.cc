// Walks the access table (libs/rpc/access.cc, which a unit test holds equal
// to docs/security.md) against the five running services: every RPC, called
// with a token of each role, is refused with ROLE_NOT_ALLOWED exactly when
// the table does not list the role. Calls carry empty requests, so the
// allowed ones end in the handlers' own answers (mostly INVALID_ARGUMENT).
// Also: calls without a valid token are UNAUTHENTICATED on every service.

#include <future>

#include "absl/strings/str_split.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "libs/rpc/access.h"
#include "libs/status/status.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

const char* const kRoles[] = {"rep",   "manager", "admin",   "team-lead", "director",
                              "legal", "bi",      "service", "operator"};

// "crm.lead.v1.LeadService/X" -> "lead"; the ops service is walked on lead.
std::string ServiceOf(const std::string& method) {
  std::vector<std::string> parts = absl::StrSplit(method, '.');
  return parts[1] == "ops" ? "lead" : parts[1];
}

TEST(AccessE2eTest, EveryRpcRefusesExactlyTheRolesTheTableDoesNotList) {
  Platform p;
  auto channels = p.StartAll(
      {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN, CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN});
  rpc::ServiceTokens service_tokens = TestServiceTokens("lead");

  int calls = 0, refused = 0;
  for (const auto& [method, allowed] : rpc::AccessTable()) {
    const auto& channel = channels[ServiceOf(method)];
    for (const std::string role : kRoles) {
      const std::string token =
          role == "service" ? service_tokens.For("walk", "rep-1") : TestToken("u-1", "walk", role);
      const grpc::Status s = RawCall(channel, "/" + method, "", token);
      const std::string reason = ErrorReason(rpc::FromGrpcStatus(s));
      ++calls;
      if (allowed.count(role)) {
        EXPECT_NE(reason, "ROLE_NOT_ALLOWED") << method << " as " << role;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << " as " << role;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAVAILABLE) << method << " as " << role;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method << " as " << role;
      } else {
        ++refused;
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << role << ": " << s.error_message();
        EXPECT_EQ(reason, "ROLE_NOT_ALLOWED") << method << " as " << role;
      }
    }
  }
  EXPECT_EQ(calls, 9 * static_cast<int>(rpc::AccessTable().size()));
  EXPECT_GT(refused, 0);

  // Without a token, or with one signed by a key the platform does not
  // hold, every service says UNAUTHENTICATED.
  auth::Identity id;
  id.tenant = "walk";
  id.user = "u-1";
  id.roles = {"admin"};
  const std::string forged =
      auth::Signer::Create(*auth::Key::FromMaterial("a-key-the-platform-does-not-hold-0123"))
          ->Mint(id, absl::Now(), absl::Hours(1));
  for (const auto& [name, channel] : channels) {
    const std::string method = name == "analytics" ? "/crm.analytics.v1.AnalyticsService/GetFunnel"
                                                   : "/crm.ops.v1.OpsService/ListParkedEvents";
    EXPECT_EQ(RawCall(channel, method, "").error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    EXPECT_EQ(RawCall(channel, method, "", forged).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << name;
  }
}

}  // namespace
}  // namespace crm::test

namespace crm::test {
namespace {

// A protobuf string field `number` holding `value` (short values only).
std::string Field(int number, const std::string& value) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  if (value.size() < 128) return out + static_cast<char>(value.size()) + value;
  size_t n = value.size();
  while (n >= 128) {
    out += static_cast<char>((n & 127) | 128);
    n >>= 7;
  }
  return out + static_cast<char>(n) + value;
}

TEST(EdgeE2eTest, HostileInputGetsAClearErrorAndTheServiceKeepsServing) {
  Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  auto channel = p.Channel("customer");
  const std::string create = "/crm.customer.v1.CustomerService/CreateCustomer";
  const std::string admin = TestToken("u-1", "edge", "admin");
  // CreateCustomerRequest: request_id = 1, customer = 2 (company_name = 3).
  auto customer = [&](const std::string& company) {
    return Field(1, "edge-1") + Field(2, Field(3, company));
  };

  // Over the 4 MiB message limit.
  const grpc::Status big = RawCall(channel, create, customer(std::string(5 << 20, 'x')), admin);
  EXPECT_EQ(big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << big.error_message();
  // Invalid UTF-8 in a string field, and unknown groups nested 10,000 deep.
  const grpc::Status utf8 = RawCall(channel, create, customer("Acme \xff\xfe GmbH"), admin);
  EXPECT_EQ(utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(utf8.error_message().find("invalid UTF-8"), std::string::npos) << utf8.error_message();
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += static_cast<char>(15 << 3 | 3);  // start group 15
  const grpc::Status nested = RawCall(channel, create, deep, admin);
  EXPECT_EQ(nested.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(nested.error_message().find("CreateCustomer"), std::string::npos)
      << nested.error_message();
  // A field over its length limit is named.
  const grpc::Status long_name = RawCall(channel, create, customer(std::string(5000, 'x')), admin);
  EXPECT_EQ(long_name.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(long_name.error_message().find("customer.company_name"), std::string::npos)
      << long_name.error_message();

  auto customers = crm::customer::v1::CustomerService::NewStub(channel);
  crm::customer::v1::Customer created;
  {
    crm::customer::v1::CreateCustomerRequest req;
    req.set_request_id("edge-ok");
    req.mutable_customer()->set_company_name("Edge AG");
    grpc::ClientContext ctx;
    As(ctx, "rep-1", "edge");
    grpc::Status s = customers->CreateCustomer(&ctx, req, &created);
    ASSERT_TRUE(s.ok()) << s.error_message();  // still serving
  }
  {
    // Huge page sizes are capped; negative ones are named.
    crm::customer::v1::ListCustomersRequest req;
    req.set_page_size(2'000'000'000);
    crm::customer::v1::ListCustomersResponse out;
    grpc::ClientContext ctx;
    As(ctx, "rep-1", "edge");
    EXPECT_TRUE(customers->ListCustomers(&ctx, req, &out).ok());
    req.set_page_size(-1);
    grpc::ClientContext again;
    As(again, "rep-1", "edge");
    const grpc::Status s = customers->ListCustomers(&again, req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("page_size"), std::string::npos) << s.error_message();
  }
  {
    // Negative amounts are refused naming the field.
    crm::customer::v1::RecordAnnualSalesRequest req;
    req.set_request_id("edge-sales");
    req.set_customer(created.name());
    req.mutable_sales()->set_year(2025);
    req.mutable_sales()->set_amount(-100);
    crm::customer::v1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, "rep-1", "edge");
    const grpc::Status s = customers->RecordAnnualSales(&ctx, req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("sales.amount"), std::string::npos) << s.error_message();
  }
}

}  // namespace
}  // namespace crm::test
