#include "libs/normalize/normalize.h"

#include "gtest/gtest.h"

namespace crm {
namespace {

TEST(NormalizeTest, Normalisers) {
  EXPECT_EQ(NormalizeCompanyName("Globex Corporation"), "globex");
  EXPECT_EQ(NormalizeCompanyName("Initech  GmbH & Co."), "initech");
  EXPECT_EQ(NormalizeCompanyName("Co"), "co");  // a name is never stripped to nothing
  EXPECT_EQ(NormalizePhone("123"), std::nullopt);
  EXPECT_EQ(NormalizePhone("+1 234 567 890"), "+1234567890");
  EXPECT_EQ(NormalizePhone("1234567890123456"), std::nullopt);
  EXPECT_EQ(NormalizePhone("12+34567"), std::nullopt);
  EXPECT_EQ(NormalizeEmail("a@b"), std::nullopt);
  EXPECT_EQ(NormalizeEmail("a b@c.de"), std::nullopt);
  EXPECT_EQ(NormalizeEmail("a@@c.de"), std::nullopt);
  EXPECT_EQ(NormalizeEmail("X@Y.Z"), "x@y.z");
}

}  // namespace
}  // namespace crm
