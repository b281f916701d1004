#include "services/contract/app/notice_scheduler.h"

#include "libs/runtime/log.h"
#include "libs/status/status.h"
#include "services/contract/projection/contract_list.h"

namespace crm::contract {

absl::StatusOr<int> NoticeScheduler::Tick() {
  ASSIGN_OR_RETURN(auto due, DueForNotice(index_, commands_->clock()->Now()));
  int given = 0;
  for (const auto& d : due) {
    auto n = commands_->GiveNotices(d.tenant, d.id, d.version);
    if (!n.ok()) {
      LogWarn("contract notices",
              {{"tenant", d.tenant}, {"contract", d.id}, {"error", n.status().ToString()}});
      continue;
    }
    given += *n;
  }
  notices_ += given;
  return given;
}

void NoticeScheduler::Start(absl::Duration period) {
  periodic_.Start(period, [this] { return Tick().status(); });
}

void NoticeScheduler::Stop() { periodic_.Stop(); }

}  // namespace crm::contract
