#include "services/customer/app/standing_review.h"

#include "libs/runtime/log.h"
#include "libs/status/status.h"
#include "services/customer/projection/customer_list.h"

namespace crm::customer {

absl::StatusOr<int> StandingReviewer::Tick() {
  std::vector<std::pair<std::string, std::string>> reps;
  RETURN_IF_ERROR(ForEachRep(list_, [&](const std::string& tenant, const std::string& rep) {
    reps.emplace_back(tenant, rep);
  }));
  int reviewed = 0;
  for (const auto& [tenant, rep] : reps) {
    ASSIGN_OR_RETURN(PoolQuality q, MeasurePool(list_, tenant, rep));
    ASSIGN_OR_RETURN(RepPool before, commands_->GetPool(tenant, rep));
    auto after = commands_->ReviewStanding(tenant, rep, q.customers, q.average_completeness);
    if (!after.ok()) {
      LogWarn("standing review",
              {{"tenant", tenant}, {"rep", rep}, {"error", after.status().ToString()}});
      continue;
    }
    reviewed += after->version != before.version ? 1 : 0;
  }
  return reviewed;
}

}  // namespace crm::customer
