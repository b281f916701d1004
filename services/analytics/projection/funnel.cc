#include "services/analytics/projection/funnel.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crm/analytics/model/v1/facts.pb.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/status/status.h"
#include "services/analytics/projection/rows.h"

namespace crm::analytics {
namespace {

namespace lev = crm::lead::events::v1;
namespace oev = crm::opportunity::events::v1;
namespace facts = crm::analytics::model::v1;

const std::string kSep(1, '\0');

double Days(absl::Duration d) { return absl::ToDoubleHours(d) / 24; }

// The lead's owner when it converted, else its last owner by `as_of`.
std::string RepOf(const facts::LeadFact& l, absl::Time as_of) {
  if (HappenedBy(l.convert_time(), as_of) && !l.converted_by().empty()) return l.converted_by();
  std::string owner;
  for (const auto& o : l.owners()) {
    if (HappenedBy(o.time(), as_of)) owner = o.owner_id();
  }
  return owner;
}

// The team of the lead's last assignment by its conversion, else by `as_of`.
std::string TeamOf(const facts::LeadFact& l, absl::Time as_of) {
  const absl::Time until =
      HappenedBy(l.convert_time(), as_of) ? FromTimestamp(l.convert_time()) : as_of;
  std::string team;
  for (const auto& o : l.owners()) {
    if (HappenedBy(o.time(), until)) team = o.team_id();
  }
  return team;
}

}  // namespace

absl::Status LeadFactsProjection::Apply(const readstore::StoredEvent& event,
                                        readstore::RowWriter& rows) {
  const std::string& tenant = event.tenant();
  lev::ChannelEvent channel;
  if (eventstore::FromStored(event.type(), event.payload(), &channel).ok()) {
    const auto& c = channel.saved();
    rows.Put(RowKey(tenant, "cost",
                    absl::StrCat(c.channel_id(), kSep,
                                 readstore::EncodeBigEndian64(
                                     absl::ToUnixMicros(FromTimestamp(c.save_time()))))),
             absl::StrCat(c.monthly_cost()));
    return absl::OkStatus();
  }
  lev::LeadPolicyEvent policy;
  ASSIGN_OR_RETURN(const bool is_policy,
                   eventstore::DecodeIfOwn(event.type(), event.payload(), &policy));
  if (is_policy) {
    // Which team each rep was in from then on: the teams' members only.
    lev::LeadSettings teams;
    for (const auto& t : policy.changed().settings().teams()) {
      lev::Team* kept = teams.add_teams();
      kept->set_team_id(t.team_id());
      for (const auto& m : t.members()) kept->add_members()->set_rep_id(m.rep_id());
    }
    rows.Put(RowKey(tenant, "teams", EventWhen(event)), teams.SerializeAsString());
    return absl::OkStatus();
  }
  lev::LeadEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();  // reps' loads, teams' turns
  const std::string lead_id = event.stream_id();
  const std::string key = RowKey(tenant, "lead", lead_id);
  ASSIGN_OR_RETURN(facts::LeadFact fact, ReadRow<facts::LeadFact>(rows, key));
  fact.set_lead_id(lead_id);
  auto owner = [&](const std::string& id, const std::string& team) {
    auto* o = fact.add_owners();
    o->set_owner_id(id);
    o->set_team_id(team);
    *o->mutable_time() = event.time();
  };
  switch (e.event_case()) {
    case lev::LeadEvent::kCreated:
      fact.set_channel_id(e.created().channel_id());
      *fact.mutable_create_time() = e.created().create_time();
      break;
    case lev::LeadEvent::kRouted:
      fact.set_channel_id(e.routed().lead().channel_id());
      *fact.mutable_create_time() = e.routed().lead().create_time();
      fact.set_routed(true);
      break;
    case lev::LeadEvent::kAssigned:
      owner(e.assigned().owner_id(), e.assigned().team_id());
      break;
    case lev::LeadEvent::kReturned:
      owner("", "");
      break;
    case lev::LeadEvent::kConverted:
      fact.set_customer_id(e.converted().customer_id());
      *fact.mutable_convert_time() = e.converted().convert_time();
      fact.set_converted_by(e.converted().owner_id());
      rows.Put(RowKey(tenant, "cust-lead", e.converted().customer_id()), lead_id);
      break;
    default:
      return absl::OkStatus();
  }
  rows.Put(key, fact.SerializeAsString());
  return absl::OkStatus();
}

absl::Status OpportunityFactsProjection::Apply(const readstore::StoredEvent& event,
                                               readstore::RowWriter& rows) {
  oev::CatalogEvent catalog;
  if (eventstore::FromStored(event.type(), event.payload(), &catalog).ok()) {
    if (catalog.has_settings_changed()) {
      rows.Put(
          RowKey(event.tenant(), "opp-settings",
                 readstore::EncodeBigEndian64(absl::ToUnixMicros(FromTimestamp(event.time())))),
          absl::StrCat(catalog.settings_changed().settings().calibration_min_closed()));
    }
    return absl::OkStatus();  // the price book
  }
  oev::OpportunityEvent e;
  ASSIGN_OR_RETURN(const bool own, eventstore::DecodeIfOwn(event.type(), event.payload(), &e));
  if (!own) return absl::OkStatus();
  const std::string key = RowKey(event.tenant(), "opp", event.stream_id());
  ASSIGN_OR_RETURN(facts::OpportunityFact fact, ReadRow<facts::OpportunityFact>(rows, key));
  // A new forecast state from this event on, starting from the last one.
  auto state = [&]() -> facts::ForecastState* {
    facts::ForecastState* next = fact.add_states();
    if (fact.states_size() > 1) *next = fact.states(fact.states_size() - 2);
    *next->mutable_time() = event.time();
    return next;
  };
  switch (e.event_case()) {
    case oev::OpportunityEvent::kCreated: {
      const auto& c = e.created();
      fact.set_opportunity_id(c.opportunity_id());
      fact.set_customer_id(c.customer_id());
      fact.set_owner_id(c.owner_id());
      fact.set_team_id(c.team_id());
      fact.set_pipeline_id(c.pipeline_id());
      *fact.mutable_create_time() = c.create_time();
      facts::ForecastState* s = state();
      s->set_stage_id(c.stage_id());
      s->set_probability(c.probability());
      s->set_amount(c.amount());
      *s->mutable_expected_close_time() = c.expected_close_time();
      break;
    }
    case oev::OpportunityEvent::kLinesChanged:
      state()->set_amount(e.lines_changed().amount());
      break;
    case oev::OpportunityEvent::kCloseTimeChanged:
      *state()->mutable_expected_close_time() = e.close_time_changed().expected_close_time();
      break;
    case oev::OpportunityEvent::kStageChanged: {
      facts::ForecastState* s = state();
      s->set_stage_id(e.stage_changed().to_stage_id());
      s->set_probability(e.stage_changed().probability());
      break;
    }
    case oev::OpportunityEvent::kForecastCategorySet:
      state()->set_category(e.forecast_category_set().category());
      break;
    case oev::OpportunityEvent::kWon:
      *fact.mutable_won_time() = e.won().win_time();
      fact.set_won_amount(e.won().amount());
      *fact.mutable_stages_reached() = e.won().stages_reached();
      break;
    case oev::OpportunityEvent::kCloseLostApproved:
      *fact.mutable_lost_time() = e.close_lost_approved().approve_time();
      *fact.mutable_stages_reached() = e.close_lost_approved().stages_reached();
      break;
    default:
      return absl::OkStatus();
  }
  rows.Put(key, fact.SerializeAsString());
  return absl::OkStatus();
}

Window WindowOf(const v1::Period& p, absl::Time now) {
  Window w;
  w.as_of = p.has_as_of() ? FromTimestamp(p.as_of()) : now;
  if (p.has_from()) w.from = FromTimestamp(p.from());
  w.to = p.has_to() ? std::min(FromTimestamp(p.to()), w.as_of) : w.as_of;
  return w;
}

namespace {

// What the funnel needs of a converted customer's opportunities as of as_of.
struct CustomerOpportunities {
  int64_t count = 0, won = 0, won_amount = 0;
  double won_days = 0;
  absl::Time first = absl::InfiniteFuture();
};

}  // namespace

absl::StatusOr<v1::Funnel> BuildFunnel(readstore::ReadStore* store, const std::string& tenant,
                                       v1::GetFunnelRequest::GroupBy group_by, const Window& w) {
  struct Acc {
    v1::FunnelRow row;
    double lead_days = 0, opp_days = 0, won_days = 0;
    int64_t firsts = 0;
  };
  struct Converted {
    std::string group, customer;
    absl::Time at;
  };
  // One pass over the leads of the window's cohort (created in [from, to),
  // by as_of) counts each in its group; converted ones are kept until their
  // customers' opportunities are known, so a query holds the conversions,
  // not the tenant's leads and opportunities.
  std::map<std::string, Acc> groups;
  std::vector<Converted> converted;
  std::map<std::string, CustomerOpportunities> opportunities;  // of converted customers
  RETURN_IF_ERROR(
      ScanRows<facts::LeadFact>(store, RowKey(tenant, "lead"), [&](facts::LeadFact&& l) {
        if (!IsSet(l.create_time())) return;
        const absl::Time created = FromTimestamp(l.create_time());
        if (created < w.from || created >= w.to || created > w.as_of) return;
        std::string group;
        if (group_by == v1::GetFunnelRequest::GROUP_BY_CHANNEL) group = l.channel_id();
        if (group_by == v1::GetFunnelRequest::GROUP_BY_REP) group = RepOf(l, w.as_of);
        if (group_by == v1::GetFunnelRequest::GROUP_BY_TEAM) group = TeamOf(l, w.as_of);
        Acc& a = groups[group];
        a.row.set_leads(a.row.leads() + 1);
        if (!HappenedBy(l.convert_time(), w.as_of)) return;
        const absl::Time at = FromTimestamp(l.convert_time());
        a.row.set_customers(a.row.customers() + 1);
        a.lead_days += Days(at - created);
        opportunities.try_emplace(l.customer_id());
        converted.push_back({std::move(group), l.customer_id(), at});
      }));
  RETURN_IF_ERROR(ScanRows<facts::OpportunityFact>(
      store, RowKey(tenant, "opp"), [&](facts::OpportunityFact&& o) {
        auto it = opportunities.find(o.customer_id());
        if (it == opportunities.end() || !HappenedBy(o.create_time(), w.as_of)) return;
        CustomerOpportunities& c = it->second;
        const absl::Time created = FromTimestamp(o.create_time());
        c.first = std::min(c.first, created);
        ++c.count;
        if (HappenedBy(o.won_time(), w.as_of)) {
          ++c.won;
          c.won_amount += o.won_amount();
          c.won_days += Days(FromTimestamp(o.won_time()) - created);
        }
      }));
  for (const Converted& l : converted) {
    const CustomerOpportunities& c = opportunities[l.customer];
    if (c.count == 0) continue;
    Acc& a = groups[l.group];
    a.row.set_customers_with_opportunities(a.row.customers_with_opportunities() + 1);
    a.row.set_opportunities(a.row.opportunities() + c.count);
    a.row.set_won(a.row.won() + c.won);
    a.row.set_won_amount(a.row.won_amount() + c.won_amount);
    a.won_days += c.won_days;
    a.opp_days += Days(std::max(absl::ZeroDuration(), c.first - l.at));
    ++a.firsts;
  }
  v1::Funnel out;
  auto ratio = [](double n, double d) { return d == 0 ? 0.0 : n / d; };
  for (auto& [group, a] : groups) {
    v1::FunnelRow& r = a.row;
    r.set_group(group);
    r.set_lead_to_customer(ratio(r.customers(), r.leads()));
    r.set_customer_to_opportunity(ratio(r.customers_with_opportunities(), r.customers()));
    r.set_opportunity_to_won(ratio(r.won(), r.opportunities()));
    r.set_days_lead_to_customer(ratio(a.lead_days, r.customers()));
    r.set_days_customer_to_opportunity(ratio(a.opp_days, a.firsts));
    r.set_days_opportunity_to_won(ratio(a.won_days, r.won()));
    *out.add_rows() = std::move(r);
  }
  return out;
}

absl::StatusOr<v1::ChannelValue> BuildChannelValue(readstore::ReadStore* store,
                                                   const std::string& tenant, const Window& w) {
  ASSIGN_OR_RETURN(v1::Funnel funnel,
                   BuildFunnel(store, tenant, v1::GetFunnelRequest::GROUP_BY_CHANNEL, w));
  // Each channel's cost history: (from, monthly cost), oldest first.
  std::map<std::string, std::vector<std::pair<absl::Time, int64_t>>> costs;
  const std::string prefix = RowKey(tenant, "cost");
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    absl::string_view rest = key.substr(prefix.size());
    const size_t sep = rest.find('\0');
    const absl::Time since =
        absl::FromUnixMicros(readstore::DecodeBigEndian64(rest.substr(sep + 1)));
    int64_t monthly = 0;
    (void)absl::SimpleAtoi(value, &monthly);
    if (since <= w.as_of) costs[std::string(rest.substr(0, sep))].emplace_back(since, monthly);
    return true;
  }));
  std::map<std::string, v1::ChannelValueRow> rows;
  for (const auto& [channel, history] : costs) rows[channel].set_channel_id(channel);
  for (const auto& f : funnel.rows()) {
    v1::ChannelValueRow& r = rows[f.group()];
    r.set_channel_id(f.group());
    r.set_leads(f.leads());
    r.set_customers(f.customers());
    r.set_won_amount(f.won_amount());
  }
  // Cost: each monthly rate over the part of the window it was in force; a
  // month is 1/12 of a 365.25-day year.
  const absl::Duration month = absl::Hours(24) * 365.25 / 12;
  int64_t total_won = 0;
  for (auto& [channel, r] : rows) {
    total_won += r.won_amount();
    const auto& history = costs[channel];
    double cost = 0;
    for (size_t i = 0; i < history.size(); ++i) {
      const absl::Time start = std::max(history[i].first, w.from);
      const absl::Time end = std::min(i + 1 < history.size() ? history[i + 1].first : w.to, w.to);
      if (end > start) cost += history[i].second * (absl::FDivDuration(end - start, month));
    }
    r.set_cost(static_cast<int64_t>(cost + 0.5));
    if (r.leads() > 0) r.set_cost_per_lead(r.cost() / r.leads());
    if (r.customers() > 0) r.set_cost_per_customer(r.cost() / r.customers());
    if (r.won_amount() > 0) r.set_cost_per_won_unit(static_cast<double>(r.cost()) / r.won_amount());
  }
  v1::ChannelValue out;
  for (auto& [channel, r] : rows) {
    if (total_won > 0) r.set_revenue_share(static_cast<double>(r.won_amount()) / total_won);
    *out.add_rows() = std::move(r);
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> RepTeamsAsOf(readstore::ReadStore* store,
                                                                const std::string& tenant,
                                                                absl::Time as_of) {
  const std::string prefix = RowKey(tenant, "teams");
  std::optional<std::string> last;
  RETURN_IF_ERROR(store->Scan(prefix, "", [&](absl::string_view key, absl::string_view value) {
    if (WhenTime(key.substr(prefix.size())) > as_of) return false;
    last = std::string(value);
    return true;
  }));
  std::map<std::string, std::string> out;
  lev::LeadSettings teams;
  if (last && !teams.ParseFromString(*last)) return absl::DataLossError("corrupt teams row");
  for (const auto& t : teams.teams()) {
    for (const auto& m : t.members()) out.emplace(m.rep_id(), t.team_id());
  }
  return out;
}

}  // namespace crm::analytics
