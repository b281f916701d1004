#include "libs/money/money.h"

#include "gtest/gtest.h"

namespace crm {
namespace {

TEST(MoneyTest, LineAmountRoundsHalfUpToAMinorUnit) {
  EXPECT_EQ(LineAmount(3, 1999, 0), 5997);
  EXPECT_EQ(LineAmount(1, 1000, 1250), 875);  // 12.5% off 10.00
  EXPECT_EQ(LineAmount(1, 1, 5000), 1);       // 0.5 cent rounds up
  EXPECT_EQ(LineAmount(1, 1, 5001), 0);
  EXPECT_EQ(LineAmount(7, 333, 10000), 0);
}

TEST(MoneyTest, RefusesNegativeInputsAndOverflow) {
  EXPECT_FALSE(LineAmount(-1, 100, 0));
  EXPECT_FALSE(LineAmount(1, -100, 0));
  EXPECT_FALSE(LineAmount(1, 100, 10001));
  EXPECT_FALSE(LineAmount(1000000, INT64_MAX / 10, 0));
  EXPECT_FALSE(AddMoney(INT64_MAX, 1));
  EXPECT_EQ(AddMoney(2, 3), 5);
}

TEST(MoneyTest, FormatsMinorUnitsWithTwoDecimals) {
  EXPECT_EQ(FormatMinorUnits(123450), "1234.50");
  EXPECT_EQ(FormatMinorUnits(7), "0.07");
  EXPECT_EQ(FormatMinorUnits(-5), "-0.05");
  EXPECT_EQ(FormatMinorUnits(INT64_MIN), "-92233720368547758.08");
}

}  // namespace
}  // namespace crm
