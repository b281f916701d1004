#ifndef CRM_LIBS_CLOCK_SCALED_CLOCK_H_
#define CRM_LIBS_CLOCK_SCALED_CLOCK_H_

// Simulated time for demos and the simulator.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"

namespace crm {

// Reads `start` at wall time `origin` and runs `rate` times faster than the
// wall clock. With `catch_up`, once it reaches the wall clock it follows it:
// a history played fast from a past moment turns into real time. Processes
// given the same settings agree on the time. Thread-safe.
class ScaledClock : public Clock {
 public:
  ScaledClock(absl::Time start, absl::Time origin, double rate, bool catch_up = false)
      : start_(start), origin_(origin), rate_(rate), catch_up_(catch_up) {}
  absl::Time Now() const override {
    const absl::Time wall = absl::Now();
    const absl::Time scaled = start_ + (wall - origin_) * rate_;
    return catch_up_ && scaled > wall ? wall : scaled;
  }
  // When, on the wall clock, it reads `t` (to sleep until then).
  absl::Time WallTimeAt(absl::Time t) const;
  // When it reaches the wall clock and starts following it: InfiniteFuture
  // without catch_up or at a rate of 1 or less.
  absl::Time CatchUpTime() const;

 private:
  absl::Time start_, origin_;
  double rate_;
  bool catch_up_;
};

// The simulated clock from the settings every process takes (--clock-start,
// --clock-origin, --clock-rate, --clock-catch-up, or CRM_CLOCK_*): nullptr
// when `start` is empty (wall time), InvalidArgument naming the setting
// when one is malformed. An empty `origin` is now; `rate` in (0, 1e6].
absl::StatusOr<std::unique_ptr<ScaledClock>> ScaledClockFromSettings(const std::string& start,
                                                                     const std::string& origin,
                                                                     const std::string& rate,
                                                                     const std::string& catch_up);

}  // namespace crm

#endif  // CRM_LIBS_CLOCK_SCALED_CLOCK_H_
