#include "libs/status/status.h"

#include "gtest/gtest.h"

namespace crm {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusTest, FieldViolationsNameEveryField) {
  FieldViolations v;
  EXPECT_TRUE(v.ToStatus().ok());
  v.Add("lead.email", "must be a valid email address");
  v.Add("lead.channel_id", "is required");
  absl::Status s = v.ToStatus();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("lead.email"), std::string::npos);
  google::rpc::BadRequest br = BadRequestOf(s);
  ASSERT_EQ(br.field_violations_size(), 2);
  EXPECT_EQ(br.field_violations(1).field(), "lead.channel_id");
}

TEST(StatusTest, ErrorReasonRoundTrips) {
  absl::Status s =
      ErrorWithReason(absl::StatusCode::kFailedPrecondition, "CUSTOMER_POOL_FULL", "pool is full");
  EXPECT_EQ(ErrorReason(s), "CUSTOMER_POOL_FULL");
  EXPECT_EQ(ErrorReason(absl::InternalError("x")), "");
}

}  // namespace
}  // namespace crm
