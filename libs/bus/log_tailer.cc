#include "libs/bus/log_tailer.h"

#include "absl/time/clock.h"
#include "libs/runtime/log.h"
#include "libs/status/status.h"

namespace crm::bus {

constexpr size_t kBatchPayloadBytes = 4 << 20;
constexpr size_t kKeptWhenIdle = 256;

absl::StatusOr<size_t> LogTailer::Step() {
  ASSIGN_OR_RETURN(int64_t consumed, runner_->Offset(readstore::kLogSource, 0));
  consumed = std::max<int64_t>(consumed, 0);
  position_ = consumed;
  size_t n = 0, bytes = 0;
  auto take = [&](readstore::StoredEvent& e) {
    if (n == batch_.size()) {
      batch_.emplace_back().source = readstore::kLogSource;
    }
    readstore::Envelope& slot = batch_[n++];
    slot.offset = e.position();
    bytes += e.payload().size();
    // The scan parses its next event into this slot's previous one.
    slot.event.Swap(&e);
    return bytes < kBatchPayloadBytes;
  };
  const size_t limit = behind_ >= kLongBatchEvents ? kLongBatchEvents : kBatchEvents;
  RETURN_IF_ERROR(
      store_->ScanLog(consumed + 1, limit, eventstore::EventStore::Payloads::kOpen, take));
  behind_ = n == limit || bytes >= kBatchPayloadBytes ? behind_ + n : 0;
  if (n == 0) return 0;
  RETURN_IF_ERROR(runner_->ApplyBatch(absl::MakeConstSpan(batch_.data(), n)));
  position_ = batch_[n - 1].offset;
  return n;
}

absl::Status LogTailer::CatchUp() {
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, Step());
    if (n == 0) {
      batch_ = {};
      return absl::OkStatus();
    }
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
        if (batch_.size() > kKeptWhenIdle) batch_ = {};  // a burst's batch is not kept idle
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
