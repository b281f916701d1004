#include "libs/rpc/rpc.h"

#include "gtest/gtest.h"
#include "libs/status/status.h"

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

}  // namespace
}  // namespace crm::rpc
