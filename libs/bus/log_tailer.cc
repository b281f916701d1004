#include "libs/bus/log_tailer.h"

#include "absl/time/clock.h"
#include "libs/runtime/log.h"
#include "libs/status/status.h"

namespace crm::bus {

constexpr char kLogSource[] = "log";

absl::StatusOr<size_t> LogTailer::Step() {
  ASSIGN_OR_RETURN(int64_t consumed, runner_->Offset(kLogSource, 0));
  consumed = std::max<int64_t>(consumed, 0);
  position_ = consumed;
  ASSIGN_OR_RETURN(auto events, store_->ReadLog(consumed + 1, 500));
  if (events.empty()) return 0;
  std::vector<readstore::Envelope> batch(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    batch[i].source = kLogSource;
    batch[i].offset = events[i].position();
    batch[i].event = std::move(events[i]);
  }
  RETURN_IF_ERROR(runner_->ApplyBatch(batch));
  position_ = batch.back().offset;
  return batch.size();
}

absl::Status LogTailer::CatchUp() {
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, Step());
    if (n == 0) return absl::OkStatus();
  }
}

void LogTailer::Start() {
  thread_ = std::thread([this] {
    while (!stop_) {
      auto n = Step();
      if (!n.ok()) {
        LogError("log tailer", {{"projection", runner_->name()}, {"error", n.status().ToString()}});
        absl::SleepFor(absl::Seconds(1));
      } else if (*n == 0) {
        store_->WaitForPosition(position_.load() + 1, absl::Milliseconds(200));
      }
    }
  });
}

bool LogTailer::WaitFor(int64_t position, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (position_.load() < position) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Microseconds(500));
  }
  return true;
}

void LogTailer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace crm::bus
