#ifndef CRM_SERVICES_CONTRACT_DOMAIN_PAYMENT_PREDICTION_H_
#define CRM_SERVICES_CONTRACT_DOMAIN_PAYMENT_PREDICTION_H_

// When will the money come? Each open installment's expected payment date is
// its due date plus a delay learned from installments already paid in full:
// the median delay of this customer's; without any, of other customers of
// the same industry (at least 3); without those, of the tenant's (at least
// 3); else none (the due date). Pure functions, no I/O.
//
// The method is measured on the tenant's own history: every paid
// installment is predicted again from only the payments made before the
// moment it was due (or paid, if that was earlier), and compared with when
// it was actually paid.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::contract {

struct PaidInstallment {
  std::string customer;
  std::string industry;  // empty when unknown
  absl::Time due;
  absl::Time paid;  // when the last of it arrived
};

struct Prediction {
  absl::Duration delay;  // negative: paid early
  // "customer-median", "industry-median", "tenant-median" or "due-date".
  std::string method;
  int samples = 0;
};

inline constexpr int kMinPeerSamples = 3;

// Uses only the installments of `history` paid before `as_of`.
Prediction PredictDelay(const std::vector<PaidInstallment>& history, absl::string_view customer,
                        absl::string_view industry, absl::Time as_of);

// For each installment of `history`, in order: how many days later than
// predicted it was paid (negative: earlier), predicted from only the
// installments paid before it was due (or paid, if that was earlier).
std::vector<double> PredictionErrorsDays(const std::vector<PaidInstallment>& history);

struct PredictionQuality {
  int samples = 0;
  double mean_absolute_error_days = 0;
  double within_7_days = 0;  // share, 0-1
};
PredictionQuality MeasurePrediction(const std::vector<PaidInstallment>& history);
// The same over errors from PredictionErrorsDays.
PredictionQuality MeasureErrors(const std::vector<double>& errors_days);

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_DOMAIN_PAYMENT_PREDICTION_H_
