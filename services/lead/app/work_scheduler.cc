#include "services/lead/app/work_scheduler.h"

#include "absl/strings/str_cat.h"
#include "libs/runtime/log.h"
#include "libs/status/status.h"
#include "services/lead/projection/lead_list.h"

namespace crm::lead {

absl::StatusOr<int> WorkScheduler::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  int acted = 0;
  ASSIGN_OR_RETURN(auto due, DueLeads(index_, commands_->clock()->Now(), batch_));
  for (const auto& [tenant, lead_id] : due) {
    auto lead = commands_->ReturnIfUnworked(tenant, lead_id);
    if (!lead.ok()) {
      LogError("cannot return an unworked lead",
               {{"tenant", tenant}, {"lead", lead_id}, {"error", lead.status().ToString()}});
      continue;
    }
    ++acted;
  }
  ASSIGN_OR_RETURN(auto queued, QueuedLeads(index_, queued_after_, batch_));
  queued_after_ =
      static_cast<int>(queued.size()) < batch_
          ? ""
          : absl::StrCat(queued.back().first, std::string(1, '\0'), queued.back().second);
  for (const auto& [tenant, lead_id] : queued) {
    auto before = commands_->Get(tenant, lead_id);
    if (!before.ok() || before->state != LeadState::kQueued) continue;
    auto after = commands_->AssignNext(
        tenant, absl::StrCat("assign:", lead_id, ":", before->version), lead_id, "system");
    if (after.ok() && after->state == LeadState::kAssigned) ++acted;
  }
  actions_ += acted;
  return acted;
}

void WorkScheduler::Start(absl::Duration period) {
  periodic_.Start(period, [this] { return Tick().status(); });
}

void WorkScheduler::Stop() { periodic_.Stop(); }

}  // namespace crm::lead
