#include "services/opportunity/projection/opportunity_list.h"

#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/readstore/derive.h"
#include "libs/status/status.h"

namespace crm::opportunity {
namespace {

const std::string kSep(1, '\0');

std::string Key(absl::string_view tenant, absl::string_view kind, absl::string_view rest) {
  return absl::StrCat(tenant, kSep, kind, kSep, rest);
}

std::string OwnerIndexPrefix(absl::string_view tenant, absl::string_view owner) {
  return Key(tenant, "opp-owner", absl::StrCat(owner, kSep));
}
std::string CustomerIndexPrefix(absl::string_view tenant, absl::string_view customer) {
  return Key(tenant, "opp-customer", absl::StrCat(customer, kSep));
}
std::string OpenIndexPrefix(absl::string_view tenant) { return Key(tenant, "opp-open", ""); }
bool Open(v1::OpportunityState state) {
  return state == v1::OPPORTUNITY_STATE_OPEN || state == v1::OPPORTUNITY_STATE_LOSS_PENDING;
}

std::string StatKey(absl::string_view tenant, absl::string_view pipeline, absl::string_view stage) {
  return Key(tenant, "stat", absl::StrCat(pipeline, kSep, stage));
}

v1::OpportunityState StateOf(State s) {
  switch (s) {
    case State::kOpen:
      return v1::OPPORTUNITY_STATE_OPEN;
    case State::kLossPending:
      return v1::OPPORTUNITY_STATE_LOSS_PENDING;
    case State::kWon:
      return v1::OPPORTUNITY_STATE_WON;
    case State::kLost:
      return v1::OPPORTUNITY_STATE_LOST;
    case State::kNone:
      break;
  }
  return v1::OPPORTUNITY_STATE_UNSPECIFIED;
}

std::pair<int64_t, int64_t> ParseStat(absl::string_view row) {
  std::pair<int64_t, int64_t> out{0, 0};
  std::vector<absl::string_view> parts = absl::StrSplit(row, ' ');
  if (parts.size() == 2) {
    (void)absl::SimpleAtoi(parts[0], &out.first);
    (void)absl::SimpleAtoi(parts[1], &out.second);
  }
  return out;
}

std::string PeriodOf(absl::Time t, v1::GetForecastRequest::Period period) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (period == v1::GetForecastRequest::PERIOD_QUARTER) {
    return absl::StrCat(c.year(), "-Q", (c.month() - 1) / 3 + 1);
  }
  return absl::StrCat(c.year(), "-", c.month() < 10 ? "0" : "", c.month());
}

}  // namespace

void ToProto(const Opportunity& o, const Calibration& probability, v1::Opportunity* out) {
  const ev::OpportunityCreated& c = o.created;
  out->set_name("opportunities/" + o.id);
  out->set_opportunity_id(o.id);
  out->set_customer_id(c.customer_id());
  out->set_owner_id(c.owner_id());
  out->set_team_id(c.team_id());
  out->set_display_name(c.name());
  out->set_pipeline_id(c.pipeline_id());
  out->set_stage_id(o.stage_id);
  out->set_probability(o.state == State::kWon    ? 100
                       : o.state == State::kLost ? 0
                                                 : probability.probability);
  out->set_probability_calibrated(probability.calibrated);
  if (o.expected_close != absl::InfinitePast()) {
    *out->mutable_expected_close_time() = ToTimestamp(o.expected_close);
  }
  for (const auto& l : o.lines) *out->add_lines() = l;
  out->set_amount(o.amount);
  out->set_need(o.need);
  out->set_state(StateOf(o.state));
  out->set_forecast_category(CategoryOf(o, out->probability()));
  for (const auto& v : o.history) {
    auto* h = out->add_stage_history();
    h->set_stage_id(v.stage_id);
    *h->mutable_enter_time() = ToTimestamp(v.enter_time);
    h->set_by(v.by);
  }
  out->set_quote_sent(o.quote_sent && o.quoted_amount == o.amount);
  out->set_contract_id(o.contract_id);
  out->set_loss_reason(o.loss_reason);
  out->set_etag(absl::StrCat(o.version));
  *out->mutable_create_time() = c.create_time();
  if (o.close_time != absl::InfinitePast()) *out->mutable_close_time() = ToTimestamp(o.close_time);
}

absl::Status OpportunityListProjection::Apply(const readstore::StoredEvent& event,
                                              readstore::RowWriter& rows) {
  const std::string& tenant = event.tenant();
  if (event.stream_id() == "catalog") return absl::OkStatus();
  OpportunityEvent e;
  RETURN_IF_ERROR(eventstore::FromStored(event.type(), event.payload(), &e));
  // Stage statistics move once per closing event (the runner applies each
  // event once, in the same batch as its offset).
  const google::protobuf::RepeatedPtrField<std::string>* reached = nullptr;
  bool won = false;
  if (e.has_won()) {
    reached = &e.won().stages_reached();
    won = true;
  } else if (e.has_close_lost_approved()) {
    reached = &e.close_lost_approved().stages_reached();
  }

  // The row, rebuilt from the stream as it stands.
  Opportunity o;
  o.id = event.stream_id();
  ASSIGN_OR_RETURN(auto stored, store_->ReadStream({tenant, event.stream_id()}));
  for (const auto& s : stored) {
    OpportunityEvent oe;
    RETURN_IF_ERROR(eventstore::FromStored(s.type(), s.payload(), &oe));
    o = Evolve(std::move(o), oe);
  }
  if (!o.exists()) return absl::OkStatus();
  v1::Opportunity row;
  ToProto(o, {o.stage_probability, false}, &row);
  rows.Put(Key(tenant, "opp", o.id), row.SerializeAsString());
  rows.Put(OwnerIndexPrefix(tenant, o.owner()) + o.id, "");
  rows.Put(CustomerIndexPrefix(tenant, o.created.customer_id()) + o.id, "");
  if (Open(row.state())) {
    rows.Put(OpenIndexPrefix(tenant) + o.id, "");
  } else {
    rows.Delete(OpenIndexPrefix(tenant) + o.id);
  }

  if (reached != nullptr) {
    for (const auto& stage : *reached) {
      const std::string key = StatKey(tenant, o.created.pipeline_id(), stage);
      ASSIGN_OR_RETURN(auto old, rows.Get(key));
      auto [closed, wins] = old ? ParseStat(*old) : std::pair<int64_t, int64_t>{0, 0};
      rows.Put(key, absl::StrCat(closed + 1, " ", wins + (won ? 1 : 0)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Calibration> StageProbability(readstore::ReadStore* store, const std::string& tenant,
                                             const std::string& pipeline_id,
                                             const std::string& stage_id, int32_t stage_default,
                                             int32_t min_closed) {
  ASSIGN_OR_RETURN(auto row, store->Get(StatKey(tenant, pipeline_id, stage_id)));
  const auto [closed, won] = row ? ParseStat(*row) : std::pair<int64_t, int64_t>{0, 0};
  return Calibrate(stage_default, closed, won, min_closed);
}

absl::Status IndexStoredOpportunities(readstore::ReadStore* store) {
  using Rows = readstore::ReadStore::Rows;
  RETURN_IF_ERROR(readstore::DeriveFromRows<v1::Opportunity>(
      store, "~indexed/opportunity-open", "opp",
      [](absl::string_view tenant, const std::string& id, const v1::Opportunity& o, Rows& rows) {
        if (Open(o.state())) rows.emplace_back(OpenIndexPrefix(tenant) + id, "");
      }));
  return readstore::DeriveFromRows<v1::Opportunity>(
      store, "~indexed/opportunity-owner-customer", "opp",
      [](absl::string_view tenant, const std::string& id, const v1::Opportunity& o, Rows& rows) {
        rows.emplace_back(OwnerIndexPrefix(tenant, o.owner_id()) + id, "");
        rows.emplace_back(CustomerIndexPrefix(tenant, o.customer_id()) + id, "");
      });
}

absl::StatusOr<OpportunityPage> ListOpportunities(readstore::ReadStore* store,
                                                  const std::string& tenant,
                                                  const OpportunityFilter& filter, int page_size,
                                                  const std::string& after_id) {
  // A list filtered by owner or customer walks that index (the owner's when
  // both are given), one of open ones only the open index, and reads the
  // rows it names; otherwise every row.
  const std::string rows = Key(tenant, "opp", "");
  const bool indexed = !filter.owner.empty() || !filter.customer.empty() || filter.open_only;
  const std::string prefix = !filter.owner.empty() ? OwnerIndexPrefix(tenant, filter.owner)
                             : !filter.customer.empty()
                                 ? CustomerIndexPrefix(tenant, filter.customer)
                             : filter.open_only ? OpenIndexPrefix(tenant)
                                                : rows;
  return readstore::ReadPage<v1::Opportunity>(
      store, prefix, indexed ? rows : "", after_id, page_size, [&](const v1::Opportunity& o) {
        if (!filter.owner.empty() && o.owner_id() != filter.owner) return false;
        if (!filter.customer.empty() && o.customer_id() != filter.customer) return false;
        return !filter.open_only || Open(o.state());
      });
}

absl::StatusOr<v1::Forecast> BuildForecast(readstore::ReadStore* store, const std::string& tenant,
                                           v1::GetForecastRequest::GroupBy group_by,
                                           v1::GetForecastRequest::Period period,
                                           int32_t min_closed) {
  struct Sum {
    int32_t count = 0;
    int64_t amount = 0;
    __int128 weighted = 0;  // amount * percent
  };
  std::map<std::tuple<std::string, std::string, int>, Sum> sums;
  std::map<std::pair<std::string, std::string>, Calibration> calibrations;
  absl::Status error;
  std::vector<v1::Opportunity> rows;
  RETURN_IF_ERROR(
      store->Scan(Key(tenant, "opp", ""), "", [&](absl::string_view, absl::string_view value) {
        v1::Opportunity o;
        if (!o.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          error = absl::DataLossError("corrupt opportunity row");
          return false;
        }
        if (o.state() == v1::OPPORTUNITY_STATE_OPEN ||
            o.state() == v1::OPPORTUNITY_STATE_LOSS_PENDING ||
            o.state() == v1::OPPORTUNITY_STATE_WON) {
          rows.push_back(std::move(o));
        }
        return true;
      }));
  RETURN_IF_ERROR(error);
  for (v1::Opportunity& o : rows) {
    int32_t probability = 100;
    if (o.state() != v1::OPPORTUNITY_STATE_WON) {
      const auto key = std::make_pair(o.pipeline_id(), o.stage_id());
      auto it = calibrations.find(key);
      if (it == calibrations.end()) {
        ASSIGN_OR_RETURN(Calibration c,
                         StageProbability(store, tenant, o.pipeline_id(), o.stage_id(),
                                          o.probability(), min_closed));
        it = calibrations.emplace(key, c).first;
      }
      probability = it->second.probability;
    }
    std::string group;
    if (group_by == v1::GetForecastRequest::GROUP_BY_REP) group = o.owner_id();
    if (group_by == v1::GetForecastRequest::GROUP_BY_TEAM) group = o.team_id();
    // Won deals count in the period they were won; open ones in the period
    // they are expected to close.
    std::string when = "unscheduled";
    if (o.state() == v1::OPPORTUNITY_STATE_WON) {
      when = PeriodOf(FromTimestamp(o.close_time()), period);
    } else if (o.has_expected_close_time()) {
      when = PeriodOf(FromTimestamp(o.expected_close_time()), period);
    }
    const int category = o.state() == v1::OPPORTUNITY_STATE_WON ? ev::FORECAST_CATEGORY_CLOSED
                                                                : o.forecast_category();
    Sum& s = sums[{group, when, category}];
    ++s.count;
    s.amount += o.amount();
    s.weighted += static_cast<__int128>(o.amount()) * probability;
  }
  v1::Forecast out;
  for (const auto& [key, s] : sums) {
    v1::ForecastRow* r = out.add_rows();
    r->set_group(std::get<0>(key));
    r->set_period(std::get<1>(key));
    r->set_category(static_cast<ev::ForecastCategory>(std::get<2>(key)));
    r->set_opportunities(s.count);
    r->set_amount(s.amount);
    r->set_weighted_amount(static_cast<int64_t>((s.weighted + 50) / 100));
  }
  return out;
}

}  // namespace crm::opportunity
