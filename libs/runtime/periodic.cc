#include "libs/runtime/periodic.h"

#include "absl/time/clock.h"
#include "libs/runtime/log.h"

namespace crm::runtime {

void Periodic::Start(absl::Duration period, std::function<absl::Status()> task) {
  thread_ = std::thread([this, period, task = std::move(task)] {
    while (!stop_) {
      if (absl::Status s = task(); !s.ok()) LogError(name_, {{"error", s.ToString()}});
      for (absl::Duration slept; slept < period && !stop_; slept += absl::Milliseconds(100)) {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
  });
}

void Periodic::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace crm::runtime
