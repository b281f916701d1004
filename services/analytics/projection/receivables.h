#ifndef CRM_SERVICES_ANALYTICS_PROJECTION_RECEIVABLES_H_
#define CRM_SERVICES_ANALYTICS_PROJECTION_RECEIVABLES_H_

// Receivables and payment-prediction error as of any moment, from
// crm.contract.events.v1 (ContractFactsProjection):
//   `<tenant>\0contract\0<contract>\0<when>` -> the contract event as
//       receivables read it (crm.contract.events.v1.ContractEvent: created
//       without lines or terms, signed, ended without its note, payment
//       plans, payments)
// Each contract is rebuilt as of the moment asked with the contract
// service's own Evolve, aged with its AgingOf and its payments predicted
// with its PredictDelay (services/contract/domain), so analytics and the
// contract service cannot disagree on the rules.

#include <string>

#include "absl/time/time.h"
#include "crm/analytics/v1/analytics_service.pb.h"
#include "libs/readstore/projection_runner.h"

namespace crm::analytics {

class ContractFactsProjection : public readstore::Projection {
 public:
  std::string name() const override { return "receivables_contract_facts"; }
  absl::Status Apply(const readstore::StoredEvent& event, readstore::RowWriter& rows) override;
};

// See AnalyticsService.GetReceivables. `group_by` tenant (or unspecified),
// rep or team; INVALID_ARGUMENT naming `group_by` otherwise. The team is
// read from the opportunity facts (funnel.h).
absl::StatusOr<crm::analytics::v1::ReceivablesAging> BuildReceivables(
    readstore::ReadStore* store, const std::string& tenant,
    crm::analytics::v1::GetFunnelRequest::GroupBy group_by, absl::Time as_of);

}  // namespace crm::analytics

#endif  // CRM_SERVICES_ANALYTICS_PROJECTION_RECEIVABLES_H_
