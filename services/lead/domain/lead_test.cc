// Lead rules as given events / when command / then events or error.

#include "services/lead/domain/lead.h"

#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::lead {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

CreateLead ValidCommand() {
  CreateLead c;
  c.lead_id = "l1";
  c.channel_id = "web-form";
  c.company_name = "  ACME, Inc. ";
  c.contact_name = "Ann Lee";
  c.email = "Ann.Lee@Acme.COM";
  c.phone = "+49 (30) 123-4567";
  c.legal_entity_id = " de123 ";
  c.industry = "Manufacturing";
  c.region = "Berlin";
  c.user = "rep-1";
  c.now = kT0;
  return c;
}

// The lead after `events`, applied in order.
Lead Given(const std::vector<LeadEvent>& events, Lead lead = {}) {
  for (const auto& e : events) lead = Evolve(std::move(lead), e);
  return lead;
}

Lead Apply(Lead lead, const absl::StatusOr<Decision>& d) {
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? Given(d->lead, std::move(lead)) : lead;
}

RepLoad ApplyLoad(RepLoad load, const Decision& d) {
  auto it = d.reps.find(load.rep);
  if (it != d.reps.end()) {
    for (const auto& e : it->second) load = Evolve(std::move(load), e);
  }
  return load;
}

RepLoad Rep(const std::string& rep) {
  RepLoad load;
  load.rep = rep;
  return load;
}

// The fields a status's BadRequest names.
std::set<std::string> Fields(const absl::Status& status) {
  const google::rpc::BadRequest br = BadRequestOf(status);
  std::set<std::string> fields;
  for (const auto& v : br.field_violations()) fields.insert(v.field());
  return fields;
}

Lead Queued(const LeadPolicy& policy = {}) {
  auto cleaned = Clean(ValidCommand(), policy);
  EXPECT_TRUE(cleaned.ok()) << cleaned.status();
  return Apply({}, Decide(Lead{}, *cleaned, std::nullopt, {}));
}

Lead Claimed(const std::string& rep = "rep-1", const LeadPolicy& policy = {}) {
  RepLoad load = Rep(rep);
  return Apply(Queued(policy), Claim(Queued(policy), load, kT0, policy));
}

// given no events, when CreateLead, then LeadCreated with normalised fields.
TEST(LeadTest, CreateNormalisesInputAndScores) {
  auto cleaned = Clean(ValidCommand(), LeadPolicy{});
  ASSERT_TRUE(cleaned.ok()) << cleaned.status();
  EXPECT_EQ(cleaned->company_name(), "ACME, Inc.");
  EXPECT_EQ(cleaned->normalized_company_name(), "acme");
  EXPECT_EQ(cleaned->email(), "ann.lee@acme.com");
  EXPECT_EQ(cleaned->phone(), "+49301234567");
  EXPECT_EQ(cleaned->legal_entity_id(), "DE123");
  // email 3 + phone 3 + legal entity 2 + industry 1 + region 1.
  EXPECT_EQ(cleaned->score(), 10);
  EXPECT_EQ(cleaned->grade(), ev::GRADE_D);

  auto d = Decide(Lead{}, *cleaned, std::nullopt, {});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->lead.size(), 1u);
  Lead lead = Given(d->lead);
  EXPECT_EQ(lead.version, 1);
  EXPECT_EQ(lead.state, LeadState::kQueued);
  EXPECT_EQ(lead.id, "l1");
  EXPECT_EQ(Decide(lead, *cleaned, std::nullopt, {}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(LeadTest, CreateRefusesEveryBadFieldByName) {
  CreateLead c = ValidCommand();
  c.channel_id = "bad channel!";
  c.company_name = "";
  c.contact_name = "";
  c.email = "not-an-email";
  c.phone = "12";
  c.qualification.set_purchase_within_days(-3);
  auto s = Clean(c, LeadPolicy{}).status();
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fields(s),
            (std::set<std::string>{"lead.channel_id", "lead.company_name", "lead.email",
                                   "lead.phone", "lead.qualification.purchase_within_days"}));
}

TEST(LeadTest, QualificationFactsRaiseTheGrade) {
  ev::Qualification q;
  q.set_budget_confirmed(true);
  q.set_decision_maker(true);
  q.set_need("replace spreadsheets");
  q.set_purchase_within_days(20);
  Lead lead = Queued();
  auto d = Qualify(lead, q, "rep-2", kT0, LeadPolicy{});
  ASSERT_TRUE(d.ok()) << d.status();
  // 20 + 15 + 10 + 15 + the 10 contact points.
  EXPECT_EQ(d->lead[0].qualified().score(), 70);
  EXPECT_EQ(d->lead[0].qualified().grade(), ev::GRADE_A);
  LeadPolicy strict;
  strict.grade_a_min = 90;
  strict.grade_b_min = 60;
  EXPECT_EQ(Qualify(lead, q, "rep-2", kT0, strict)->lead[0].qualified().grade(), ev::GRADE_B);
}

TEST(LeadTest, EngagementAddsPointsUpToTheCapAndInterestTagsByRule) {
  LeadPolicy policy;
  policy.engagement_cap = 8;
  Lead lead = Queued(policy);
  RecordEngagement view{"e1", ev::ENGAGEMENT_KIND_CONTENT_VIEWED, "pricing-page", {"Pricing"}, 95,
                        kT0};
  auto d1 = Engage(lead, view, policy);
  ASSERT_TRUE(d1.ok()) << d1.status();
  // 1 + 3 per 30 s.
  EXPECT_EQ(d1->lead[0].engaged().points(), 4);
  EXPECT_EQ(d1->lead[0].engaged().score(), 14);
  EXPECT_TRUE(d1->lead[0].engaged().tags_added().empty()) << "one view, 95 s: not yet";
  lead = Apply(lead, d1);

  // The second view of the topic reaches the rule: the tag is added once.
  view.engagement_id = "e2";
  view.seconds = 10;
  auto d2 = Engage(lead, view, policy);
  ASSERT_EQ(d2->lead[0].engaged().tags_added_size(), 1);
  EXPECT_EQ(d2->lead[0].engaged().tags_added(0), "interest:pricing");
  lead = Apply(lead, d2);
  EXPECT_EQ(lead.tags, std::vector<std::string>{"interest:pricing"});
  view.engagement_id = "e3";
  EXPECT_TRUE(Engage(lead, view, policy)->lead[0].engaged().tags_added().empty());

  // The cap: 4 + 1 + a form's 10 stops at 8.
  RecordEngagement form{"e4", ev::ENGAGEMENT_KIND_FORM_SUBMITTED, "demo-request", {}, 0, kT0};
  auto d4 = Engage(lead, form, policy);
  EXPECT_EQ(d4->lead[0].engaged().points(), 3);
  lead = Apply(lead, d4);
  EXPECT_EQ(lead.engagement_points, 8);
  EXPECT_EQ(Engage(lead, form, policy)->lead[0].engaged().points(), 0);

  RecordEngagement bad{"e5", ev::ENGAGEMENT_KIND_UNSPECIFIED, "", {"no spaces allowed"}, -1, kT0};
  auto s = Engage(lead, bad, policy).status();
  EXPECT_EQ(Fields(s), (std::set<std::string>{"kind", "seconds", "topics"}));
}

TEST(LeadTest, ClaimTakesAQueuedLeadOnceAndRespectsCapacity) {
  LeadPolicy policy;
  policy.rep_capacity = 1;
  Lead lead = Queued(policy);
  RepLoad rep1 = Rep("rep-1");
  auto d = Claim(lead, rep1, kT0, policy);
  ASSERT_TRUE(d.ok()) << d.status();
  const ev::LeadAssigned& a = d->lead[0].assigned();
  EXPECT_EQ(a.owner_id(), "rep-1");
  EXPECT_EQ(a.method(), ev::ASSIGN_METHOD_CLAIM);
  EXPECT_EQ(a.work_deadline().seconds(), absl::ToUnixSeconds(kT0 + absl::Hours(48)));
  ASSERT_EQ(d->reps.at("rep-1").size(), 1u);
  rep1 = ApplyLoad(rep1, *d);
  EXPECT_EQ(rep1.open.size(), 1u);
  Lead taken = Apply(lead, d);
  EXPECT_EQ(taken.state, LeadState::kAssigned);

  // A second claim on the same lead: the first one won.
  auto again = Claim(taken, Rep("rep-2"), kT0, policy);
  EXPECT_EQ(ErrorReason(again.status()), "LEAD_NOT_IN_QUEUE");
  // rep-1 at capacity cannot take another lead.
  Lead other = Queued(policy);
  other.id = "l2";
  EXPECT_EQ(ErrorReason(Claim(other, rep1, kT0, policy).status()), "LEAD_CAPACITY_REACHED");
}

TEST(LeadTest, RoundRobinIsFairAndSkipsRepsAtCapacity) {
  ev::Team team;
  team.set_team_id("east");
  for (const char* rep : {"a", "b", "c"}) team.add_members()->set_rep_id(rep);
  std::map<std::string, RepLoad> loads;
  TeamTurns turns;
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    auto rep = PickAssignee(Queued(), team, turns, loads, ev::ASSIGN_STRATEGY_ROUND_ROBIN, 30, "");
    ASSERT_TRUE(rep);
    order.push_back(*rep);
    turns.last_rep = *rep;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
  // b is full: a, c, a, c.
  loads["b"].open = {"x"};
  turns = {};
  order.clear();
  for (int i = 0; i < 4; ++i) {
    auto rep = PickAssignee(Queued(), team, turns, loads, ev::ASSIGN_STRATEGY_ROUND_ROBIN, 1, "");
    ASSERT_TRUE(rep);
    order.push_back(*rep);
    turns.last_rep = *rep;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c", "a", "c"}));
  // Everyone full: nobody.
  loads["a"].open = loads["c"].open = {"y"};
  EXPECT_FALSE(PickAssignee(Queued(), team, turns, loads, ev::ASSIGN_STRATEGY_ROUND_ROBIN, 1, ""));
}

TEST(LeadTest, RepsWithLeadPriorityAreServedFirstUntilTheyAreFull) {
  ev::Team team;
  team.set_team_id("east");
  for (const char* rep : {"a", "b", "c"}) team.add_members()->set_rep_id(rep);
  std::map<std::string, RepLoad> loads;
  TeamTurns turns;
  const std::set<std::string> priority = {"c"};
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto rep = PickAssignee(Queued(), team, turns, loads, ev::ASSIGN_STRATEGY_ROUND_ROBIN, 2, "",
                            priority);
    ASSERT_TRUE(rep);
    order.push_back(*rep);
    loads[*rep].open.insert(absl::StrCat("lead-", i));
    turns.last_rep = *rep;
  }
  // c takes leads until its capacity of 2; then the round robin goes on.
  EXPECT_EQ(order, (std::vector<std::string>{"c", "c", "a", "b"}));
}

TEST(LeadTest, TerritoryAndGradeStrategiesPickMatchingReps) {
  ev::Team team;
  team.set_team_id("field");
  ev::TeamMember* north = team.add_members();
  north->set_rep_id("north");
  north->add_regions("Hamburg");
  ev::TeamMember* east = team.add_members();
  east->set_rep_id("east");
  east->add_regions("berlin");
  east->add_grades(ev::GRADE_A);
  ev::TeamMember* all = team.add_members();
  all->set_rep_id("junior");
  all->add_grades(ev::GRADE_C);
  all->add_grades(ev::GRADE_D);
  Lead lead = Queued();  // region Berlin, grade D
  EXPECT_EQ(PickAssignee(lead, team, {}, {}, ev::ASSIGN_STRATEGY_TERRITORY, 30, ""), "east");
  EXPECT_EQ(PickAssignee(lead, team, {}, {}, ev::ASSIGN_STRATEGY_GRADE, 30, ""), "north")
      << "no grades listed: takes every grade";
  EXPECT_EQ(PickAssignee(lead, team, {}, {}, ev::ASSIGN_STRATEGY_GRADE, 30, "north"), "junior");
  lead.profile.set_region("Munich");
  EXPECT_FALSE(PickAssignee(lead, team, {}, {}, ev::ASSIGN_STRATEGY_TERRITORY, 30, ""));

  auto d = Assign(Queued(), Rep("east"), team, ev::ASSIGN_STRATEGY_TERRITORY, "system", kT0,
                  LeadPolicy{});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->lead[0].assigned().method(), ev::ASSIGN_METHOD_TERRITORY);
  EXPECT_EQ(d->lead[0].assigned().team_id(), "field");
  ASSERT_EQ(d->team.size(), 1u);
  EXPECT_EQ(d->team[0].turn().rep_id(), "east");
}

TEST(LeadTest, UnworkedLeadReturnsAtItsDeadlineNotBefore) {
  Lead lead = Claimed();
  auto early = Return(lead, ev::RETURN_REASON_NOT_WORKED, "system", kT0 + absl::Hours(47));
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->lead.empty());
  auto due = Return(lead, ev::RETURN_REASON_NOT_WORKED, "system", kT0 + absl::Hours(48));
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->lead.size(), 1u);
  EXPECT_EQ(due->lead[0].returned().previous_owner_id(), "rep-1");
  EXPECT_EQ(due->reps.at("rep-1")[0].let_go().lead_id(), "l1");
  Lead back = Apply(lead, due);
  EXPECT_EQ(back.state, LeadState::kQueued);
  EXPECT_TRUE(back.owner.empty());

  // A worked lead stays with its owner.
  FollowUp f{"f1", "called, wants a demo", "demo", kT0 + absl::Hours(72), "rep-1", kT0};
  Lead worked = Apply(lead, RecordFollowUp(lead, f));
  EXPECT_EQ(worked.state, LeadState::kWorking);
  EXPECT_TRUE(
      Return(worked, ev::RETURN_REASON_NOT_WORKED, "system", kT0 + absl::Hours(100))->lead.empty());
}

TEST(LeadTest, OnlyTheOwnerWorksAnAssignedLead) {
  Lead lead = Claimed("rep-1");
  FollowUp f{"f1", "note", "", absl::InfinitePast(), "rep-2", kT0};
  EXPECT_EQ(ErrorReason(RecordFollowUp(lead, f).status()), "NOT_LEAD_OWNER");
  EXPECT_EQ(ErrorReason(Disqualify(lead, ev::DISQUALIFY_REASON_NO_NEED, "", "rep-2", kT0).status()),
            "NOT_LEAD_OWNER");
  EXPECT_EQ(ErrorReason(CheckConvertible(lead, "rep-2")), "NOT_LEAD_OWNER");
  EXPECT_EQ(ErrorReason(CheckConvertible(Queued(), "rep-1")), "LEAD_NOT_ASSIGNED");
  f.user = "rep-1";
  f.note = " ";
  EXPECT_EQ(RecordFollowUp(lead, f).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LeadTest, DisqualifyNeedsAReasonAndClosesTheLead) {
  Lead lead = Claimed();
  auto none = Disqualify(lead, ev::DISQUALIFY_REASON_UNSPECIFIED, "", "rep-1", kT0);
  EXPECT_EQ(Fields(none.status()), std::set<std::string>{"reason"});
  auto other = Disqualify(lead, ev::DISQUALIFY_REASON_OTHER, "", "rep-1", kT0);
  EXPECT_EQ(Fields(other.status()), std::set<std::string>{"note"});
  auto d = Disqualify(lead, ev::DISQUALIFY_REASON_CHOSE_COMPETITOR, "went with X", "rep-1", kT0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->reps.at("rep-1")[0].let_go().lead_id(), "l1");
  Lead closed = Apply(lead, d);
  EXPECT_EQ(closed.state, LeadState::kDisqualified);
  EXPECT_EQ(ErrorReason(Claim(closed, Rep("rep-2"), kT0, LeadPolicy{}).status()), "LEAD_CLOSED");
  EXPECT_EQ(ErrorReason(Convert(closed, "c1", "", "rep-1", kT0).status()), "LEAD_CLOSED");
}

TEST(LeadTest, ConvertRecordsTheCustomerAndFreesCapacity) {
  Lead lead = Claimed();
  auto d = Convert(lead, "c-9", "o-3", "rep-1", kT0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->lead[0].converted().customer_id(), "c-9");
  EXPECT_EQ(d->lead[0].converted().channel_id(), "web-form");
  EXPECT_EQ(d->reps.at("rep-1")[0].let_go().lead_id(), "l1");
  Lead converted = Apply(lead, d);
  EXPECT_EQ(converted.state, LeadState::kConverted);
  EXPECT_EQ(converted.customer_id, "c-9");
  EXPECT_EQ(converted.opportunity_id, "o-3");
}

TEST(LeadTest, ErasingTheContactKeepsTheLeadAndHappensOnce) {
  Lead lead = Claimed();
  ASSERT_FALSE(lead.profile.email().empty());
  EXPECT_EQ(EraseContact(Lead{}, "boss", kT0).status().code(), absl::StatusCode::kNotFound);
  auto d = EraseContact(lead, "boss", kT0);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->lead.size(), 1u);
  EXPECT_EQ(d->lead[0].contact_erased().lead_id(), "l1");
  Lead erased = Apply(lead, d);
  EXPECT_TRUE(erased.contact_erased);
  EXPECT_TRUE(erased.profile.contact_name().empty() && erased.profile.email().empty() &&
              erased.profile.phone().empty() && erased.profile.contact_title().empty());
  EXPECT_EQ(erased.profile.company_name(), lead.profile.company_name());
  EXPECT_EQ(erased.state, LeadState::kAssigned);
  EXPECT_EQ(erased.owner, "rep-1");
  EXPECT_TRUE(EraseContact(erased, "boss", kT0)->lead.empty());  // done before
}

TEST(LeadTest, LeadOfAnExistingCustomerIsRoutedNotQueued) {
  auto cleaned = Clean(ValidCommand(), LeadPolicy{});
  CustomerMatch customer{"c-1", "rep-7", {"legal_entity_id"}};
  auto d = Decide(Lead{}, *cleaned, customer, {});
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->lead[0].has_routed());
  EXPECT_EQ(d->lead[0].routed().owner_id(), "rep-7");
  Lead lead = Given(d->lead);
  EXPECT_EQ(lead.state, LeadState::kRouted);
  EXPECT_FALSE(lead.open());
  EXPECT_EQ(ErrorReason(Claim(lead, Rep("rep-1"), kT0, LeadPolicy{}).status()), "LEAD_CLOSED");
}

TEST(LeadTest, DuplicatesAreRecordedAndMergeKeepsBothHistories) {
  auto cleaned = Clean(ValidCommand(), LeadPolicy{});
  ev::LeadMatch m;
  m.set_lead_id("l0");
  m.add_keys("email");
  auto d = Decide(Lead{}, *cleaned, std::nullopt, {m});
  ASSERT_EQ(d->lead[0].created().duplicates_size(), 1);
  EXPECT_EQ(d->lead[0].created().duplicates(0).lead_id(), "l0");
  EXPECT_EQ(MatchKeys(*cleaned),
            (std::vector<std::string>{"company_name:acme", "email:ann.lee@acme.com",
                                      "legal_entity_id:DE123", "phone:+49301234567"}));

  Lead survivor = Claimed("rep-1");
  Lead merged = Claimed("rep-1");
  merged.id = "l2";
  auto md = Merge(survivor, merged, "rep-1", kT0);
  ASSERT_TRUE(md.ok()) << md.status();
  EXPECT_EQ(md->survivor.lead[0].merged().merged_lead_id(), "l2");
  EXPECT_EQ(md->merged.lead[0].merged_into().survivor_id(), "l1");
  EXPECT_EQ(md->merged.reps.at("rep-1")[0].let_go().lead_id(), "l2");
  Lead gone = Given(md->merged.lead, merged);
  EXPECT_EQ(gone.state, LeadState::kMerged);
  EXPECT_EQ(gone.version, merged.version + 1) << "history kept, one event added";
  EXPECT_EQ(Merge(survivor, survivor, "rep-1", kT0).status().code(),
            absl::StatusCode::kInvalidArgument);
  Lead others = Claimed("rep-2");
  others.id = "l3";
  EXPECT_EQ(ErrorReason(Merge(survivor, others, "rep-1", kT0).status()), "NOT_LEAD_OWNER");
}

TEST(LeadTest, SettingsAreValidatedAndMergedByMask) {
  ev::LeadSettings s;
  s.set_assign_mode(ev::ASSIGN_MODE_ASSIGN);
  s.set_grade_a_min(30);
  s.set_grade_b_min(40);
  s.set_rep_capacity(-1);
  ev::Team* t = s.add_teams();
  t->set_team_id("t");
  t->add_members()->set_rep_id("a");
  t->add_members()->set_rep_id("a");
  EXPECT_EQ(Fields(ValidateSettings(s)),
            (std::set<std::string>{"settings.rep_capacity", "settings.grade_a_min",
                                   "settings.teams[0].members[1].rep_id"}));

  ev::LeadSettings current;
  current.set_rep_capacity(10);
  ev::LeadSettings update;
  update.set_work_timeout_seconds(3600);
  update.set_rep_capacity(99);
  auto merged = MergeSettings(current, update, {"work_timeout_seconds"});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->rep_capacity(), 10);
  EXPECT_EQ(LeadPolicy::From(*merged).work_timeout, absl::Hours(1));
  EXPECT_EQ(MergeSettings(current, update, {"nope"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LeadPolicy::From({}).rep_capacity, 30);
}

TEST(LeadTest, ChannelsNeedAnIdNameKindAndAnHonestCost) {
  ev::ChannelSaved c;
  c.set_channel_id("fair 2026");
  c.set_kind(ev::CHANNEL_KIND_FREE);
  c.set_monthly_cost(100);
  EXPECT_EQ(Fields(ValidateChannel(c)),
            (std::set<std::string>{"channel.channel_id", "channel.name", "channel.monthly_cost"}));
  c.set_channel_id("fair-2026");
  c.set_name("Trade fair");
  c.set_kind(ev::CHANNEL_KIND_PAID);
  EXPECT_TRUE(ValidateChannel(c).ok());
}

}  // namespace
}  // namespace crm::lead
