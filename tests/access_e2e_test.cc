// Walks the access table (libs/rpc/access.cc, which a unit test holds equal
// to docs/security.md) against the five running services: every RPC, called
// with a token of each role, is refused with ROLE_NOT_ALLOWED exactly when
// the table does not list the role. Calls carry empty requests, so the
// allowed ones end in the handlers' own answers (mostly INVALID_ARGUMENT).
// Also: calls without a valid token are UNAUTHENTICATED on every service.

#include <future>

#include "absl/strings/str_split.h"
#include "grpcpp/generic/generic_stub.h"
#include "libs/rpc/access.h"
#include "libs/status/status.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

const char* const kRoles[] = {"rep",   "manager", "admin",   "team-lead", "director",
                              "legal", "bi",      "service", "operator"};

// Unary call of `method` ("/pkg.Service/Method") with an empty request.
grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& token) {
  grpc::Slice empty("");
  grpc::ByteBuffer in(&empty, 1), out;
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  if (!token.empty()) rpc::SetBearer(ctx, token);
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &in, &out,
                 [&](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

// "crm.lead.v1.LeadService/X" -> "lead"; the ops service is walked on lead.
std::string ServiceOf(const std::string& method) {
  std::vector<std::string> parts = absl::StrSplit(method, '.');
  return parts[1] == "ops" ? "lead" : parts[1];
}

TEST(AccessE2eTest, EveryRpcRefusesExactlyTheRolesTheTableDoesNotList) {
  Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  p.Start("contract", CRM_CONTRACT_BIN);
  p.Start("opportunity", CRM_OPPORTUNITY_BIN, {"--contract-endpoint=" + p.Address("contract")});
  p.Start("lead", CRM_LEAD_BIN,
          {"--customer-endpoint=" + p.Address("customer"),
           "--opportunity-endpoint=" + p.Address("opportunity")});
  p.Start("analytics", CRM_ANALYTICS_BIN);
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (const char* s : {"lead", "customer", "opportunity", "contract", "analytics"}) {
    channels[s] = p.Channel(s);
  }
  rpc::ServiceTokens service_tokens = TestServiceTokens("lead");

  int calls = 0, refused = 0;
  for (const auto& [method, allowed] : rpc::AccessTable()) {
    const auto& channel = channels[ServiceOf(method)];
    for (const std::string role : kRoles) {
      const std::string token =
          role == "service" ? service_tokens.For("walk", "rep-1") : TestToken("u-1", "walk", role);
      const grpc::Status s = Call(channel, "/" + method, token);
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
    EXPECT_EQ(Call(channel, method, "").error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    EXPECT_EQ(Call(channel, method, forged).error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << name;
  }
}

}  // namespace
}  // namespace crm::test
