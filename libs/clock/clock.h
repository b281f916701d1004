#ifndef CRM_LIBS_CLOCK_CLOCK_H_
#define CRM_LIBS_CLOCK_CLOCK_H_

// The time source every component takes by injection, so tests can move time.

#include <atomic>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall-clock time. Thread-safe; lives forever.
inline Clock* SystemClock() {
  struct Real : Clock {
    absl::Time Now() const override { return absl::Now(); }
  };
  static Real* clock = new Real;
  return clock;
}

// A clock that moves only when told. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000))
      : micros_(absl::ToUnixMicros(start)) {}
  absl::Time Now() const override { return absl::FromUnixMicros(micros_.load()); }
  void Advance(absl::Duration d) { micros_ += absl::ToInt64Microseconds(d); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace crm

#endif  // CRM_LIBS_CLOCK_CLOCK_H_
