#include "services/analytics/projection/receivables.h"

#include <map>
#include <optional>
#include <vector>

#include "crm/analytics/model/v1/facts.pb.h"
#include "crm/contract/events/v1/contract_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"
#include "services/analytics/projection/pool_history.h"
#include "services/analytics/projection/rows.h"
#include "services/contract/domain/contract.h"
#include "services/contract/domain/payment_prediction.h"

namespace crm::analytics {
namespace {

namespace cev = crm::contract::events::v1;
namespace facts = crm::analytics::model::v1;
using Req = v1::GetFunnelRequest;

const std::string kSep(1, '\0');

// What receivables read of a contract event: parties, signing, end,
// installments and payments; no lines, terms or free text.
std::optional<cev::ContractEvent> ReceivablesFact(const cev::ContractEvent& e) {
  cev::ContractEvent kept;
  switch (e.event_case()) {
    case cev::ContractEvent::kCreated:
      kept = e;
      kept.mutable_created()->clear_lines();
      kept.mutable_created()->clear_terms();
      return kept;
    case cev::ContractEvent::kEnded:
      kept = e;
      kept.mutable_ended()->clear_note();
      return kept;
    case cev::ContractEvent::kContractSigned:
    case cev::ContractEvent::kPaymentPlanSet:
    case cev::ContractEvent::kPaymentReceived:
      return e;
    default:
      return std::nullopt;
  }
}

}  // namespace

absl::Status ContractFactsProjection::Apply(const readstore::StoredEvent& event,
                                            readstore::RowWriter& rows) {
  cev::ContractEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();  // templates, approval rules
  if (std::optional<cev::ContractEvent> kept = ReceivablesFact(e)) {
    rows.Put(RowKey(event.tenant(), "contract", event.stream_id() + kSep + EventWhen(event)),
             kept->SerializeAsString());
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ReceivablesAging> BuildReceivables(readstore::ReadStore* store,
                                                      const std::string& tenant,
                                                      Req::GroupBy group_by, absl::Time as_of) {
  if (group_by == Req::GROUP_BY_UNSPECIFIED) group_by = Req::GROUP_BY_TENANT;
  if (group_by != Req::GROUP_BY_TENANT && group_by != Req::GROUP_BY_REP &&
      group_by != Req::GROUP_BY_TEAM) {
    FieldViolations v;
    v.Add("group_by", "groups receivables by tenant, rep or team");
    return v.ToStatus();
  }
  auto group_of = [&](const contract::Contract& c) -> absl::StatusOr<std::string> {
    if (group_by == Req::GROUP_BY_REP) return c.owner();
    if (group_by == Req::GROUP_BY_TENANT || c.created.opportunity_id().empty()) return "";
    ASSIGN_OR_RETURN(auto row, store->Get(RowKey(tenant, "opp", c.created.opportunity_id())));
    facts::OpportunityFact opp;
    if (row && !opp.ParseFromString(*row)) return absl::DataLossError("corrupt analytics row");
    return opp.team_id();
  };
  std::map<std::string, v1::ReceivablesRow> rows;
  if (group_by == Req::GROUP_BY_TENANT) rows[""];
  std::vector<contract::PaidInstallment> history;
  std::vector<std::string> history_groups;
  // Counts a contract as it stood at as_of.
  auto count = [&](const contract::Contract& c) -> absl::Status {
    ASSIGN_OR_RETURN(const std::string group, group_of(c));
    const std::string& customer = c.created.customer_id();
    std::optional<std::string> industry;
    for (const auto& i : c.installments) {
      if (i.paid_in_full > as_of) continue;
      if (!industry) {
        ASSIGN_OR_RETURN(industry, ProfileAsOf(store, tenant, customer, as_of, /*industry=*/true));
      }
      history.push_back({customer, *industry, i.due, i.paid_in_full});
      history_groups.push_back(group);
    }
    if (c.state != contract::State::kActive && c.state != contract::State::kCompleted) {
      return absl::OkStatus();
    }
    const contract::Aging a = contract::AgingOf(c, as_of);
    v1::ReceivablesRow& r = rows[group];
    r.set_not_due(r.not_due() + a.not_due);
    r.set_days_0_30(r.days_0_30() + a.days_0_30);
    r.set_days_31_60(r.days_31_60() + a.days_31_60);
    r.set_days_61_90(r.days_61_90() + a.days_61_90);
    r.set_over_90(r.over_90() + a.over_90);
    r.set_total(r.total() + a.total());
    r.set_overdue_amount(r.overdue_amount() + a.total() - a.not_due);
    for (const auto& i : c.installments) {
      if (i.open() > 0 && i.due <= as_of) r.set_overdue_installments(r.overdue_installments() + 1);
    }
    return absl::OkStatus();
  };
  // The contract facts sort by contract, then time: each contract is
  // rebuilt to as_of from its rows and counted before the next is read.
  const std::string prefix = RowKey(tenant, "contract");
  std::string id;
  std::optional<contract::Contract> current;  // nullopt: no fact by as_of yet
  absl::Status error;
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    const absl::string_view rest = key.substr(prefix.size());
    const absl::string_view of = rest.substr(0, rest.size() - 17);
    if (of != id) {
      if (current) error = count(*current);
      if (!error.ok()) return false;
      id = std::string(of);
      current.reset();
    }
    if (WhenTime(rest.substr(rest.size() - 16)) > as_of) return true;
    cev::ContractEvent e;
    if (!e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError("corrupt contract fact");
      return false;
    }
    current = contract::Evolve(current ? *std::move(current) : contract::Contract(), e);
    return true;
  }));
  RETURN_IF_ERROR(error);
  if (current) RETURN_IF_ERROR(count(*current));
  // Every paid installment predicted from the whole tenant's history before
  // it, then the errors split by group.
  const std::vector<double> errors = contract::PredictionErrorsDays(history);
  std::map<std::string, std::vector<double>> by_group;
  for (size_t i = 0; i < errors.size(); ++i) by_group[history_groups[i]].push_back(errors[i]);
  for (const auto& [group, e] : by_group) {
    const contract::PredictionQuality q = contract::MeasureErrors(e);
    v1::ReceivablesRow& r = rows[group];
    r.set_prediction_samples(q.samples);
    r.set_prediction_error_days(q.mean_absolute_error_days);
    r.set_prediction_within_7_days(q.within_7_days);
    double sum = 0;
    for (const double d : e) sum += d;
    if (!e.empty()) r.set_prediction_bias_days(sum / static_cast<double>(e.size()));
  }
  v1::ReceivablesAging out;
  *out.mutable_as_of() = ToTimestamp(as_of);
  for (auto& [group, r] : rows) {
    r.set_group(group);
    *out.add_rows() = std::move(r);
  }
  return out;
}

}  // namespace crm::analytics
