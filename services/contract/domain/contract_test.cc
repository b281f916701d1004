// Contract rules as given events / when command / then events or error.

#include "services/contract/domain/contract.h"

#include <set>

#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
absl::Duration Days(int d) { return absl::Hours(24 * d); }

ev::ContractLine Line(const std::string& product, int32_t qty, int64_t price, int32_t bp) {
  ev::ContractLine l;
  l.set_product_id(product);
  l.set_quantity(qty);
  l.set_list_price(price);
  l.set_discount_bp(bp);
  l.set_amount(1);  // ignored: amounts are computed
  return l;
}

ev::ContractTemplate Template() {
  ev::ContractTemplate t;
  t.set_template_id("std-saas");
  t.set_name("Standard SaaS");
  auto* l = t.add_lines();
  l->set_product_id("seat");
  l->set_list_price(120000);
  l->set_max_discount_bp(1000);
  t.set_payment_terms_days(30);
  t.set_duration_months(12);
  return t;
}

std::set<std::string> Fields(const absl::Status& s) {
  const google::rpc::BadRequest br = BadRequestOf(s);
  std::set<std::string> out;
  for (const auto& v : br.field_violations()) out.insert(v.field());
  return out;
}

Contract Apply(Contract c, const absl::StatusOr<std::vector<ContractEvent>>& events) {
  EXPECT_TRUE(events.ok()) << events.status();
  if (events.ok()) {
    for (const auto& e : *events) c = Evolve(std::move(c), e);
  }
  return c;
}

Create NewContract(const std::string& id, const std::string& opportunity,
                   const ev::ContractTerms& terms) {
  Create cmd;
  cmd.contract_id = id;
  cmd.customer_id = "c1";
  cmd.opportunity_id = opportunity;
  cmd.terms = terms;
  cmd.user = "rep-1";
  cmd.now = kT0;
  return cmd;
}

// A draft on standard terms: `seats` seats at the template price.
Contract Draft(int32_t seats, int32_t bp = 0, const std::string& template_id = "std-saas") {
  const ev::ContractTemplate t = Template();
  TermsInput in{{Line("seat", seats, 120000, bp)}, template_id, "", 30, 12};
  auto terms = MakeTerms(in, template_id.empty() ? nullptr : &t);
  EXPECT_TRUE(terms.ok()) << terms.status();
  auto e = Decide({}, NewContract("k1", "o1", *terms));
  EXPECT_TRUE(e.ok());
  return Evolve({}, *e);
}

Rules TestRules() {
  ev::ApprovalRules r;
  r.add_team_leads("tl");
  r.add_directors("dir");
  r.add_legal("law-1");
  r.add_legal("law-2");
  return Rules::From(r);
}

TEST(ContractTest, TermsComputeAmountsAndListEveryDeviationFromTheTemplate) {
  const ev::ContractTemplate t = Template();
  TermsInput in{
      {Line("seat", 3, 110000, 1500), Line("setup", 1, 500000, 0)}, "std-saas", "", 60, 12};
  auto terms = MakeTerms(in, &t);
  ASSERT_TRUE(terms.ok()) << terms.status();
  EXPECT_EQ(terms->lines(0).amount(), 280500);  // 3 x 1,100.00 less 15%
  EXPECT_EQ(terms->amount(), 780500);
  EXPECT_EQ(terms->max_discount_bp(), 1500);
  std::set<std::string> deviated;
  for (const auto& d : terms->deviations()) deviated.insert(d.field());
  EXPECT_EQ(deviated, (std::set<std::string>{"lines[0].list_price", "lines[0].discount_bp",
                                             "lines[1].product_id", "payment_terms_days"}));

  TermsInput bad{{Line("", 0, -1, 20000)}, "nope", "doc", -1, 0};
  EXPECT_EQ(Fields(MakeTerms(bad, nullptr).status()),
            (std::set<std::string>{"contract.template_id", "contract.document_ref",
                                   "contract.payment_terms_days", "contract.lines[0].product_id",
                                   "contract.lines[0].quantity", "contract.lines[0].list_price",
                                   "contract.lines[0].discount_bp", "contract.lines[0]"}));
}

TEST(ContractTest, ApprovalIsRoutedByAmountDiscountAndStandardness) {
  const Rules r = TestRules();
  // Small, standard: no step.
  EXPECT_TRUE(RouteApproval(Draft(10).terms, r).empty());
  // 50 seats = 60,000.00 is above the team lead's 50,000.00.
  auto medium = RouteApproval(Draft(50).terms, r);
  ASSERT_EQ(medium.size(), 1u);
  EXPECT_EQ(medium[0].role(), ev::APPROVER_ROLE_TEAM_LEAD);
  // A 15% discount on a small deal: the team lead too (and legal: it deviates).
  auto discounted = RouteApproval(Draft(10, 1500).terms, r);
  ASSERT_EQ(discounted.size(), 2u);
  EXPECT_EQ(discounted[0].role(), ev::APPROVER_ROLE_TEAM_LEAD);
  EXPECT_EQ(discounted[1].role(), ev::APPROVER_ROLE_LEGAL);
  // Large and non-standard: team lead, director, legal (all must sign).
  auto large = RouteApproval(Draft(200, 0, "").terms, r);
  ASSERT_EQ(large.size(), 3u);
  EXPECT_EQ(large[1].role(), ev::APPROVER_ROLE_DIRECTOR);
  EXPECT_EQ(large[2].role(), ev::APPROVER_ROLE_LEGAL);
  EXPECT_EQ(large[2].mode(), ev::STEP_MODE_ALL);
  EXPECT_EQ(large[2].approvers_size(), 2);
}

TEST(ContractTest, StepsAreApprovedInOrderAndLegalNeedsEverySignature) {
  Contract c = Draft(200, 0, "");
  c = Apply(c, Submit(c, TestRules(), "rep-1", kT0));
  EXPECT_EQ(c.state, State::kInApproval);
  EXPECT_EQ(Approve(c, "dir", {}, "", kT0).status().code(), absl::StatusCode::kPermissionDenied)
      << "the director's step is not yet current";
  c = Apply(c, Approve(c, "tl", {}, "ok", kT0));
  EXPECT_EQ(c.current_step, 1);
  c = Apply(c, Approve(c, "dir", {}, "ok", kT0));
  c = Apply(c, Approve(c, "law-1", {}, "ok", kT0));
  EXPECT_EQ(c.state, State::kInApproval) << "one lawyer of two";
  EXPECT_EQ(ErrorReason(Approve(c, "law-1", {}, "", kT0).status()), "ALREADY_APPROVED");
  auto last = Approve(c, "law-2", {}, "ok", kT0);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 2u);
  EXPECT_TRUE((*last)[1].has_approved());
  c = Apply(c, last);
  EXPECT_EQ(c.state, State::kApproved);

  // Without listed approvers, the caller's role decides.
  Contract d = Draft(50);
  d = Apply(d, Submit(d, Rules::From({}), "rep-1", kT0));
  EXPECT_EQ(Approve(d, "someone", {"director"}, "", kT0).status().code(),
            absl::StatusCode::kPermissionDenied);
  d = Apply(d, Approve(d, "someone", {"team-lead"}, "", kT0));
  EXPECT_EQ(d.state, State::kApproved);
}

TEST(ContractTest, ARejectionReturnsToDraftAndAChangeRestartsApproval) {
  Contract c = Draft(50);
  c = Apply(c, Submit(c, TestRules(), "rep-1", kT0));
  EXPECT_EQ(Fields(Reject(c, "tl", {}, "", kT0).status()), std::set<std::string>{"comment"});
  c = Apply(c, Reject(c, "tl", {}, "price too low for this volume", kT0));
  EXPECT_EQ(c.state, State::kDraft);
  EXPECT_EQ(ErrorReason(SendForConfirmation(c, "rep-1", kT0).status()), "CONTRACT_STATE");

  // Resubmitted: a new round from the first step.
  c = Apply(c, Submit(c, TestRules(), "rep-1", kT0));
  EXPECT_EQ(c.round, 2);
  c = Apply(c, Approve(c, "tl", {}, "", kT0));
  EXPECT_EQ(c.state, State::kApproved);
  // Changed after approval: back to draft; smaller now, no step needed.
  const ev::ContractTemplate t = Template();
  auto smaller = MakeTerms({{Line("seat", 10, 120000, 0)}, "std-saas", "", 30, 12}, &t);
  c = Apply(c, Change(c, *smaller, "rep-1", kT0));
  EXPECT_EQ(c.state, State::kDraft);
  c = Apply(c, Submit(c, TestRules(), "rep-1", kT0));
  EXPECT_EQ(c.state, State::kApproved);
}

TEST(ContractTest, TheFlowRefusesIllegalTransitionsNamingTheState) {
  Contract c = Draft(10);
  auto early = Confirm(c, "rep-1", kT0);
  EXPECT_EQ(ErrorReason(early.status()), "CONTRACT_STATE");
  EXPECT_NE(early.status().message().find("a draft"), absl::string_view::npos);
  c = Apply(c, Submit(c, TestRules(), "rep-1", kT0));
  EXPECT_EQ(ErrorReason(Submit(c, TestRules(), "rep-1", kT0).status()), "CONTRACT_STATE");
  EXPECT_EQ(ErrorReason(SendForConfirmation(c, "rep-2", kT0).status()), "NOT_CONTRACT_OWNER");
  c = Apply(c, SendForConfirmation(c, "rep-1", kT0));
  auto signed_events = Confirm(c, "rep-1", kT0 + Days(2));
  ASSERT_TRUE(signed_events.ok());
  EXPECT_EQ((*signed_events)[0].contract_signed().amount(), 12000);  // whole units
  c = Apply(c, signed_events);
  EXPECT_EQ(c.state, State::kActive);
  EXPECT_EQ(ErrorReason(Change(c, c.terms, "rep-1", kT0).status()), "CONTRACT_STATE");
  EXPECT_EQ(Fields(End(c, ev::END_REASON_TERMINATED, "", "rep-1", kT0).status()),
            std::set<std::string>{"note"});
  c = Apply(c, End(c, ev::END_REASON_COMPLETED, "", "rep-1", kT0));
  EXPECT_EQ(c.state, State::kCompleted);
  EXPECT_EQ(ErrorReason(End(c, ev::END_REASON_COMPLETED, "", "rep-1", kT0).status()),
            "CONTRACT_STATE");
}

Contract Active(int32_t seats) {
  Contract c = Draft(seats);
  c = Apply(c, Submit(c, Rules::From({}), "rep-1", kT0));
  c = Apply(c, SendForConfirmation(c, "rep-1", kT0));
  return Apply(c, Confirm(c, "rep-1", kT0));
}

TEST(ContractTest, ReceiptsReconcileOldestFirstWithPartialOverAndEarlyPayments) {
  Contract c = Active(10);  // 1,200,000
  EXPECT_EQ(Fields(SetPaymentPlan(c, {{500000, kT0 + Days(30)}}, "rep-1", kT0).status()),
            std::set<std::string>{"installments"});
  c = Apply(c,
            SetPaymentPlan(
                c, {{400000, kT0 + Days(30)}, {400000, kT0 + Days(60)}, {400000, kT0 + Days(90)}},
                "rep-1", kT0));
  // Partial, late: 250,000 of the first, 10 days after it was due.
  auto partial = ReceivePayment(c, "r1", 250000, kT0 + Days(40), "finance");
  ASSERT_TRUE(partial.ok());
  ASSERT_EQ((*partial)[0].payment_received().allocations_size(), 1);
  c = Apply(c, partial);
  EXPECT_EQ(c.installments[0].open(), 150000);
  // More than the next one: 150,000 closes the first, 400,000 the second,
  // 50,000 goes to the third.
  c = Apply(c, ReceivePayment(c, "r2", 600000, kT0 + Days(45), "finance"));
  EXPECT_EQ(c.installments[0].open(), 0);
  EXPECT_EQ(c.installments[1].open(), 0);
  EXPECT_EQ(c.installments[2].open(), 350000);
  EXPECT_EQ(c.credit, 0);
  // Early and over: the rest and 50,000 more, before the last is due.
  auto over = ReceivePayment(c, "r3", 400000, kT0 + Days(70), "finance");
  EXPECT_EQ((*over)[0].payment_received().credit(), 50000);
  c = Apply(c, over);
  EXPECT_EQ(AgingOf(c, kT0 + Days(200)).total(), 0);
  EXPECT_EQ(ErrorReason(SetPaymentPlan(c, {{1200000, kT0}}, "rep-1", kT0).status()),
            "PAYMENTS_RECEIVED");
}

TEST(ContractTest, AgingBucketsTheOpenAmountsByDaysOverdue) {
  Contract c = Active(10);
  c = Apply(c, SetPaymentPlan(c,
                              {{300000, kT0 + Days(10)},
                               {300000, kT0 + Days(50)},
                               {300000, kT0 + Days(80)},
                               {300000, kT0 + Days(200)}},
                              "rep-1", kT0));
  c = Apply(c, ReceivePayment(c, "r1", 100000, kT0 + Days(20), "finance"));
  const Aging a = AgingOf(c, kT0 + Days(130));
  // 200,000 open of the first: 120 days late; the second 80; the third 50.
  EXPECT_EQ(a.over_90, 200000);
  EXPECT_EQ(a.days_61_90, 300000);
  EXPECT_EQ(a.days_31_60, 300000);
  EXPECT_EQ(a.days_0_30, 0);
  EXPECT_EQ(a.not_due, 300000);
  EXPECT_EQ(AgingOf(c, kT0 + Days(10)).days_0_30, 200000) << "due today: 0 days late";
}

// An active contract signed at kT0 for 12 months with a plan of two
// installments due on days 30 and 60.
Contract Signed() {
  Contract c = Draft(10);
  c = Apply(c, Submit(c, TestRules(), "rep-1", kT0));
  c = Apply(c, SendForConfirmation(c, "rep-1", kT0));
  c = Apply(c, Confirm(c, "rep-1", kT0));
  return Apply(
      c, SetPaymentPlan(c, {{600000, kT0 + Days(30)}, {600000, kT0 + Days(60)}}, "rep-1", kT0));
}

TEST(ContractTest, TheTermEndsByCalendarMonthsFromSigning) {
  Contract c = Signed();
  // Signed at kT0, 2027-01-15 08:00 UTC, for 12 months.
  EXPECT_EQ(EndTime(c),
            absl::FromCivil(absl::CivilSecond(2028, 1, 15, 8, 0, 0), absl::UTCTimeZone()));
  Contract draft = Draft(1);
  EXPECT_EQ(EndTime(draft), absl::InfiniteFuture());
  c.terms.set_duration_months(1);
  c.sign_time = absl::FromCivil(absl::CivilSecond(2027, 1, 31, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(EndTime(c), absl::FromCivil(absl::CivilSecond(2027, 2, 28, 0, 0, 0),
                                        absl::UTCTimeZone()));  // clamped to February
}

TEST(ContractTest, MilestonesAreAddedOnSignedContractsAndCompletedOnceByTheirOwner) {
  Contract draft = Draft(1);
  EXPECT_EQ(
      ErrorReason(
          AddMilestone(draft, {"Kick-off", "cs-1", kT0 + Days(7)}, "rep-1", {}, kT0).status()),
      "CONTRACT_STATE");
  Contract c = Signed();
  auto bad = AddMilestone(c, {"", "", absl::InfinitePast()}, "rep-1", {}, kT0);
  EXPECT_EQ(Fields(bad.status()),
            (std::set<std::string>{"milestone.title", "milestone.owner_id", "milestone.due_time"}));
  EXPECT_EQ(ErrorReason(AddMilestone(c, {"Kick-off", "cs-1", kT0}, "rep-2", {}, kT0).status()),
            "NOT_CONTRACT_OWNER");
  c = Apply(c, AddMilestone(c, {"Kick-off", "cs-1", kT0 + Days(7)}, "rep-1", {}, kT0));
  c = Apply(c, AddMilestone(c, {"Training", "cs-2", kT0 + Days(20)}, "cs-lead", {"service"}, kT0));
  ASSERT_EQ(c.milestones.size(), 2u);
  const std::string id = c.milestones[0].id;

  EXPECT_EQ(
      ErrorReason(CompleteMilestone(c, id, "", ev::FOLLOW_UP_KIND_UNSPECIFIED, 0, "cs-2", {}, kT0)
                      .status()),
      "NOT_MILESTONE_OWNER");
  EXPECT_EQ(
      Fields(CompleteMilestone(c, id, "", ev::FOLLOW_UP_KIND_REVISIT, 0, "cs-1", {}, kT0).status()),
      std::set<std::string>{"follow_up_after_days"});
  EXPECT_EQ(CompleteMilestone(c, "nope", "", ev::FOLLOW_UP_KIND_UNSPECIFIED, 0, "cs-1", {}, kT0)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  c = Apply(c, CompleteMilestone(c, id, "went live", ev::FOLLOW_UP_KIND_CROSS_SELL, 30, "cs-1", {},
                                 kT0 + Days(5)));
  EXPECT_TRUE(c.milestones[0].completed());
  EXPECT_EQ(c.milestones[0].follow_up_at, kT0 + Days(35));
  EXPECT_EQ(ErrorReason(CompleteMilestone(c, id, "", ev::FOLLOW_UP_KIND_UNSPECIFIED, 0, "cs-1", {},
                                          kT0 + Days(6))
                            .status()),
            "MILESTONE_DONE");
}

TEST(ContractTest, NoticesFallDueOnceEachAtTheirTime) {
  Contract c = Signed();
  c = Apply(c, AddMilestone(c, {"Kick-off", "cs-1", kT0 + Days(7)}, "rep-1", {}, kT0));
  c = Apply(c, CompleteMilestone(c, c.milestones[0].id, "", ev::FOLLOW_UP_KIND_REVISIT, 40, "cs-1",
                                 {}, kT0 + Days(2)));
  EXPECT_EQ(NextNoticeTime(c), kT0 + Days(30));
  EXPECT_TRUE(DueNotices(c, kT0 + Days(30) - absl::Seconds(1)).empty());

  // Day 30: the first installment is due and unpaid.
  auto due = DueNotices(c, kT0 + Days(30));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].payment_overdue().installment_id(), c.installments[0].id);
  EXPECT_EQ(due[0].payment_overdue().open(), 600000);
  c = Apply(c, due);
  EXPECT_TRUE(DueNotices(c, kT0 + Days(30)).empty());  // given once
  EXPECT_EQ(NextNoticeTime(c), kT0 + Days(42));        // the revisit

  // The second installment is paid on time: no notice for it.
  c = Apply(c, ReceivePayment(c, "r1", 1200000, kT0 + Days(41), "finance"));
  due = DueNotices(c, kT0 + Days(42));
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].follow_up_due().kind(), ev::FOLLOW_UP_KIND_REVISIT);
  c = Apply(c, due);

  // 60 days before the end of the 12-month term: the renewal notice.
  const absl::Time renew = EndTime(c) - Days(60);
  EXPECT_EQ(NextNoticeTime(c), renew);
  due = DueNotices(c, renew);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(due[0].has_renewal_due());
  c = Apply(c, due);
  EXPECT_EQ(NextNoticeTime(c), absl::InfiniteFuture());
}

TEST(ContractTest, ARenewalNamesASignedContractOfTheSameCustomer) {
  const Contract old = Signed();
  Contract draft = Draft(1);
  auto terms = MakeTerms({{Line("seat", 1, 120000, 0)}, "", "dms://r.pdf", 30, 12}, nullptr);
  ASSERT_TRUE(terms.ok());
  Create cmd = NewContract("k2", "", *terms);
  cmd.renewal_of = old.id;
  cmd.renewed = &old;
  auto e = Decide({}, cmd);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->created().renewal_of(), old.id);
  cmd.customer_id = "c2";
  EXPECT_EQ(ErrorReason(Decide({}, cmd).status()), "RENEWAL_MISMATCH");
  cmd.customer_id = "c1";
  cmd.renewed = &draft;
  EXPECT_EQ(ErrorReason(Decide({}, cmd).status()), "RENEWAL_MISMATCH");
}

}  // namespace
}  // namespace crm::contract
