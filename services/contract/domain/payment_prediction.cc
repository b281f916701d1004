#include "services/contract/domain/payment_prediction.h"

#include <algorithm>
#include <cmath>

namespace crm::contract {
namespace {

absl::Duration Median(std::vector<absl::Duration> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

Prediction PredictDelay(const std::vector<PaidInstallment>& history, absl::string_view customer,
                        absl::string_view industry, absl::Time as_of) {
  std::vector<absl::Duration> own, peers, tenant;
  for (const auto& h : history) {
    if (h.paid >= as_of) continue;
    const absl::Duration delay = h.paid - h.due;
    tenant.push_back(delay);
    if (h.customer == customer) {
      own.push_back(delay);
    } else if (!industry.empty() && h.industry == industry) {
      peers.push_back(delay);
    }
  }
  if (!own.empty()) return {Median(own), "customer-median", static_cast<int>(own.size())};
  if (peers.size() >= kMinPeerSamples) {
    return {Median(peers), "industry-median", static_cast<int>(peers.size())};
  }
  if (tenant.size() >= kMinPeerSamples) {
    return {Median(tenant), "tenant-median", static_cast<int>(tenant.size())};
  }
  return {absl::ZeroDuration(), "due-date", 0};
}

std::vector<double> PredictionErrorsDays(const std::vector<PaidInstallment>& history) {
  std::vector<double> out;
  out.reserve(history.size());
  for (const auto& h : history) {
    const Prediction p = PredictDelay(history, h.customer, h.industry, std::min(h.due, h.paid));
    out.push_back(absl::ToDoubleHours((h.paid - h.due) - p.delay) / 24);
  }
  return out;
}

PredictionQuality MeasurePrediction(const std::vector<PaidInstallment>& history) {
  return MeasureErrors(PredictionErrorsDays(history));
}

PredictionQuality MeasureErrors(const std::vector<double>& errors_days) {
  PredictionQuality q;
  double error_days = 0;
  int within = 0;
  for (const double e : errors_days) {
    const double error = std::abs(e);
    error_days += error;
    if (error <= 7) ++within;
    ++q.samples;
  }
  if (q.samples > 0) {
    q.mean_absolute_error_days = error_days / q.samples;
    q.within_7_days = static_cast<double>(within) / q.samples;
  }
  return q;
}

}  // namespace crm::contract
