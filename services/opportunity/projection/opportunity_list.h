#ifndef CRM_SERVICES_OPPORTUNITY_PROJECTION_OPPORTUNITY_LIST_H_
#define CRM_SERVICES_OPPORTUNITY_PROJECTION_OPPORTUNITY_LIST_H_

// The opportunity read model, fed from the service's own log:
//   `<tenant>\0opp\0<id>` -> v1::Opportunity as it stands (stage default
//                            probability), rebuilt from its stream;
//   `<tenant>\0stat\0<pipeline>\0<stage>` -> "<closed> <won>": closed
//                            opportunities that reached the stage, and how
//                            many of them were won (calibration).
//   `<tenant>\0opp-owner\0<owner>\0<id>`, `<tenant>\0opp-customer\0...`:
//                            each opportunity under its owner and customer
//                            (neither changes), for lists filtered by them;
//   `<tenant>\0opp-open\0<id>`: each open (or loss-pending) opportunity.
// Lists, forecasts and calibrated probabilities are read from here.

#include <string>
#include <vector>

#include "crm/opportunity/v1/opportunity_service.pb.h"
#include "libs/eventstore/event_store.h"
#include "libs/readstore/page.h"
#include "libs/readstore/projection_runner.h"
#include "services/opportunity/domain/opportunity.h"

namespace crm::opportunity {

// The opportunity as the API shows it, with `probability` for its stage.
void ToProto(const Opportunity& o, const Calibration& probability, v1::Opportunity* out);

class OpportunityListProjection : public readstore::Projection {
 public:
  explicit OpportunityListProjection(eventstore::EventStore* store) : store_(store) {}
  std::string name() const override { return "opportunity_list"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;

 private:
  eventstore::EventStore* store_;
};

// The stage's win probability: recalibrated from the tenant's closed
// opportunities once `min_closed` reached it, else `stage_default`.
absl::StatusOr<Calibration> StageProbability(readstore::ReadStore* store, const std::string& tenant,
                                             const std::string& pipeline_id,
                                             const std::string& stage_id, int32_t stage_default,
                                             int32_t min_closed);

struct OpportunityFilter {
  std::string owner;
  std::string customer;
  bool open_only = false;
};

using OpportunityPage = readstore::Page<v1::Opportunity>;

// Adds the owner and customer index entries of opportunities stored before
// the indexes existed, once per read store; call before the projection runs.
absl::Status IndexStoredOpportunities(readstore::ReadStore* store);

absl::StatusOr<OpportunityPage> ListOpportunities(readstore::ReadStore* store,
                                                  const std::string& tenant,
                                                  const OpportunityFilter& filter, int page_size,
                                                  const std::string& after_id);

// Open opportunities weighted by their (calibrated) probability and won
// ones as closed, grouped by rep, team or tenant and by the UTC month or
// quarter of their expected close (win) time; open ones without a close
// time fall in period "unscheduled".
absl::StatusOr<v1::Forecast> BuildForecast(readstore::ReadStore* store, const std::string& tenant,
                                           v1::GetForecastRequest::GroupBy group_by,
                                           v1::GetForecastRequest::Period period,
                                           int32_t min_closed);

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_PROJECTION_OPPORTUNITY_LIST_H_
