#include "services/contract/domain/contract.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "libs/clock/timestamp.h"
#include "libs/money/money.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

constexpr size_t kMaxText = 2000;

absl::Status WrongState(const Contract& c, absl::string_view wanted) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "CONTRACT_STATE",
                         absl::StrCat("contract ", c.id, " is ", StateName(c.state), "; ", wanted));
}

absl::Status MustExist(const Contract& c) {
  if (!c.exists()) return absl::NotFoundError("contract " + c.id + " does not exist");
  return absl::OkStatus();
}

absl::Status MustOwn(const Contract& c, const std::string& user) {
  if (c.owner() != user) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOT_CONTRACT_OWNER",
                           "contract " + c.id + " belongs to " + c.owner());
  }
  return absl::OkStatus();
}

bool Signed(State s) {
  return s == State::kActive || s == State::kCompleted || s == State::kTerminated;
}

std::string RoleName(ev::ApproverRole r) {
  switch (r) {
    case ev::APPROVER_ROLE_TEAM_LEAD:
      return "team-lead";
    case ev::APPROVER_ROLE_DIRECTOR:
      return "director";
    case ev::APPROVER_ROLE_LEGAL:
      return "legal";
    default:
      return "";
  }
}

bool MayApprove(const ev::ApprovalStep& step, const std::string& user,
                const std::set<std::string>& roles) {
  if (step.approvers().empty()) return roles.count(RoleName(step.role())) > 0;
  return std::find(step.approvers().begin(), step.approvers().end(), user) !=
         step.approvers().end();
}

bool StepDone(const ev::ApprovalStep& step, const std::set<std::string>& approved) {
  if (step.mode() != ev::STEP_MODE_ALL || step.approvers().empty()) return !approved.empty();
  for (const auto& a : step.approvers()) {
    if (!approved.count(a)) return false;
  }
  return true;
}

ev::ApprovalStep Step(ev::ApproverRole role, ev::StepMode mode,
                      const std::vector<std::string>& approvers, std::string reason) {
  ev::ApprovalStep s;
  s.set_role(role);
  s.set_mode(mode);
  for (const auto& a : approvers) s.add_approvers(a);
  s.set_reason(std::move(reason));
  return s;
}

}  // namespace

const char* StateName(State s) {
  switch (s) {
    case State::kNone:
      return "missing";
    case State::kDraft:
      return "a draft";
    case State::kInApproval:
      return "in approval";
    case State::kApproved:
      return "approved";
    case State::kSent:
      return "sent for confirmation";
    case State::kActive:
      return "active";
    case State::kCompleted:
      return "completed";
    case State::kTerminated:
      return "terminated";
  }
  return "unknown";
}

Contract Evolve(Contract c, const ContractEvent& event) {
  ++c.version;
  switch (event.event_case()) {
    case ContractEvent::kCreated:
      c.id = event.created().contract_id();
      c.created = event.created();
      c.terms = event.created().terms();
      c.state = State::kDraft;
      break;
    case ContractEvent::kChanged:
      c.terms = event.changed().terms();
      c.state = State::kDraft;
      c.steps.clear();
      break;
    case ContractEvent::kApprovalRequested:
      c.state = State::kInApproval;
      c.round = event.approval_requested().round();
      c.steps.assign(event.approval_requested().steps().begin(),
                     event.approval_requested().steps().end());
      c.current_step = 0;
      c.approved_in_step.clear();
      break;
    case ContractEvent::kApprovalGiven:
      c.approved_in_step.insert(event.approval_given().approver());
      if (c.current_step < static_cast<int>(c.steps.size()) &&
          StepDone(c.steps[c.current_step], c.approved_in_step)) {
        ++c.current_step;
        c.approved_in_step.clear();
      }
      break;
    case ContractEvent::kApprovalRejected:
      c.state = State::kDraft;
      c.steps.clear();
      break;
    case ContractEvent::kApproved:
      c.state = State::kApproved;
      break;
    case ContractEvent::kSentForConfirmation:
      c.state = State::kSent;
      break;
    case ContractEvent::kContractSigned:
      c.state = State::kActive;
      c.sign_time = FromTimestamp(event.contract_signed().sign_time());
      break;
    case ContractEvent::kEnded:
      c.state = event.ended().reason() == ev::END_REASON_COMPLETED ? State::kCompleted
                                                                   : State::kTerminated;
      break;
    case ContractEvent::kPaymentPlanSet:
      c.installments.clear();
      c.overdue_noticed.clear();  // a new plan's installments are new
      for (const auto& i : event.payment_plan_set().installments()) {
        c.installments.push_back({i.installment_id(), i.amount(), FromTimestamp(i.due_time())});
      }
      break;
    case ContractEvent::kPaymentReceived: {
      const auto& p = event.payment_received();
      for (const auto& a : p.allocations()) {
        for (auto& i : c.installments) {
          if (i.id != a.installment_id()) continue;
          i.paid += a.amount();
          if (i.open() == 0) i.paid_in_full = FromTimestamp(p.receive_time());
        }
      }
      c.credit += p.credit();
      break;
    }
    case ContractEvent::kMilestoneAdded: {
      const auto& m = event.milestone_added();
      MilestoneState& ms = c.milestones.emplace_back();
      ms.id = m.milestone_id();
      ms.title = m.title();
      ms.owner = m.owner_id();
      ms.due = FromTimestamp(m.due_time());
      break;
    }
    case ContractEvent::kMilestoneCompleted: {
      const auto& m = event.milestone_completed();
      for (auto& ms : c.milestones) {
        if (ms.id != m.milestone_id()) continue;
        ms.done = FromTimestamp(m.complete_time());
        ms.note = m.note();
        ms.follow_up = m.follow_up();
        if (m.has_follow_up_time()) ms.follow_up_at = FromTimestamp(m.follow_up_time());
      }
      break;
    }
    case ContractEvent::kPaymentOverdue:
      c.overdue_noticed.insert(event.payment_overdue().installment_id());
      break;
    case ContractEvent::kRenewalDue:
      c.renewal_noticed = true;
      break;
    case ContractEvent::kFollowUpDue:
      for (auto& ms : c.milestones) {
        if (ms.id == event.follow_up_due().milestone_id()) ms.follow_up_noticed = true;
      }
      break;
    case ContractEvent::EVENT_NOT_SET:
      break;
  }
  return c;
}

Rules Rules::From(const ev::ApprovalRules& r) {
  Rules out;
  if (r.team_lead_above_amount() > 0) out.team_lead_above_amount = r.team_lead_above_amount();
  if (r.team_lead_above_discount_bp() > 0) {
    out.team_lead_above_discount_bp = r.team_lead_above_discount_bp();
  }
  if (r.director_above_amount() > 0) out.director_above_amount = r.director_above_amount();
  if (r.director_above_discount_bp() > 0) {
    out.director_above_discount_bp = r.director_above_discount_bp();
  }
  out.team_leads.assign(r.team_leads().begin(), r.team_leads().end());
  out.directors.assign(r.directors().begin(), r.directors().end());
  out.legal.assign(r.legal().begin(), r.legal().end());
  return out;
}

absl::Status ValidateRules(const ev::ApprovalRules& r) {
  FieldViolations v;
  if (r.team_lead_above_amount() < 0) v.Add("rules.team_lead_above_amount", "must not be negative");
  if (r.director_above_amount() < 0) v.Add("rules.director_above_amount", "must not be negative");
  for (int32_t bp : {r.team_lead_above_discount_bp(), r.director_above_discount_bp()}) {
    if (bp < 0 || bp > kFullDiscountBp) {
      v.Add("rules.discount_bp", "thresholds must be 0-10000 basis points");
      break;
    }
  }
  const Rules x = Rules::From(r);
  if (x.director_above_amount < x.team_lead_above_amount) {
    v.Add("rules.director_above_amount", "must not be below the team lead's threshold");
  }
  return v.ToStatus();
}

absl::Status ValidateTemplate(const ev::ContractTemplate& t) {
  FieldViolations v;
  if (t.template_id().empty() || t.template_id().size() > 64) {
    v.Add("template.template_id", "is required, at most 64 bytes");
  }
  if (absl::StripAsciiWhitespace(t.name()).empty()) v.Add("template.name", "is required");
  if (t.lines().empty()) v.Add("template.lines", "must name at least one product");
  for (int i = 0; i < t.lines_size(); ++i) {
    const auto& l = t.lines(i);
    const std::string at = absl::StrCat("template.lines[", i, "]");
    if (l.product_id().empty()) v.Add(at + ".product_id", "is required");
    if (l.list_price() < 0) v.Add(at + ".list_price", "must not be negative");
    if (l.max_discount_bp() < 0 || l.max_discount_bp() > kFullDiscountBp) {
      v.Add(at + ".max_discount_bp", "must be 0-10000 basis points");
    }
  }
  if (t.payment_terms_days() < 0) v.Add("template.payment_terms_days", "must not be negative");
  if (t.duration_months() < 0) v.Add("template.duration_months", "must not be negative");
  return v.ToStatus();
}

absl::StatusOr<ev::ContractTerms> MakeTerms(const TermsInput& in,
                                            const ev::ContractTemplate* tmpl) {
  FieldViolations v;
  if (in.lines.empty() || in.lines.size() > 200) v.Add("contract.lines", "must be 1-200 lines");
  if (!in.template_id.empty() && tmpl == nullptr) {
    v.Add("contract.template_id", "names no template of this tenant");
  }
  if (!in.template_id.empty() && !in.document_ref.empty()) {
    v.Add("contract.document_ref", "a standard contract (from a template) has no document");
  }
  if (in.document_ref.size() > 500) v.Add("contract.document_ref", "must be at most 500 bytes");
  if (in.payment_terms_days < 0 || in.payment_terms_days > 365) {
    v.Add("contract.payment_terms_days", "must be 0-365");
  }
  if (in.duration_months < 0 || in.duration_months > 120) {
    v.Add("contract.duration_months", "must be 0-120");
  }
  ev::ContractTerms t;
  int64_t total = 0;
  for (size_t i = 0; i < in.lines.size(); ++i) {
    const ev::ContractLine& l = in.lines[i];
    const std::string at = absl::StrCat("contract.lines[", i, "]");
    if (l.product_id().empty()) v.Add(at + ".product_id", "is required");
    if (l.quantity() < 1 || l.quantity() > 1000000) v.Add(at + ".quantity", "must be 1-1000000");
    if (l.list_price() < 0) v.Add(at + ".list_price", "must not be negative");
    if (l.discount_bp() < 0 || l.discount_bp() > kFullDiscountBp) {
      v.Add(at + ".discount_bp", "must be 0-10000 basis points");
    }
    ev::ContractLine* line = t.add_lines();
    *line = l;
    auto amount = LineAmount(l.quantity(), l.list_price(), l.discount_bp());
    auto sum = amount ? AddMoney(total, *amount) : std::nullopt;
    if (!sum) {
      v.Add(at, "amount is out of range");
      continue;
    }
    line->set_amount(*amount);
    total = *sum;
    t.set_max_discount_bp(std::max(t.max_discount_bp(), l.discount_bp()));
  }
  RETURN_IF_ERROR(v.ToStatus());
  t.set_amount(total);
  t.set_template_id(in.template_id);
  t.set_document_ref(in.document_ref);
  t.set_payment_terms_days(in.payment_terms_days);
  t.set_duration_months(in.duration_months);
  if (tmpl != nullptr) {
    auto deviate = [&](std::string field, auto template_value, auto contract_value) {
      ev::Deviation* d = t.add_deviations();
      d->set_field(std::move(field));
      d->set_template_value(absl::StrCat(template_value));
      d->set_contract_value(absl::StrCat(contract_value));
    };
    std::map<std::string, const ev::TemplateLine*> by_product;
    for (const auto& tl : tmpl->lines()) by_product[tl.product_id()] = &tl;
    for (size_t i = 0; i < in.lines.size(); ++i) {
      const auto& l = in.lines[i];
      const std::string at = absl::StrCat("lines[", i, "]");
      auto it = by_product.find(l.product_id());
      if (it == by_product.end()) {
        deviate(at + ".product_id", "(not in the template)", l.product_id());
        continue;
      }
      if (l.list_price() != it->second->list_price()) {
        deviate(at + ".list_price", it->second->list_price(), l.list_price());
      }
      if (l.discount_bp() > it->second->max_discount_bp()) {
        deviate(at + ".discount_bp", absl::StrCat("at most ", it->second->max_discount_bp()),
                l.discount_bp());
      }
    }
    if (in.payment_terms_days != tmpl->payment_terms_days()) {
      deviate("payment_terms_days", tmpl->payment_terms_days(), in.payment_terms_days);
    }
    if (in.duration_months != tmpl->duration_months()) {
      deviate("duration_months", tmpl->duration_months(), in.duration_months);
    }
  }
  return t;
}

std::vector<ev::ApprovalStep> RouteApproval(const ev::ContractTerms& t, const Rules& r) {
  std::vector<ev::ApprovalStep> steps;
  auto above = [&](int64_t amount_limit, int32_t discount_limit) -> std::string {
    if (t.amount() > amount_limit) {
      return absl::StrCat("amount ", t.amount(), " is above ", amount_limit);
    }
    if (t.max_discount_bp() > discount_limit) {
      return absl::StrCat("a discount of ", t.max_discount_bp(), " bp is above ", discount_limit);
    }
    return "";
  };
  if (std::string why = above(r.team_lead_above_amount, r.team_lead_above_discount_bp);
      !why.empty()) {
    steps.push_back(Step(ev::APPROVER_ROLE_TEAM_LEAD, ev::STEP_MODE_ANY_ONE, r.team_leads, why));
  }
  if (std::string why = above(r.director_above_amount, r.director_above_discount_bp);
      !why.empty()) {
    steps.push_back(Step(ev::APPROVER_ROLE_DIRECTOR, ev::STEP_MODE_ANY_ONE, r.directors, why));
  }
  if (t.template_id().empty()) {
    steps.push_back(Step(ev::APPROVER_ROLE_LEGAL, ev::STEP_MODE_ALL, r.legal,
                         "non-standard contract (no template)"));
  } else if (!t.deviations().empty()) {
    steps.push_back(
        Step(ev::APPROVER_ROLE_LEGAL, ev::STEP_MODE_ALL, r.legal,
             absl::StrCat(t.deviations_size(), " deviation(s) from template ", t.template_id())));
  }
  return steps;
}

absl::StatusOr<ContractEvent> Decide(const Contract& c, const Create& cmd) {
  if (c.exists()) return absl::AlreadyExistsError("contract " + c.id + " already exists");
  if (cmd.customer_id.empty() || cmd.customer_id.size() > 64) {
    FieldViolations v;
    v.Add("contract.customer_id", "is required, at most 64 bytes");
    return v.ToStatus();
  }
  if (!cmd.renewal_of.empty()) {
    if (cmd.renewed == nullptr || !cmd.renewed->exists()) {
      return absl::NotFoundError("contract " + cmd.renewal_of + " (renewal_of) does not exist");
    }
    if (!Signed(cmd.renewed->state) || cmd.renewed->created.customer_id() != cmd.customer_id) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "RENEWAL_MISMATCH",
                             "contract " + cmd.renewal_of +
                                 " is not a signed contract of customer " + cmd.customer_id);
    }
  }
  ContractEvent e;
  ev::ContractCreated* out = e.mutable_created();
  out->set_contract_id(cmd.contract_id);
  out->set_renewal_of(cmd.renewal_of);
  out->set_customer_id(cmd.customer_id);
  out->set_owner_id(cmd.owner_id.empty() ? cmd.user : cmd.owner_id);
  out->set_opportunity_id(cmd.opportunity_id);
  *out->mutable_lines() = cmd.terms.lines();
  out->set_amount(cmd.terms.amount());
  out->set_created_by(cmd.user);
  *out->mutable_create_time() = ToTimestamp(cmd.now);
  *out->mutable_terms() = cmd.terms;
  return e;
}

absl::StatusOr<std::vector<ContractEvent>> Change(const Contract& c, ev::ContractTerms terms,
                                                  const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  RETURN_IF_ERROR(MustOwn(c, user));
  if (c.state == State::kSent || Signed(c.state)) {
    return WrongState(c, "its terms change only before it is sent to the customer");
  }
  std::vector<ContractEvent> out(1);
  ev::ContractChanged* e = out[0].mutable_changed();
  e->set_contract_id(c.id);
  *e->mutable_terms() = std::move(terms);
  e->set_by(user);
  *e->mutable_change_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> Submit(const Contract& c, const Rules& rules,
                                                  const std::string& user, absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  RETURN_IF_ERROR(MustOwn(c, user));
  if (c.state != State::kDraft) return WrongState(c, "only a draft is submitted for approval");
  std::vector<ContractEvent> out(1);
  ev::ApprovalRequested* r = out[0].mutable_approval_requested();
  r->set_contract_id(c.id);
  for (auto& s : RouteApproval(c.terms, rules)) *r->add_steps() = std::move(s);
  r->set_by(user);
  *r->mutable_request_time() = ToTimestamp(now);
  r->set_round(c.round + 1);
  if (r->steps().empty()) {
    ev::ContractApproved* a = out.emplace_back().mutable_approved();
    a->set_contract_id(c.id);
    *a->mutable_approve_time() = ToTimestamp(now);
    a->set_note("below every approval threshold, standard terms");
  }
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> Approve(const Contract& c, const std::string& approver,
                                                   const std::set<std::string>& roles,
                                                   const std::string& comment, absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  if (c.state != State::kInApproval)
    return WrongState(c, "only a contract in approval is approved");
  const ev::ApprovalStep& step = c.steps[c.current_step];
  if (!MayApprove(step, approver, roles)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "step ", c.current_step + 1, " (", RoleName(step.role()), ") is not ", approver, "'s"));
  }
  if (c.approved_in_step.count(approver)) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "ALREADY_APPROVED",
                           approver + " already approved this step");
  }
  if (comment.size() > kMaxText) return absl::InvalidArgumentError("comment: at most 2000 bytes");
  std::vector<ContractEvent> out(1);
  ev::ApprovalGiven* g = out[0].mutable_approval_given();
  g->set_contract_id(c.id);
  g->set_step(c.current_step + 1);
  g->set_approver(approver);
  g->set_comment(comment);
  *g->mutable_approve_time() = ToTimestamp(now);
  std::set<std::string> after = c.approved_in_step;
  after.insert(approver);
  if (c.current_step + 1 == static_cast<int>(c.steps.size()) && StepDone(step, after)) {
    ev::ContractApproved* a = out.emplace_back().mutable_approved();
    a->set_contract_id(c.id);
    *a->mutable_approve_time() = ToTimestamp(now);
    a->set_note(absl::StrCat("every one of ", c.steps.size(), " step(s) approved"));
  }
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> Reject(const Contract& c, const std::string& approver,
                                                  const std::set<std::string>& roles,
                                                  const std::string& comment, absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  if (c.state != State::kInApproval)
    return WrongState(c, "only a contract in approval is rejected");
  const ev::ApprovalStep& step = c.steps[c.current_step];
  if (!MayApprove(step, approver, roles)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "step ", c.current_step + 1, " (", RoleName(step.role()), ") is not ", approver, "'s"));
  }
  if (absl::StripAsciiWhitespace(comment).empty() || comment.size() > kMaxText) {
    FieldViolations v;
    v.Add("comment", "is required to reject: say what must change (at most 2000 bytes)");
    return v.ToStatus();
  }
  std::vector<ContractEvent> out(1);
  ev::ApprovalRejected* r = out[0].mutable_approval_rejected();
  r->set_contract_id(c.id);
  r->set_step(c.current_step + 1);
  r->set_approver(approver);
  r->set_comment(comment);
  *r->mutable_reject_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> SendForConfirmation(const Contract& c,
                                                               const std::string& user,
                                                               absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  RETURN_IF_ERROR(MustOwn(c, user));
  if (c.state != State::kApproved) return WrongState(c, "only an approved contract is sent");
  std::vector<ContractEvent> out(1);
  out[0].mutable_sent_for_confirmation()->set_contract_id(c.id);
  out[0].mutable_sent_for_confirmation()->set_by(user);
  *out[0].mutable_sent_for_confirmation()->mutable_send_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> Confirm(const Contract& c, const std::string& user,
                                                   absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  RETURN_IF_ERROR(MustOwn(c, user));
  if (c.state != State::kSent) {
    return WrongState(c, "only a contract sent for confirmation is confirmed");
  }
  std::vector<ContractEvent> out(1);
  ev::ContractSigned* s = out[0].mutable_contract_signed();
  s->set_contract_id(c.id);
  s->set_customer_id(c.created.customer_id());
  s->set_owner_id(c.owner());
  s->set_amount(c.terms.amount() / 100);  // whole units on the topic
  *s->mutable_sign_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> End(const Contract& c, ev::EndReason reason,
                                               const std::string& note, const std::string& user,
                                               absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  RETURN_IF_ERROR(MustOwn(c, user));
  FieldViolations v;
  if (reason != ev::END_REASON_COMPLETED && reason != ev::END_REASON_TERMINATED) {
    v.Add("reason", "must be COMPLETED or TERMINATED");
  }
  if (reason == ev::END_REASON_TERMINATED && absl::StripAsciiWhitespace(note).empty()) {
    v.Add("note", "is required to terminate");
  }
  RETURN_IF_ERROR(v.ToStatus());
  if (c.state != State::kActive) return WrongState(c, "only an active contract ends");
  std::vector<ContractEvent> out(1);
  ev::ContractEnded* e = out[0].mutable_ended();
  e->set_contract_id(c.id);
  e->set_reason(reason);
  e->set_note(note);
  e->set_by(user);
  *e->mutable_end_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> SetPaymentPlan(
    const Contract& c, const std::vector<PlannedInstallment>& plan, const std::string& user,
    absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  RETURN_IF_ERROR(MustOwn(c, user));
  if (c.state == State::kCompleted || c.state == State::kTerminated) {
    return WrongState(c, "an ended contract's plan does not change");
  }
  for (const auto& i : c.installments) {
    if (i.paid > 0) {
      return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "PAYMENTS_RECEIVED",
                             "money was received against the plan; it no longer changes");
    }
  }
  FieldViolations v;
  if (plan.empty() || plan.size() > 120) v.Add("installments", "must be 1-120 installments");
  int64_t total = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const std::string at = absl::StrCat("installments[", i, "]");
    if (plan[i].amount <= 0) v.Add(at + ".amount", "must be positive");
    if (i > 0 && plan[i].due < plan[i - 1].due)
      v.Add(at + ".due_time", "must not be before the one before");
    auto sum = AddMoney(total, plan[i].amount);
    if (sum) total = *sum;
  }
  if (v.empty() && total != c.terms.amount()) {
    v.Add("installments",
          absl::StrCat("must sum to the contract amount ", c.terms.amount(), ", not ", total));
  }
  RETURN_IF_ERROR(v.ToStatus());
  std::vector<ContractEvent> out(1);
  ev::PaymentPlanSet* p = out[0].mutable_payment_plan_set();
  p->set_contract_id(c.id);
  for (size_t i = 0; i < plan.size(); ++i) {
    ev::Installment* in = p->add_installments();
    in->set_installment_id(absl::StrCat(c.id, "-", i + 1));
    in->set_amount(plan[i].amount);
    *in->mutable_due_time() = ToTimestamp(plan[i].due);
  }
  p->set_by(user);
  *p->mutable_set_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> ReceivePayment(const Contract& c,
                                                          const std::string& receipt_id,
                                                          int64_t amount, absl::Time received,
                                                          const std::string& user) {
  RETURN_IF_ERROR(MustExist(c));
  if (c.state != State::kActive && c.state != State::kCompleted) {
    return WrongState(c, "money is received on a signed contract");
  }
  if (amount <= 0) {
    FieldViolations v;
    v.Add("amount", "must be positive");
    return v.ToStatus();
  }
  if (c.installments.empty()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NO_PAYMENT_PLAN",
                           "set a payment plan before recording receipts");
  }
  std::vector<ContractEvent> out(1);
  ev::PaymentReceived* p = out[0].mutable_payment_received();
  p->set_contract_id(c.id);
  p->set_receipt_id(receipt_id);
  p->set_amount(amount);
  *p->mutable_receive_time() = ToTimestamp(received);
  p->set_by(user);
  int64_t left = amount;
  for (const auto& i : c.installments) {  // in due order
    if (left == 0) break;
    const int64_t take = std::min(left, i.open());
    if (take <= 0) continue;
    ev::Allocation* a = p->add_allocations();
    a->set_installment_id(i.id);
    a->set_amount(take);
    left -= take;
  }
  p->set_credit(left);
  return out;
}

absl::Time EndTime(const Contract& c) {
  if (!Signed(c.state) || c.terms.duration_months() <= 0) return absl::InfiniteFuture();
  const absl::CivilSecond start = absl::ToCivilSecond(c.sign_time, absl::UTCTimeZone());
  const absl::CivilMonth month = absl::CivilMonth(start) + c.terms.duration_months();
  const int days_in_month = static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
  const absl::CivilSecond end(month.year(), month.month(), std::min(start.day(), days_in_month),
                              start.hour(), start.minute(), start.second());
  return absl::FromCivil(end, absl::UTCTimeZone());
}

absl::StatusOr<std::vector<ContractEvent>> AddMilestone(const Contract& c, const NewMilestone& m,
                                                        const std::string& user,
                                                        const std::set<std::string>& roles,
                                                        absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  if (c.owner() != user && !roles.count("admin") && !roles.count("service")) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOT_CONTRACT_OWNER",
                           "milestones of contract " + c.id + " are added by " + c.owner() +
                               ", an admin or the service role");
  }
  FieldViolations v;
  const std::string title(absl::StripAsciiWhitespace(m.title));
  if (title.empty() || title.size() > 200)
    v.Add("milestone.title", "is required, 1-200 characters");
  if (m.owner.empty() || m.owner.size() > 64) {
    v.Add("milestone.owner_id", "is required, at most 64 bytes");
  }
  if (m.due == absl::InfinitePast()) v.Add("milestone.due_time", "is required");
  RETURN_IF_ERROR(v.ToStatus());
  if (c.state != State::kActive && c.state != State::kCompleted) {
    return WrongState(c, "milestones belong to a signed contract");
  }
  if (c.milestones.size() >= 100) {
    FieldViolations full;
    full.Add("milestone", "a contract has at most 100 milestones");
    return full.ToStatus();
  }
  std::vector<ContractEvent> out(1);
  ev::MilestoneAdded* a = out[0].mutable_milestone_added();
  a->set_contract_id(c.id);
  a->set_milestone_id(absl::StrCat(c.id, "-m", c.milestones.size() + 1));
  a->set_title(title);
  a->set_owner_id(m.owner);
  *a->mutable_due_time() = ToTimestamp(m.due);
  a->set_by(user);
  *a->mutable_add_time() = ToTimestamp(now);
  return out;
}

absl::StatusOr<std::vector<ContractEvent>> CompleteMilestone(
    const Contract& c, const std::string& milestone_id, const std::string& note,
    ev::FollowUpKind follow_up, int32_t follow_up_after_days, const std::string& user,
    const std::set<std::string>& roles, absl::Time now) {
  RETURN_IF_ERROR(MustExist(c));
  auto it = std::find_if(c.milestones.begin(), c.milestones.end(),
                         [&](const MilestoneState& m) { return m.id == milestone_id; });
  if (it == c.milestones.end()) {
    return absl::NotFoundError("milestone " + milestone_id + " of contract " + c.id +
                               " does not exist");
  }
  if (it->owner != user && !roles.count("admin")) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "NOT_MILESTONE_OWNER",
                           "milestone " + milestone_id + " is delivered by " + it->owner);
  }
  FieldViolations v;
  if (note.size() > kMaxText) v.Add("note", "must be at most 2000 bytes");
  if (!ev::FollowUpKind_IsValid(follow_up)) v.Add("follow_up", "is unknown");
  if (follow_up != ev::FOLLOW_UP_KIND_UNSPECIFIED &&
      (follow_up_after_days < 1 || follow_up_after_days > 365)) {
    v.Add("follow_up_after_days", "must be 1-365 with a follow-up");
  }
  RETURN_IF_ERROR(v.ToStatus());
  if (it->completed()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, "MILESTONE_DONE",
                           "milestone " + milestone_id + " is already completed");
  }
  std::vector<ContractEvent> out(1);
  ev::MilestoneCompleted* m = out[0].mutable_milestone_completed();
  m->set_contract_id(c.id);
  m->set_milestone_id(milestone_id);
  m->set_note(note);
  m->set_by(user);
  *m->mutable_complete_time() = ToTimestamp(now);
  if (follow_up != ev::FOLLOW_UP_KIND_UNSPECIFIED) {
    m->set_follow_up(follow_up);
    *m->mutable_follow_up_time() = ToTimestamp(now + absl::Hours(24) * follow_up_after_days);
  }
  return out;
}

std::vector<ContractEvent> DueNotices(const Contract& c, absl::Time now) {
  std::vector<ContractEvent> out;
  if (c.state != State::kActive && c.state != State::kCompleted) return out;
  for (const auto& i : c.installments) {
    if (i.open() <= 0 || i.due > now || c.overdue_noticed.count(i.id)) continue;
    ev::PaymentOverdue* o = out.emplace_back().mutable_payment_overdue();
    o->set_contract_id(c.id);
    o->set_customer_id(c.created.customer_id());
    o->set_owner_id(c.owner());
    o->set_installment_id(i.id);
    o->set_open(i.open());
    *o->mutable_due_time() = ToTimestamp(i.due);
    *o->mutable_notice_time() = ToTimestamp(now);
  }
  const absl::Time end = EndTime(c);
  if (c.state == State::kActive && !c.renewal_noticed && end - kRenewalNotice <= now) {
    ev::RenewalDue* r = out.emplace_back().mutable_renewal_due();
    r->set_contract_id(c.id);
    r->set_customer_id(c.created.customer_id());
    r->set_owner_id(c.owner());
    *r->mutable_end_time() = ToTimestamp(end);
    *r->mutable_notice_time() = ToTimestamp(now);
  }
  for (const auto& m : c.milestones) {
    if (m.follow_up_noticed || m.follow_up_at > now) continue;
    ev::FollowUpDue* f = out.emplace_back().mutable_follow_up_due();
    f->set_contract_id(c.id);
    f->set_customer_id(c.created.customer_id());
    f->set_owner_id(c.owner());
    f->set_milestone_id(m.id);
    f->set_kind(m.follow_up);
    *f->mutable_due_time() = ToTimestamp(m.follow_up_at);
    *f->mutable_notice_time() = ToTimestamp(now);
  }
  return out;
}

absl::Time NextNoticeTime(const Contract& c) {
  absl::Time next = absl::InfiniteFuture();
  if (c.state != State::kActive && c.state != State::kCompleted) return next;
  for (const auto& i : c.installments) {
    if (i.open() > 0 && !c.overdue_noticed.count(i.id)) next = std::min(next, i.due);
  }
  if (c.state == State::kActive && !c.renewal_noticed) {
    next = std::min(next, EndTime(c) - kRenewalNotice);
  }
  for (const auto& m : c.milestones) {
    if (!m.follow_up_noticed) next = std::min(next, m.follow_up_at);
  }
  return next;
}

Aging AgingOf(const std::vector<InstallmentState>& installments, absl::Time now) {
  Aging a;
  for (const auto& i : installments) {
    if (i.open() <= 0) continue;
    if (now < i.due) {
      a.not_due += i.open();
      continue;
    }
    const int64_t days = (now - i.due) / absl::Hours(24);
    (days <= 30   ? a.days_0_30
     : days <= 60 ? a.days_31_60
     : days <= 90 ? a.days_61_90
                  : a.over_90) += i.open();
  }
  return a;
}

}  // namespace crm::contract
