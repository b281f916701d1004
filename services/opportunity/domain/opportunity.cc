#include "services/opportunity/domain/opportunity.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::opportunity {
namespace {

constexpr size_t kMaxText = 2000;

absl::Status Refuse(absl::string_view reason, absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, reason, message);
}

absl::Status MustBeOpen(const Opportunity& o) {
  if (!o.exists()) return absl::NotFoundError("opportunity " + o.id + " does not exist");
  if (o.state == State::kLossPending) {
    return Refuse("CLOSE_LOST_PENDING",
                  "opportunity " + o.id + " awaits a manager's decision on closing as lost");
  }
  if (o.state != State::kOpen)
    return Refuse("OPPORTUNITY_CLOSED", "opportunity " + o.id + " is closed");
  return absl::OkStatus();
}

absl::Status MustOwn(const Opportunity& o, const std::string& user) {
  if (o.owner() != user) {
    return Refuse("NOT_OPPORTUNITY_OWNER", "opportunity " + o.id + " belongs to " + o.owner());
  }
  return absl::OkStatus();
}

absl::Status OwnedAndOpen(const Opportunity& o, const std::string& user) {
  RETURN_IF_ERROR(MustBeOpen(o));
  return MustOwn(o, user);
}

std::vector<std::string> StagesReached(const Opportunity& o) {
  std::vector<std::string> out;
  for (const auto& v : o.history) {
    if (std::find(out.begin(), out.end(), v.stage_id) == out.end()) out.push_back(v.stage_id);
  }
  return out;
}

int StageIndex(const ev::Pipeline& p, const std::string& stage_id) {
  for (int i = 0; i < p.stages_size(); ++i) {
    if (p.stages(i).stage_id() == stage_id) return i;
  }
  return -1;
}

std::string ConditionText(ev::Condition c) {
  switch (c) {
    case ev::CONDITION_KP_IDENTIFIED:
      return "no key person of the customer is identified";
    case ev::CONDITION_NEED_RECORDED:
      return "the customer's need is not recorded";
    case ev::CONDITION_DEMO_TOUCH_LOGGED:
      return "no demo meeting with the customer is logged";
    case ev::CONDITION_QUOTE_SENT:
      return "no quote of the current lines was sent";
    case ev::CONDITION_LINES_PRESENT:
      return "the opportunity has no lines";
    default:
      return "unknown condition";
  }
}

bool Met(ev::Condition c, const Opportunity& o, const CustomerFacts& customer) {
  switch (c) {
    case ev::CONDITION_KP_IDENTIFIED:
      return customer.key_person;
    case ev::CONDITION_NEED_RECORDED:
      return !o.need.empty();
    case ev::CONDITION_DEMO_TOUCH_LOGGED:
      return customer.demo_touch;
    case ev::CONDITION_QUOTE_SENT:
      return o.quote_sent && o.quoted_amount == o.amount;
    case ev::CONDITION_LINES_PRESENT:
      return !o.lines.empty();
    default:
      return false;
  }
}

}  // namespace

Opportunity Evolve(Opportunity o, const OpportunityEvent& event) {
  ++o.version;
  switch (event.event_case()) {
    case OpportunityEvent::kCreated: {
      const auto& c = event.created();
      o.id = c.opportunity_id();
      o.created = c;
      o.state = State::kOpen;
      o.stage_id = c.stage_id();
      o.stage_probability = c.probability();
      o.history.push_back({c.stage_id(), FromTimestamp(c.create_time()), c.created_by()});
      if (c.has_expected_close_time()) o.expected_close = FromTimestamp(c.expected_close_time());
      o.lines.assign(c.lines().begin(), c.lines().end());
      o.amount = c.amount();
      o.need = c.need();
      break;
    }
    case OpportunityEvent::kLinesChanged:
      o.lines.assign(event.lines_changed().lines().begin(), event.lines_changed().lines().end());
      o.amount = event.lines_changed().amount();
      break;
    case OpportunityEvent::kNeedRecorded:
      o.need = event.need_recorded().need();
      break;
    case OpportunityEvent::kQuoteSent:
      o.quote_sent = true;
      o.quoted_amount = event.quote_sent().amount();
      break;
    case OpportunityEvent::kCloseTimeChanged:
      o.expected_close = FromTimestamp(event.close_time_changed().expected_close_time());
      break;
    case OpportunityEvent::kForecastCategorySet:
      o.category = event.forecast_category_set().category();
      break;
    case OpportunityEvent::kStageChanged:
      o.stage_id = event.stage_changed().to_stage_id();
      o.stage_probability = event.stage_changed().probability();
      o.history.push_back({o.stage_id, FromTimestamp(event.stage_changed().change_time()),
                           event.stage_changed().by()});
      break;
    case OpportunityEvent::kCloseLostRequested:
      o.state = State::kLossPending;
      o.loss_reason = event.close_lost_requested().reason();
      break;
    case OpportunityEvent::kCloseLostApproved:
      o.state = State::kLost;
      o.close_time = FromTimestamp(event.close_lost_approved().approve_time());
      break;
    case OpportunityEvent::kCloseLostRejected:
      o.state = State::kOpen;
      o.loss_reason = ev::LOSS_REASON_UNSPECIFIED;
      break;
    case OpportunityEvent::kWon:
      o.state = State::kWon;
      o.contract_id = event.won().contract_id();
      o.close_time = FromTimestamp(event.won().win_time());
      break;
    case OpportunityEvent::EVENT_NOT_SET:
      break;
  }
  return o;
}

absl::StatusOr<OpportunityEvent> Decide(const Opportunity& o, const Create& cmd,
                                        const CustomerFacts& customer, const Settings& settings) {
  if (o.exists()) return absl::AlreadyExistsError("opportunity " + o.id + " already exists");
  FieldViolations v;
  const std::string name(absl::StripAsciiWhitespace(cmd.name));
  if (name.empty() || name.size() > 200) {
    v.Add("opportunity.display_name", "is required, at most 200 bytes");
  }
  if (cmd.customer_id.empty()) v.Add("opportunity.customer_id", "is required");
  const ev::Pipeline* pipeline = settings.FindPipeline(cmd.pipeline_id);
  if (pipeline == nullptr || pipeline->stages().empty()) {
    v.Add("opportunity.pipeline_id", "names no pipeline of this tenant");
  }
  if (cmd.expected_close != absl::InfinitePast() &&
      cmd.expected_close < cmd.now - absl::Hours(24)) {
    v.Add("opportunity.expected_close_time", "must not be in the past");
  }
  if (cmd.need.size() > kMaxText) v.Add("opportunity.need", "must be at most 2000 bytes");
  if (cmd.team_id.size() > 64) v.Add("opportunity.team_id", "must be at most 64 bytes");
  RETURN_IF_ERROR(v.ToStatus());
  if (!customer.known) {
    return absl::NotFoundError("customer " + cmd.customer_id +
                               " is not known to the opportunity service (yet)");
  }
  if (customer.owner != cmd.user) {
    return Refuse("CUSTOMER_NOT_OWNED",
                  "customer " + cmd.customer_id + " is not in " + cmd.user + "'s private pool");
  }
  ASSIGN_OR_RETURN(const int64_t amount, Total(cmd.lines));
  OpportunityEvent e;
  ev::OpportunityCreated* c = e.mutable_created();
  c->set_opportunity_id(cmd.opportunity_id);
  c->set_customer_id(cmd.customer_id);
  c->set_owner_id(cmd.user);
  c->set_team_id(cmd.team_id);
  c->set_name(name);
  c->set_pipeline_id(pipeline->pipeline_id());
  c->set_stage_id(pipeline->stages(0).stage_id());
  c->set_probability(pipeline->stages(0).probability());
  if (cmd.expected_close != absl::InfinitePast()) {
    *c->mutable_expected_close_time() = ToTimestamp(cmd.expected_close);
  }
  for (const auto& l : cmd.lines) *c->add_lines() = l;
  c->set_amount(amount);
  c->set_need(cmd.need);
  c->set_created_by(cmd.user);
  *c->mutable_create_time() = ToTimestamp(cmd.now);
  return e;
}

absl::StatusOr<OpportunityEvent> SetLines(const Opportunity& o, std::vector<ev::Line> lines,
                                          const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  ASSIGN_OR_RETURN(const int64_t amount, Total(lines));
  OpportunityEvent e;
  ev::LinesChanged* c = e.mutable_lines_changed();
  c->set_opportunity_id(o.id);
  for (auto& l : lines) *c->add_lines() = std::move(l);
  c->set_amount(amount);
  c->set_by(user);
  *c->mutable_change_time() = ToTimestamp(now);
  return e;
}

absl::StatusOr<OpportunityEvent> RecordNeed(const Opportunity& o, const std::string& need,
                                            const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  FieldViolations v;
  if (absl::StripAsciiWhitespace(need).empty()) v.Add("need", "is required");
  if (need.size() > kMaxText) v.Add("need", "must be at most 2000 bytes");
  RETURN_IF_ERROR(v.ToStatus());
  OpportunityEvent e;
  e.mutable_need_recorded()->set_opportunity_id(o.id);
  e.mutable_need_recorded()->set_need(need);
  e.mutable_need_recorded()->set_by(user);
  *e.mutable_need_recorded()->mutable_record_time() = ToTimestamp(now);
  return e;
}

absl::StatusOr<OpportunityEvent> SendQuote(const Opportunity& o, const std::string& quote_id,
                                           const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  if (o.lines.empty()) return Refuse("NO_LINES", "add lines before sending a quote");
  OpportunityEvent e;
  ev::QuoteSent* q = e.mutable_quote_sent();
  q->set_opportunity_id(o.id);
  q->set_quote_id(quote_id);
  q->set_amount(o.amount);
  q->set_by(user);
  *q->mutable_send_time() = ToTimestamp(now);
  return e;
}

absl::StatusOr<std::vector<OpportunityEvent>> UpdateForecast(const Opportunity& o,
                                                             absl::Time expected_close,
                                                             ev::ForecastCategory category,
                                                             const std::string& user,
                                                             absl::Time now) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  FieldViolations v;
  if (category == ev::FORECAST_CATEGORY_CLOSED || !ev::ForecastCategory_IsValid(category)) {
    v.Add("forecast_category", "must be PIPELINE, BEST_CASE or COMMIT: CLOSED comes from winning");
  }
  if (expected_close != absl::InfinitePast() && expected_close < now - absl::Hours(24)) {
    v.Add("expected_close_time", "must not be in the past");
  }
  RETURN_IF_ERROR(v.ToStatus());
  std::vector<OpportunityEvent> out;
  if (expected_close != absl::InfinitePast() && expected_close != o.expected_close) {
    ev::CloseTimeChanged* c = out.emplace_back().mutable_close_time_changed();
    c->set_opportunity_id(o.id);
    *c->mutable_expected_close_time() = ToTimestamp(expected_close);
    c->set_by(user);
    *c->mutable_change_time() = ToTimestamp(now);
  }
  if (category != ev::FORECAST_CATEGORY_UNSPECIFIED && category != o.category) {
    ev::ForecastCategorySet* c = out.emplace_back().mutable_forecast_category_set();
    c->set_opportunity_id(o.id);
    c->set_category(category);
    c->set_by(user);
    *c->mutable_set_time() = ToTimestamp(now);
  }
  return out;
}

std::vector<Unmet> UnmetConditions(const Opportunity& o, const ev::Pipeline& pipeline,
                                   const std::string& stage_id, const CustomerFacts& customer) {
  std::vector<Unmet> unmet;
  const int from = StageIndex(pipeline, o.stage_id);
  const int to = StageIndex(pipeline, stage_id);
  for (int i = from + 1; i <= to; ++i) {
    const ev::Stage& st = pipeline.stages(i);
    for (int c : st.entry_conditions()) {
      const auto cond = static_cast<ev::Condition>(c);
      if (Met(cond, o, customer)) continue;
      const std::string type(absl::StripPrefix(ev::Condition_Name(cond), "CONDITION_"));
      bool seen = false;
      for (const auto& u : unmet) seen |= u.type == type;
      if (!seen) unmet.push_back({type, "stages/" + st.stage_id(), ConditionText(cond)});
    }
  }
  return unmet;
}

absl::StatusOr<std::vector<OpportunityEvent>> Advance(const Opportunity& o,
                                                      const std::string& stage_id,
                                                      const CustomerFacts& customer,
                                                      const Settings& settings,
                                                      const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  const ev::Pipeline* pipeline = settings.FindPipeline(o.created.pipeline_id());
  const int to = pipeline == nullptr ? -1 : StageIndex(*pipeline, stage_id);
  if (to < 0) {
    FieldViolations v;
    v.Add("stage_id", "names no open stage of the opportunity's pipeline");
    return v.ToStatus();
  }
  if (stage_id == o.stage_id) return std::vector<OpportunityEvent>{};
  const std::vector<Unmet> unmet = UnmetConditions(o, *pipeline, stage_id, customer);
  if (!unmet.empty()) {
    return PreconditionFailed(
        "STAGE_CONDITIONS_UNMET",
        absl::StrCat("cannot enter stage ", stage_id, ": ", unmet.size(), " condition(s) unmet"),
        unmet);
  }
  std::vector<OpportunityEvent> out(1);
  ev::StageChanged* c = out[0].mutable_stage_changed();
  c->set_opportunity_id(o.id);
  c->set_from_stage_id(o.stage_id);
  c->set_to_stage_id(stage_id);
  c->set_probability(pipeline->stages(to).probability());
  c->set_by(user);
  *c->mutable_change_time() = ToTimestamp(now);
  if (!o.history.empty())
    *c->mutable_entered_from_time() = ToTimestamp(o.history.back().enter_time);
  return out;
}

absl::StatusOr<OpportunityEvent> RequestCloseLost(const Opportunity& o, ev::LossReason reason,
                                                  const std::string& note, const std::string& user,
                                                  absl::Time now) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  FieldViolations v;
  if (reason == ev::LOSS_REASON_UNSPECIFIED || !ev::LossReason_IsValid(reason)) {
    v.Add("reason", "is required");
  }
  if (reason == ev::LOSS_REASON_OTHER && absl::StripAsciiWhitespace(note).empty()) {
    v.Add("note", "is required when the reason is OTHER");
  }
  if (note.size() > kMaxText) v.Add("note", "must be at most 2000 bytes");
  RETURN_IF_ERROR(v.ToStatus());
  OpportunityEvent e;
  ev::CloseLostRequested* r = e.mutable_close_lost_requested();
  r->set_opportunity_id(o.id);
  r->set_reason(reason);
  r->set_note(note);
  r->set_by(user);
  *r->mutable_request_time() = ToTimestamp(now);
  return e;
}

absl::StatusOr<OpportunityEvent> DecideCloseLost(const Opportunity& o, bool approve,
                                                 const std::string& comment, bool manager,
                                                 const std::string& user, absl::Time now) {
  if (!o.exists()) return absl::NotFoundError("opportunity " + o.id + " does not exist");
  if (!manager) {
    return absl::PermissionDeniedError("only a manager decides on closing a deal as lost");
  }
  if (o.state != State::kLossPending) {
    return Refuse("NO_CLOSE_LOST_REQUEST",
                  "opportunity " + o.id + " has no request to close it as lost");
  }
  if (comment.size() > kMaxText) {
    FieldViolations v;
    v.Add("comment", "must be at most 2000 bytes");
    return v.ToStatus();
  }
  OpportunityEvent e;
  if (approve) {
    ev::CloseLostApproved* a = e.mutable_close_lost_approved();
    a->set_opportunity_id(o.id);
    a->set_reason(o.loss_reason);
    a->set_stage_id(o.stage_id);
    a->set_by(user);
    a->set_comment(comment);
    *a->mutable_approve_time() = ToTimestamp(now);
    for (const auto& s : StagesReached(o)) a->add_stages_reached(s);
  } else {
    ev::CloseLostRejected* r = e.mutable_close_lost_rejected();
    r->set_opportunity_id(o.id);
    r->set_by(user);
    r->set_comment(comment);
    *r->mutable_reject_time() = ToTimestamp(now);
  }
  return e;
}

absl::Status CheckWinnable(const Opportunity& o, const std::string& user) {
  RETURN_IF_ERROR(OwnedAndOpen(o, user));
  if (o.lines.empty()) return Refuse("NO_LINES", "a deal without lines cannot be won");
  return absl::OkStatus();
}

absl::StatusOr<OpportunityEvent> Win(const Opportunity& o, const std::string& contract_id,
                                     const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(CheckWinnable(o, user));
  OpportunityEvent e;
  ev::OpportunityWon* w = e.mutable_won();
  w->set_opportunity_id(o.id);
  w->set_contract_id(contract_id);
  w->set_amount(o.amount);
  w->set_stage_id(o.stage_id);
  w->set_by(user);
  *w->mutable_win_time() = ToTimestamp(now);
  for (const auto& s : StagesReached(o)) w->add_stages_reached(s);
  w->set_customer_id(o.created.customer_id());
  w->set_owner_id(o.owner());
  return e;
}

ev::ForecastCategory CategoryOf(const Opportunity& o, int32_t probability) {
  if (o.state == State::kWon) return ev::FORECAST_CATEGORY_CLOSED;
  if (o.category != ev::FORECAST_CATEGORY_UNSPECIFIED) return o.category;
  if (probability >= 80) return ev::FORECAST_CATEGORY_COMMIT;
  if (probability >= 40) return ev::FORECAST_CATEGORY_BEST_CASE;
  return ev::FORECAST_CATEGORY_PIPELINE;
}

}  // namespace crm::opportunity
