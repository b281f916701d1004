#ifndef CRM_SERVICES_CONTRACT_APP_NOTICE_SCHEDULER_H_
#define CRM_SERVICES_CONTRACT_APP_NOTICE_SCHEDULER_H_

// Pushes the contract notices (PaymentOverdue, RenewalDue, FollowUpDue) onto
// the contract topic when they fall due by the injected clock, from the
// notice index `contract_list` keeps. A restart misses none (the index is
// durable and rebuilt from the log) and gives none twice (each is recorded on
// the contract and decided again on its current stream).

#include <atomic>

#include "libs/readstore/read_store.h"
#include "libs/runtime/periodic.h"
#include "services/contract/app/contract_commands.h"

namespace crm::contract {

class NoticeScheduler {
 public:
  NoticeScheduler(readstore::ReadStore* index, ContractCommandHandler* commands)
      : index_(index), commands_(commands) {}
  ~NoticeScheduler() { Stop(); }

  // Gives every notice due before the clock's now. Returns how many.
  absl::StatusOr<int> Tick();
  void Start(absl::Duration period);
  void Stop();
  int64_t notices() const { return notices_.load(); }

 private:
  readstore::ReadStore* index_;
  ContractCommandHandler* commands_;
  std::atomic<int64_t> notices_{0};
  runtime::Periodic periodic_{"contract notices"};
};

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_APP_NOTICE_SCHEDULER_H_
