// Payment prediction: which history each method draws on, and the error
// measured by predicting the past from what was known then.

#include "services/contract/domain/payment_prediction.h"

#include "gtest/gtest.h"

namespace crm::contract {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
absl::Duration Days(int d) { return absl::Hours(24 * d); }

// An installment due on `due_day`, paid `delay` days later.
PaidInstallment Paid(const std::string& customer, const std::string& industry, int due_day,
                     int delay) {
  return {customer, industry, kT0 + Days(due_day), kT0 + Days(due_day + delay)};
}

TEST(PaymentPredictionTest, TheCustomersOwnHistoryComesFirstThenPeersThenTheTenant) {
  const std::vector<PaidInstallment> history = {
      Paid("late", "retail", 0, 20), Paid("late", "retail", 30, 10), Paid("late", "retail", 60, 30),
      Paid("r1", "retail", 0, 5),    Paid("r2", "retail", 0, 7),     Paid("m1", "mining", 0, -2),
  };
  const absl::Time later = kT0 + Days(200);
  Prediction p = PredictDelay(history, "late", "retail", later);
  EXPECT_EQ(p.method, "customer-median");
  EXPECT_EQ(p.delay, Days(20));
  EXPECT_EQ(p.samples, 3);

  // A new retail customer: the other retail customers' median (20, 10, 30,
  // 5, 7 → 10).
  p = PredictDelay(history, "new", "retail", later);
  EXPECT_EQ(p.method, "industry-median");
  EXPECT_EQ(p.delay, Days(10));

  // A new customer of an industry with too little history: the tenant's.
  p = PredictDelay(history, "new", "mining", later);
  EXPECT_EQ(p.method, "tenant-median");
  EXPECT_EQ(p.delay, absl::Hours(24 * 8 + 12));  // median of -2, 5, 7, 10, 20, 30
}

TEST(PaymentPredictionTest, OnlyPaymentsMadeBeforeTheMomentCount) {
  const std::vector<PaidInstallment> history = {Paid("a", "", 0, 10), Paid("a", "", 30, 40)};
  Prediction p = PredictDelay(history, "a", "", kT0 + Days(5));
  EXPECT_EQ(p.method, "due-date");
  EXPECT_EQ(p.delay, absl::ZeroDuration());
  p = PredictDelay(history, "a", "", kT0 + Days(11));
  EXPECT_EQ(p.method, "customer-median");
  EXPECT_EQ(p.delay, Days(10));
}

TEST(PaymentPredictionTest, TheErrorIsMeasuredAgainstWhatActuallyHappened) {
  // A customer who always pays 10 days late: the first is predicted on the
  // due date (10 days off), every later one exactly.
  std::vector<PaidInstallment> history;
  for (int i = 0; i < 4; ++i) history.push_back(Paid("steady", "", 30 * i, 10));
  PredictionQuality q = MeasurePrediction(history);
  EXPECT_EQ(q.samples, 4);
  EXPECT_DOUBLE_EQ(q.mean_absolute_error_days, 10.0 / 4);
  EXPECT_DOUBLE_EQ(q.within_7_days, 3.0 / 4);
  EXPECT_EQ(MeasurePrediction({}).samples, 0);
}

}  // namespace
}  // namespace crm::contract
