#ifndef CRM_SERVICES_CONTRACT_DOMAIN_CONTRACT_H_
#define CRM_SERVICES_CONTRACT_DOMAIN_CONTRACT_H_

// The contract aggregate: pure decisions and state changes, no I/O.
//
// draft → in approval → approved → sent for confirmation → active (signed)
// → completed / terminated. Every transition is a command; an illegal one is
// FAILED_PRECONDITION with reason CONTRACT_STATE naming the state. A change
// of terms before signing returns the contract to draft and approval starts
// again; a rejection returns it to draft. Payments: a plan of installments
// summing to the amount; receipts are allocated to the oldest open
// installments first, the rest kept as credit.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/contract/events/v1/contract_events.pb.h"

namespace crm::contract {

namespace ev = crm::contract::events::v1;
using ContractEvent = ev::ContractEvent;

enum class State { kNone, kDraft, kInApproval, kApproved, kSent, kActive, kCompleted, kTerminated };
const char* StateName(State s);

struct InstallmentState {
  std::string id;
  int64_t amount = 0;
  absl::Time due;
  int64_t paid = 0;
  absl::Time paid_in_full = absl::InfiniteFuture();  // when the last of it arrived
  int64_t open() const { return amount - paid; }
};

struct MilestoneState {
  std::string id;
  std::string title;
  std::string owner;
  absl::Time due;
  absl::Time done = absl::InfinitePast();  // InfinitePast: open
  std::string note;
  ev::FollowUpKind follow_up = ev::FOLLOW_UP_KIND_UNSPECIFIED;
  absl::Time follow_up_at = absl::InfiniteFuture();
  bool follow_up_noticed = false;
  bool completed() const { return done != absl::InfinitePast(); }
};

struct Contract {
  std::string id;
  int64_t version = 0;
  State state = State::kNone;
  ev::ContractCreated created;
  ev::ContractTerms terms;
  int32_t round = 0;
  std::vector<ev::ApprovalStep> steps;
  int current_step = 0;
  std::set<std::string> approved_in_step;
  absl::Time sign_time = absl::InfinitePast();
  std::vector<InstallmentState> installments;
  int64_t credit = 0;
  std::vector<MilestoneState> milestones;
  std::set<std::string> overdue_noticed;  // installment ids
  bool renewal_noticed = false;
  bool exists() const { return version > 0; }
  const std::string& owner() const { return created.owner_id(); }
};

Contract Evolve(Contract c, const ContractEvent& event);

// The end of a signed contract's term: the sign time plus its duration in
// calendar months (UTC; the day clamped to the month's last). InfiniteFuture
// when unsigned or without a duration.
absl::Time EndTime(const Contract& c);
inline constexpr absl::Duration kRenewalNotice = absl::Hours(24 * 60);

// The tenant's approval thresholds with the defaults filled in.
struct Rules {
  int64_t team_lead_above_amount = 5'000'000;
  int32_t team_lead_above_discount_bp = 1000;
  int64_t director_above_amount = 20'000'000;
  int32_t director_above_discount_bp = 2000;
  std::vector<std::string> team_leads, directors, legal;
  static Rules From(const ev::ApprovalRules& r);
};
absl::Status ValidateRules(const ev::ApprovalRules& r);
absl::Status ValidateTemplate(const ev::ContractTemplate& t);

struct TermsInput {
  std::vector<ev::ContractLine> lines;  // amounts are computed
  std::string template_id;
  std::string document_ref;
  int32_t payment_terms_days = 0;
  int32_t duration_months = 0;
};

// Validated terms with line amounts, total, largest discount and, for a
// standard contract, every deviation from `tmpl` (its prices, discount
// limits, products, payment terms and duration). INVALID_ARGUMENT names
// every bad field as `contract.<field>`; a template id that names no
// template is one.
absl::StatusOr<ev::ContractTerms> MakeTerms(const TermsInput& in, const ev::ContractTemplate* tmpl);

// The approval steps the rules ask for, in order: a team lead above the
// team-lead amount or discount, a director above the director's, legal for
// a non-standard contract or one that deviates from its template.
std::vector<ev::ApprovalStep> RouteApproval(const ev::ContractTerms& terms, const Rules& rules);

struct Create {
  std::string contract_id;
  std::string customer_id;
  std::string owner_id;
  std::string opportunity_id;
  ev::ContractTerms terms;
  std::string user;
  absl::Time now;
  // A renewal names the signed contract of the same customer it renews
  // (loaded into `renewed`): RENEWAL_MISMATCH otherwise.
  std::string renewal_of;
  const Contract* renewed = nullptr;
};
absl::StatusOr<ContractEvent> Decide(const Contract& c, const Create& cmd);

// Before signing, by the owner; back to draft.
absl::StatusOr<std::vector<ContractEvent>> Change(const Contract& c, ev::ContractTerms terms,
                                                  const std::string& user, absl::Time now);
// The owner submits a draft: the routed steps, approved at once when none.
absl::StatusOr<std::vector<ContractEvent>> Submit(const Contract& c, const Rules& rules,
                                                  const std::string& user, absl::Time now);
// `approver` (holding `roles`) acts on the current step: PERMISSION_DENIED
// when the step is not theirs, ALREADY_APPROVED when they approved it.
absl::StatusOr<std::vector<ContractEvent>> Approve(const Contract& c, const std::string& approver,
                                                   const std::set<std::string>& roles,
                                                   const std::string& comment, absl::Time now);
absl::StatusOr<std::vector<ContractEvent>> Reject(const Contract& c, const std::string& approver,
                                                  const std::set<std::string>& roles,
                                                  const std::string& comment, absl::Time now);
absl::StatusOr<std::vector<ContractEvent>> SendForConfirmation(const Contract& c,
                                                               const std::string& user,
                                                               absl::Time now);
// The customer confirmed: ContractSigned, the contract is active.
absl::StatusOr<std::vector<ContractEvent>> Confirm(const Contract& c, const std::string& user,
                                                   absl::Time now);
absl::StatusOr<std::vector<ContractEvent>> End(const Contract& c, ev::EndReason reason,
                                               const std::string& note, const std::string& user,
                                               absl::Time now);

struct PlannedInstallment {
  int64_t amount = 0;
  absl::Time due;
};
// Before any payment arrived: installments in due order summing to the
// amount (PAYMENTS_RECEIVED once money came in).
absl::StatusOr<std::vector<ContractEvent>> SetPaymentPlan(
    const Contract& c, const std::vector<PlannedInstallment>& plan, const std::string& user,
    absl::Time now);
// An active contract with a plan receives money.
absl::StatusOr<std::vector<ContractEvent>> ReceivePayment(const Contract& c,
                                                          const std::string& receipt_id,
                                                          int64_t amount, absl::Time received,
                                                          const std::string& user);

// A service milestone on a signed (active or completed) contract: by its rep,
// an admin or a holder of the `service` role. INVALID_ARGUMENT names
// `milestone.title` (1-200 characters), `milestone.owner_id` and
// `milestone.due_time`; at most 100 milestones.
struct NewMilestone {
  std::string title;
  std::string owner;
  absl::Time due = absl::InfinitePast();
};
absl::StatusOr<std::vector<ContractEvent>> AddMilestone(const Contract& c, const NewMilestone& m,
                                                        const std::string& user,
                                                        const std::set<std::string>& roles,
                                                        absl::Time now);
// By the milestone's owner or an admin, once (MILESTONE_DONE after). With a
// follow-up kind, `follow_up_after_days` (1-365) sets when the rep is asked
// to revisit or cross-sell.
absl::StatusOr<std::vector<ContractEvent>> CompleteMilestone(
    const Contract& c, const std::string& milestone_id, const std::string& note,
    ev::FollowUpKind follow_up, int32_t follow_up_after_days, const std::string& user,
    const std::set<std::string>& roles, absl::Time now);

// The notices due at `now` and not yet given: PaymentOverdue for each
// installment past due with money open, RenewalDue 60 days before the end of
// an active contract, FollowUpDue when a completed milestone's follow-up
// time came. Each is given once.
std::vector<ContractEvent> DueNotices(const Contract& c, absl::Time now);
// When the next notice falls due; InfiniteFuture when none is pending.
absl::Time NextNoticeTime(const Contract& c);

// Aging of what is open on a contract at `now`: not yet due, and overdue by
// 0-30, 31-60, 61-90 and more than 90 days.
struct Aging {
  int64_t not_due = 0;
  int64_t days_0_30 = 0;
  int64_t days_31_60 = 0;
  int64_t days_61_90 = 0;
  int64_t over_90 = 0;
  int64_t total() const { return not_due + days_0_30 + days_31_60 + days_61_90 + over_90; }
};
Aging AgingOf(const std::vector<InstallmentState>& installments, absl::Time now);
inline Aging AgingOf(const Contract& c, absl::Time now) { return AgingOf(c.installments, now); }

}  // namespace crm::contract

#endif  // CRM_SERVICES_CONTRACT_DOMAIN_CONTRACT_H_
