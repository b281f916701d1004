#ifndef CRM_LIBS_OPS_OPS_SERVICE_H_
#define CRM_LIBS_OPS_OPS_SERVICE_H_

// The operators' API every service process serves (crm.ops.v1.OpsService):
// the events its projections parked. Parked events are applied again when
// the process starts (ReplayParkedAtStart), before anything else feeds the
// projections, so deploying a fix replays them.

#include <vector>

#include "crm/ops/v1/ops_service.grpc.pb.h"
#include "libs/bus/topic_consumer.h"
#include "libs/readstore/projection_runner.h"

namespace crm::ops {

class OpsServiceImpl final : public crm::ops::v1::OpsService::Service {
 public:
  // `consumers`: the process's topic consumers, for GetProjectionProgress.
  explicit OpsServiceImpl(std::vector<readstore::ProjectionRunner*> runners,
                          std::vector<const bus::TopicConsumer*> consumers = {})
      : runners_(std::move(runners)), consumers_(std::move(consumers)) {}

  grpc::Status ListParkedEvents(grpc::ServerContext* ctx,
                                const crm::ops::v1::ListParkedEventsRequest* req,
                                crm::ops::v1::ListParkedEventsResponse* resp) override;

  grpc::Status GetProjectionProgress(grpc::ServerContext* ctx,
                                     const crm::ops::v1::GetProjectionProgressRequest* req,
                                     crm::ops::v1::ProjectionProgress* resp) override;
  // Applies every runner's parked events again (call before the runners are
  // fed); logs what applied and what stays parked. Returns how many stay.
  absl::StatusOr<int64_t> ReplayParkedAtStart();

 private:
  std::vector<readstore::ProjectionRunner*> runners_;
  std::vector<const bus::TopicConsumer*> consumers_;
};

}  // namespace crm::ops

#endif  // CRM_LIBS_OPS_OPS_SERVICE_H_
