#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_FUNNEL_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_FUNNEL_H_

// Funnel and channel-value facts, each with its time, so that every figure
// is computed as of any moment by counting only what had happened by then.
//
// From crm.lead.events.v1 (LeadFactsProjection):
//   `<tenant>\0lead\0<lead>`        -> LeadFact
//   `<tenant>\0cust-lead\0<customer>` -> the lead it converted from
//   `<tenant>\0cost\0<channel>\0<time>` -> the channel's monthly cost from then on
//   `<tenant>\0teams\0<when>`      -> the teams' members from then on
//       (crm.lead.events.v1.LeadSettings, teams only)
// From crm.opportunity.events.v1 (OpportunityFactsProjection):
//   `<tenant>\0opp\0<opportunity>`  -> OpportunityFact
// The two write disjoint rows, so their consumers run side by side.

#include <map>
#include <string>

#include "crm/analytics/v1/analytics_service.pb.h"
#include "libs/readstore/projection_runner.h"

namespace crm::analytics {

class LeadFactsProjection : public readstore::Projection {
 public:
  std::string name() const override { return "funnel_lead_facts"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

class OpportunityFactsProjection : public readstore::Projection {
 public:
  std::string name() const override { return "funnel_opportunity_facts"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// The period with its defaults: from the beginning, to as_of, as_of now.
struct Window {
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  absl::Time as_of = absl::InfiniteFuture();
};
Window WindowOf(const crm::analytics::v1::Period& p, absl::Time now);

absl::StatusOr<crm::analytics::v1::Funnel> BuildFunnel(
    readstore::ReadStore* store, const std::string& tenant,
    crm::analytics::v1::GetFunnelRequest::GroupBy group_by, const Window& w);

absl::StatusOr<crm::analytics::v1::ChannelValue> BuildChannelValue(readstore::ReadStore* store,
                                                                   const std::string& tenant,
                                                                   const Window& w);

// Each rep's team at `as_of` (the lead settings' teams then).
absl::StatusOr<std::map<std::string, std::string>> RepTeamsAsOf(readstore::ReadStore* store,
                                                                const std::string& tenant,
                                                                absl::Time as_of);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_FUNNEL_H_
