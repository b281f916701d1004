#ifndef CRM_SERVICES_LEAD_APP_WORK_SCHEDULER_H_
#define CRM_SERVICES_LEAD_APP_WORK_SCHEDULER_H_

// The work scheduler returns assigned leads nobody worked by their deadline
// to the queue (and in assign mode hands them to the next rep), and assigns
// queued leads of assign-mode channels once a rep has room. It runs from the
// lead read model's due and queue indexes and the injected clock; a restart
// misses nothing (the indexes are durable) and does nothing twice (each
// action is decided again on the lead's current stream).

#include <atomic>
#include <mutex>
#include <string>

#include "libs/readstore/read_store.h"
#include "libs/runtime/periodic.h"
#include "services/lead/app/lead_commands.h"

namespace crm::lead {

class WorkScheduler {
 public:
  // A pass looks at up to `batch` due and `batch` queued leads.
  WorkScheduler(readstore::ReadStore* index, LeadCommandHandler* commands, int batch = 1000)
      : index_(index), commands_(commands), batch_(batch) {}
  ~WorkScheduler() { Stop(); }

  // One pass; returns how many leads it returned or assigned.
  absl::StatusOr<int> Tick();
  void Start(absl::Duration period);
  void Stop();
  int64_t actions() const { return actions_.load(); }

 private:
  readstore::ReadStore* index_;
  LeadCommandHandler* commands_;
  const int batch_;
  std::mutex mu_;  // one pass at a time
  // Where the next pass resumes in the queue (`<tenant>\0<lead>`; empty:
  // at its start), so leads that stay queued (claim-mode channels, nobody
  // with room) do not hide the ones behind them from every pass.
  std::string queued_after_;
  std::atomic<int64_t> actions_{0};
  runtime::Periodic periodic_{"lead work scheduler"};
};

}  // namespace crm::lead

#endif  // CRM_SERVICES_LEAD_APP_WORK_SCHEDULER_H_
