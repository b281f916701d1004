#include "libs/clock/scaled_clock.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace crm {

absl::Time ScaledClock::CatchUpTime() const {
  if (!catch_up_ || rate_ <= 1) return absl::InfiniteFuture();
  return origin_ + std::max(absl::ZeroDuration(), (origin_ - start_) / (rate_ - 1));
}

absl::Time ScaledClock::WallTimeAt(absl::Time t) const {
  return t >= CatchUpTime() ? t : origin_ + (t - start_) / rate_;
}

absl::StatusOr<std::unique_ptr<ScaledClock>> ScaledClockFromSettings(const std::string& start,
                                                                     const std::string& origin,
                                                                     const std::string& rate,
                                                                     const std::string& catch_up) {
  if (start.empty()) return nullptr;
  absl::Time from, at = absl::Now();
  double speed = 1;
  bool follow = false;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, start, &from, &err)) {
    return absl::InvalidArgumentError("--clock-start must be an RFC 3339 time: " + err);
  }
  if (!origin.empty() && !absl::ParseTime(absl::RFC3339_full, origin, &at, &err)) {
    return absl::InvalidArgumentError("--clock-origin must be an RFC 3339 time: " + err);
  }
  if (!rate.empty() && (!absl::SimpleAtod(rate, &speed) || !(speed > 0) || speed > 1e6)) {
    return absl::InvalidArgumentError("--clock-rate must be a number in (0, 1000000]");
  }
  if (!catch_up.empty() && !absl::SimpleAtob(catch_up, &follow)) {
    return absl::InvalidArgumentError("--clock-catch-up must be true or false");
  }
  return std::make_unique<ScaledClock>(from, at, speed, follow);
}

}  // namespace crm
