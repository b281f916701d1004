#include "services/customer/domain/conflict.h"

#include "gtest/gtest.h"
#include "libs/clock/timestamp.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// A record of "Acme" owned by `rep`, created at kStart + `day` days, with a
// key person (contact "kp") and a plain contact ("other").
std::vector<CustomerEvent> Record(const std::string& id, const std::string& rep, int day,
                                  ev::Segment segment = ev::SEGMENT_SMB) {
  CustomerEvent e;
  ev::CustomerCreated* c = e.mutable_created();
  c->set_customer_id(id);
  c->set_owner_id(rep);
  c->set_created_by(rep);
  *c->mutable_create_time() = ToTimestamp(kStart + absl::Hours(24 * day));
  Profile* p = c->mutable_profile();
  p->set_company_name("ACME Ltd.");
  p->set_normalized_company_name("acme");
  p->set_segment(segment);
  ev::Contact* kp = p->add_contacts();
  kp->set_contact_id("kp");
  kp->set_name("Ann Lee");
  kp->set_key_person(true);
  ev::Contact* other = p->add_contacts();
  other->set_contact_id("other");
  other->set_name("Bo Chen");
  return {e};
}

void Touch(std::vector<CustomerEvent>& record, const std::string& rep, int day, bool valid,
           const std::string& contact = "") {
  ev::TouchRecorded* t = record.emplace_back().mutable_touch_recorded();
  t->set_customer_id(record.front().created().customer_id());
  t->set_channel(ev::TOUCH_CHANNEL_PHONE);
  t->set_valid(valid);
  t->set_by(rep);
  t->set_contact_id(contact);
  *t->mutable_touch_time() = ToTimestamp(kStart + absl::Hours(24 * day));
}

FileConflict ByBob() { return {"x1", "bob", "I met them first", kStart + absl::Hours(24 * 40)}; }

TEST(ConflictTest, SmbEarlierFirstValidFollowUpWinsAndTheLosersRecordMoves) {
  auto alice = Record("c-a", "alice", 0);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 5, true);
  Touch(bob, "bob", 3, true);
  auto d = Decide(alice, bob, ByBob());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->verdict.rule_version(), kSmbRule);
  EXPECT_EQ(d->verdict.winner_id(), "bob");
  EXPECT_EQ(d->verdict.loser_id(), "alice");
  EXPECT_EQ(d->loser_record, "c-a");
  EXPECT_EQ(d->on_disputed.conflict_settled().owner_id(), "bob");
  EXPECT_EQ(d->on_disputed.conflict_settled().previous_owner_id(), "alice");
  EXPECT_EQ(d->loser_pool.customer_removed().rep_id(), "alice");
  EXPECT_EQ(d->winner_pool.customer_added().customer_id(), "c-a");
  ASSERT_EQ(d->verdict.evidence_size(), 2);
  EXPECT_EQ(d->verdict.claimant().version(), 2);
  EXPECT_EQ(d->verdict.matched_keys(0), "company_name");

  Customer moved;
  for (const auto& e : alice) moved = Evolve(std::move(moved), e);
  moved = Evolve(std::move(moved), d->on_disputed);
  EXPECT_EQ(moved.owner, "bob");
  EXPECT_EQ(moved.claim_time, kStart + absl::Hours(24 * 40));
}

TEST(ConflictTest, SmbOwnerWhoFollowedUpFirstKeepsItAndWinsTheClaimantsRecord) {
  auto alice = Record("c-a", "alice", 0);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 2, true);
  Touch(bob, "bob", 3, true);
  auto d = Decide(alice, bob, ByBob());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->verdict.winner_id(), "alice");
  EXPECT_EQ(d->loser_record, "c-b");
  EXPECT_EQ(d->on_claimant.conflict_settled().owner_id(), "alice");
  EXPECT_EQ(d->on_disputed.conflict_settled().owner_id(), "alice");
}

TEST(ConflictTest, ThinFollowUpsLoseEvenWhenEarlier) {
  auto alice = Record("c-a", "alice", 0);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 1, false);
  Touch(alice, "alice", 2, false);
  Touch(bob, "bob", 9, true);
  auto v = Judge(alice, bob);
  EXPECT_EQ(v.winner_id(), "bob");
  EXPECT_EQ(v.incumbent().thin_follow_ups(), 2);
  EXPECT_EQ(v.incumbent().valid_follow_ups(), 0);
  EXPECT_NE(v.reasons(0).find("thin follow-ups lose"), std::string::npos) << v.reasons(0);
}

TEST(ConflictTest, NobodyFollowedUpValidlyOwnerKeeps) {
  auto v = Judge(Record("c-a", "alice", 0), Record("c-b", "bob", 1));
  EXPECT_EQ(v.winner_id(), "alice");
  EXPECT_EQ(v.loser_id(), "bob");
}

TEST(ConflictTest, OnlyTheRepsOwnTouchesCount) {
  // Touches by an earlier owner of the record are not the current owner's.
  auto alice = Record("c-a", "alice", 0);
  Touch(alice, "carol", 1, true);
  auto bob = Record("c-b", "bob", 1);
  Touch(bob, "bob", 5, true);
  EXPECT_EQ(Judge(alice, bob).winner_id(), "bob");
}

TEST(ConflictTest, KaMoreProgressBeatsAnEarlierFollowUp) {
  auto alice = Record("c-a", "alice", 0, ev::SEGMENT_KA);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 2, true, "other");
  Touch(bob, "bob", 6, true, "kp");
  auto v = Judge(alice, bob);
  EXPECT_EQ(v.segment(), ev::SEGMENT_KA);
  EXPECT_EQ(v.rule_version(), kKaRule);
  EXPECT_EQ(v.winner_id(), "bob");
  EXPECT_TRUE(v.claimant().key_person_reached());
  EXPECT_EQ(v.claimant().progress(), 10);
  EXPECT_EQ(v.incumbent().progress(), 0);
  bool cited = false;
  for (const auto& e : v.evidence()) {
    cited |= e.rep_id() == "bob" && e.version() == 2 && e.fact() == "key person reached: Ann Lee";
  }
  EXPECT_TRUE(cited);
}

// given a KA dispute where the incumbent reached a key person but the
// claimant's opportunity with the company is further along, then the
// opportunity's stage outweighs it and is cited.
TEST(ConflictTest, KaOpportunityStageCountsAsProgress) {
  auto alice = Record("c-a", "alice", 0, ev::SEGMENT_KA);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 2, true, "kp");
  Touch(bob, "bob", 6, true, "other");
  auto note = [](std::vector<CustomerEvent>& record, const std::string& rep, const std::string& opp,
                 int32_t probability) {
    Customer c;
    for (const auto& e : record) c = Evolve(std::move(c), e);
    auto d = Decide(c, NoteOpportunity{opp, rep, "stage", probability, absl::FromUnixSeconds(1)});
    ASSERT_TRUE(d.ok());
    for (const auto& e : d->customer) record.push_back(e);
  };
  note(bob, "bob", "o-1", 25);
  note(bob, "bob", "o-1", 40);    // the same opportunity moved on: its latest stage counts
  note(alice, "bob", "o-2", 10);  // bob's other deal, on alice's record, counts for bob too
  note(alice, "alice", "o-3", 0);
  auto v = Judge(alice, bob);
  EXPECT_EQ(v.claimant().best_opportunity_probability(), 40);
  EXPECT_EQ(v.claimant().best_opportunity_id(), "o-1");
  EXPECT_EQ(v.claimant().progress(), 40);
  EXPECT_EQ(v.incumbent().progress(), 10);
  EXPECT_EQ(v.winner_id(), "bob");
  bool cited = false;
  for (const auto& e : v.evidence()) cited |= e.fact() == "opportunity o-1 at 40%";
  EXPECT_TRUE(cited);
  // Noting an unchanged stage again adds nothing.
  Customer c;
  for (const auto& e : bob) c = Evolve(std::move(c), e);
  EXPECT_TRUE(Decide(c, NoteOpportunity{"o-1", "bob", "stage", 40, absl::FromUnixSeconds(2)})
                  ->customer.empty());
}

TEST(ConflictTest, KaEqualProgressFallsBackToFirstValidFollowUp) {
  auto alice = Record("c-a", "alice", 0, ev::SEGMENT_KA);
  auto bob = Record("c-b", "bob", 1, ev::SEGMENT_KA);
  Touch(alice, "alice", 4, true, "kp");
  Touch(bob, "bob", 3, true, "kp");
  EXPECT_EQ(Judge(alice, bob).winner_id(), "bob");
}

TEST(ConflictTest, SameInputsSameVerdictLaterEventsDoNotChangeIt) {
  auto alice = Record("c-a", "alice", 0);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 5, true);
  Touch(bob, "bob", 3, true);
  const auto first = Judge(alice, bob);
  EXPECT_EQ(Judge(alice, bob).SerializeAsString(), first.SerializeAsString());
  // Replaying the records up to the versions the verdict names gives it again.
  Touch(alice, "alice", 50, true);
  std::vector<CustomerEvent> alice_then(alice.begin(), alice.begin() + first.incumbent().version());
  EXPECT_EQ(Judge(alice_then, bob).SerializeAsString(), first.SerializeAsString());
}

TEST(ConflictTest, EveryRecordOfTheCompanyCountsAndIsNamed) {
  auto alice = Record("c-a", "alice", 0);
  auto bob = Record("c-b", "bob", 1);
  Touch(alice, "alice", 5, true);
  Touch(bob, "bob", 6, true);
  // An older record of the company, now public, that bob followed up first
  // (and that carol touched, which counts for nobody here).
  auto old = Record("c-old", "bob", 0);
  Touch(old, "carol", 1, true);
  Touch(old, "bob", 2, true, "kp");
  auto v = Judge(alice, bob, {old});
  EXPECT_EQ(v.winner_id(), "bob");
  EXPECT_EQ(v.claimant().valid_follow_ups(), 2);
  EXPECT_EQ(FromTimestamp(v.claimant().first_valid_follow_up_time()), kStart + absl::Hours(24 * 2));
  ASSERT_EQ(v.records_read_size(), 3);
  EXPECT_EQ(v.records_read(2).customer_id(), "c-old");
  EXPECT_EQ(v.records_read(2).version(), 3);
  bool cited = false;
  for (const auto& e : v.evidence()) {
    cited |= e.customer_id() == "c-old" && e.version() == 3 && e.rep_id() == "bob";
  }
  EXPECT_TRUE(cited);
  EXPECT_EQ(Judge(alice, bob).winner_id(), "alice");  // without it, alice was first
}

TEST(ConflictTest, RefusesWhatIsNotAConflict) {
  auto alice = Record("c-a", "alice", 0);
  auto bob = Record("c-b", "bob", 1);
  // Not another rep's customer.
  auto own = Decide(bob, bob, ByBob());
  EXPECT_EQ(own.status().code(), absl::StatusCode::kInvalidArgument);
  FileConflict by_alice = ByBob();
  by_alice.user = "alice";
  EXPECT_EQ(ErrorReason(Decide(alice, bob, by_alice).status()), kNotDisputable);
  // The evidence must be the claimant's own record.
  FileConflict by_carol = ByBob();
  by_carol.user = "carol";
  EXPECT_EQ(ErrorReason(Decide(alice, bob, by_carol).status()), kNotOwner);
  // The records must share a key.
  auto other = Record("c-o", "bob", 1);
  other[0].mutable_created()->mutable_profile()->set_company_name("Globex");
  other[0].mutable_created()->mutable_profile()->clear_contacts();
  EXPECT_EQ(ErrorReason(Decide(alice, other, ByBob()).status()), kConflictNoMatch);
  // A public customer is claimed, not disputed.
  auto pub = Record("c-p", "", 0);
  EXPECT_EQ(ErrorReason(Decide(pub, bob, ByBob()).status()), kNotDisputable);
}

TEST(ConflictTest, MatchKeysAreNormalisedAndCoverKeyPersonsOnly) {
  Profile p;
  p.set_company_name(" Acme, Inc. ");
  p.set_legal_entity_id("91abc");
  ev::Contact* kp = p.add_contacts();
  kp->set_key_person(true);
  kp->set_phone("+49 (30) 123-4567");
  kp->set_email("Ann@Acme.COM");
  ev::Contact* plain = p.add_contacts();
  plain->set_phone("+1 555 0100 200");
  EXPECT_EQ(MatchKeys(p),
            (std::vector<std::string>{"company_name:acme", "key_person_email:ann@acme.com",
                                      "key_person_phone:+49301234567", "legal_entity_id:91ABC"}));
}

}  // namespace
}  // namespace crm::customer
