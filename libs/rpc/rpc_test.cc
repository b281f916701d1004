#include "libs/rpc/rpc.h"

#include "gmock/gmock.h"
#include "grpcpp/test/server_context_test_spouse.h"
#include "gtest/gtest.h"
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
absl::StatusOr<Caller> CallerWith(const std::string& authorization) {
  grpc::ServerContext context;
  grpc::testing::ServerContextTestSpouse spouse(&context);
  if (!authorization.empty()) spouse.AddClientMetadata(kAuthorizationMetadata, authorization);
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
  auto caller = CallerWith("Bearer " + token);
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

}  // namespace
}  // namespace crm::rpc
