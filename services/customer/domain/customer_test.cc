#include "services/customer/domain/customer.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::customer {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
absl::Duration Days(double d) { return absl::Hours(24 * d); }

Profile FullProfile() {
  Profile p;
  p.set_company_name("Acme GmbH");
  p.set_legal_entity_id("91110000abc123");
  p.set_industry("manufacturing");
  p.set_region("berlin");
  p.set_size(ev::COMPANY_SIZE_51_200);
  p.set_annual_revenue(12'000'000);
  auto* kp = p.add_contacts();
  kp->set_name("Ann Lee");
  kp->set_phone("+49 30 1234567");
  kp->set_key_person(true);
  return p;
}

// given: the events so far.
Customer Given(const std::vector<CustomerEvent>& events) {
  Customer c;
  c.id = "c1";
  for (const auto& e : events) c = Evolve(std::move(c), e);
  return c;
}
RepPool GivenPool(const std::string& rep, int size, std::optional<int> capacity = {}) {
  RepPool p;
  p.rep = rep;
  for (int i = 0; i < size; ++i) p.customers.insert("other-" + std::to_string(i));
  p.capacity = capacity;
  return p;
}

std::vector<CustomerEvent> CreatedBy(const std::string& rep, absl::Time at = kT0,
                                     ev::Segment segment = ev::SEGMENT_SMB) {
  CreateCustomer cmd{"c1", FullProfile(), rep, false, at, {}};
  cmd.profile.set_segment(segment);
  return Decide(Customer{}, GivenPool(rep, 0), cmd, Policy{})->customer;
}

std::vector<CustomerEvent> Concat(std::vector<CustomerEvent> a,
                                  const std::vector<CustomerEvent>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A meeting (a valid follow-up) by `rep` on `day`, applied to `c`.
Customer MetOn(Customer c, const std::string& rep, double day) {
  const auto d =
      Decide(c, RecordTouch{"t", ev::TOUCH_CHANNEL_MEETING, "", "", "", "", rep, kT0 + Days(day)},
             Policy{});
  return Evolve(std::move(c), d->customer[0]);
}

TEST(CustomerTest, ContactsGetTheirOwnPersonAndAnErasedContactStaysErased) {
  CreateCustomer cmd{"c1", FullProfile(), "rep-1", false, kT0, {}};
  cmd.profile.mutable_contacts(0)->set_person_id("someone-else");  // not the caller's to say
  cmd.profile.mutable_contacts(0)->mutable_sealed()->set_ciphertext("forged");
  Customer c = Given(Decide(Customer{}, GivenPool("rep-1", 0), cmd, Policy{})->customer);
  const ev::Contact& k1 = c.profile.contacts(0);
  EXPECT_EQ(k1.contact_id(), "k1");
  EXPECT_EQ(k1.person_id(), "c1/k1/1");
  EXPECT_FALSE(k1.has_sealed());
  // A lead's conversion names the person (the lead).
  cmd.keep_person_ids = true;
  EXPECT_EQ(Decide(Customer{}, GivenPool("rep-1", 0), cmd, Policy{})
                ->customer[0]
                .created()
                .profile()
                .contacts(0)
                .person_id(),
            "someone-else");

  // A contact added later gets a person of its own; k1 keeps hers.
  Profile more = c.profile;
  more.add_contacts()->set_name("Bo Chen");
  auto added = Decide(c, UpdateProfile{more, {"contacts"}, "rep-1", kT0}, Policy{});
  ASSERT_TRUE(added.ok()) << added.status();
  c = Evolve(std::move(c), added->customer[0]);
  EXPECT_EQ(c.profile.contacts(0).person_id(), "c1/k1/1");
  EXPECT_EQ(c.profile.contacts(1).contact_id(), "k2");
  EXPECT_EQ(c.profile.contacts(1).person_id(), "c1/k2/2");

  EXPECT_EQ(Decide(c, EraseContact{"k9", "boss", kT0}).status().code(),
            absl::StatusCode::kNotFound);
  auto erased = Decide(c, EraseContact{"k1", "boss", kT0});
  ASSERT_TRUE(erased.ok()) << erased.status();
  ASSERT_EQ(erased->customer.size(), 1u);
  const ev::ContactErased& e = erased->customer[0].contact_erased();
  EXPECT_EQ(e.person_id(), "c1/k1/1");
  EXPECT_TRUE(e.profile().contacts(0).name().empty());
  EXPECT_TRUE(e.profile().contacts(0).phone().empty());
  EXPECT_TRUE(e.profile().contacts(0).sealed().erased());
  EXPECT_TRUE(e.profile().contacts(0).key_person());
  EXPECT_EQ(e.profile().contacts(1).name(), "Bo Chen");
  c = Evolve(std::move(c), erased->customer[0]);
  EXPECT_TRUE(Decide(c, EraseContact{"k1", "boss", kT0})->customer.empty());  // done before

  // Sent back as read, the erased entry is kept; with personal data again it
  // is refused (the person is added as a new contact instead).
  auto round_trip = Decide(c, UpdateProfile{c.profile, {"contacts"}, "rep-1", kT0}, Policy{});
  ASSERT_TRUE(round_trip.ok()) << round_trip.status();
  EXPECT_TRUE(round_trip->customer[0].profile_updated().profile().contacts(0).sealed().erased());
  Profile again = c.profile;
  again.mutable_contacts(0)->set_name("Ann Lee");
  auto refused = Decide(c, UpdateProfile{again, {"contacts"}, "rep-1", kT0}, Policy{});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("erased"), std::string::npos) << refused.status();
}

TEST(CustomerTest, CreateIntoPrivatePoolAddsToThePoolAndScoresCompleteness) {
  auto d = Decide(Customer{}, GivenPool("rep-1", 3),
                  CreateCustomer{"c1", FullProfile(), "rep-1", false, kT0, {}}, Policy{});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->customer.size(), 1u);
  const auto& created = d->customer[0].created();
  EXPECT_EQ(created.owner_id(), "rep-1");
  EXPECT_EQ(created.completeness(), 100);
  EXPECT_EQ(created.profile().normalized_company_name(), "acme");
  EXPECT_EQ(created.profile().legal_entity_id(), "91110000ABC123");
  EXPECT_EQ(created.profile().contacts(0).phone(), "+49301234567");
  EXPECT_EQ(created.profile().segment(), ev::SEGMENT_SMB);
  ASSERT_EQ(d->pool.size(), 1u);
  EXPECT_EQ(d->pool[0].customer_added().customer_id(), "c1");

  Profile thin;
  thin.set_company_name("Thin Ltd");
  auto t = Decide(Customer{}, GivenPool("rep-1", 0),
                  CreateCustomer{"c2", thin, "rep-1", true, kT0, {}}, Policy{});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->customer[0].created().completeness(), 0);
  EXPECT_EQ(t->customer[0].created().owner_id(), "");
  EXPECT_TRUE(t->pool.empty());  // the public pool counts against nobody
}

TEST(CustomerTest, CreateRefusesMissingMandatoryFieldsAndBadContacts) {
  Profile p;
  p.set_annual_revenue(-5);
  auto* c = p.add_contacts();
  c->set_email("nope");
  auto d = Decide(Customer{}, GivenPool("rep-1", 0),
                  CreateCustomer{"c1", p, "rep-1", false, kT0, {}}, Policy{});
  ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  const google::rpc::BadRequest bad_request = BadRequestOf(d.status());
  std::vector<std::string> fields;
  for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields,
            (std::vector<std::string>{"customer.annual_revenue", "customer.contacts[0].name",
                                      "customer.contacts[0].email", "customer.company_name"}));
}

TEST(CustomerTest, TenantMandatoryFieldsAreRefusedWhenEmpty) {
  Policy strict;
  strict.mandatory_fields = {"company_name", "industry", "key_person"};
  Profile p;
  p.set_company_name("Acme");
  auto d = Decide(Customer{}, GivenPool("rep-1", 0),
                  CreateCustomer{"c1", p, "rep-1", false, kT0, {}}, strict);
  ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadRequestOf(d.status()).field_violations_size(), 2);
}

TEST(CustomerTest, CreateAtCapacityIsRefusedWithPoolFull) {
  auto d = Decide(Customer{}, GivenPool("rep-1", 50),
                  CreateCustomer{"c1", FullProfile(), "rep-1", false, kT0, {}}, Policy{});
  EXPECT_EQ(d.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(d.status()), kPoolFull);
  // A lowered capacity counts too.
  auto lowered = Decide(Customer{}, GivenPool("rep-1", 2, 2),
                        CreateCustomer{"c1", FullProfile(), "rep-1", false, kT0, {}}, Policy{});
  EXPECT_EQ(ErrorReason(lowered.status()), kPoolFull);
}

TEST(CustomerTest, ClaimTakesAPublicCustomerIntoThePool) {
  Customer c =
      Given(Concat(CreatedBy("rep-1"), Decide(Given(CreatedBy("rep-1")), GivenPool("rep-1", 1),
                                              Release{"rep-1", "moving on", kT0 + Days(1)})
                                           ->customer));
  ASSERT_FALSE(c.is_private());
  auto d = Decide(c, GivenPool("rep-2", 0), Claim{"rep-2", kT0 + Days(2), {}}, Policy{});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->customer[0].claimed().owner_id(), "rep-2");
  EXPECT_EQ(d->pool[0].customer_added().rep_id(), "rep-2");
  Customer after = Evolve(c, d->customer[0]);
  EXPECT_EQ(after.owner, "rep-2");
  EXPECT_EQ(after.claim_time, kT0 + Days(2));
}

TEST(CustomerTest, ClaimOfAPrivateCustomerOrAtCapacityIsRefused) {
  Customer owned = Given(CreatedBy("rep-1"));
  EXPECT_EQ(
      ErrorReason(Decide(owned, GivenPool("rep-2", 0), Claim{"rep-2", kT0, {}}, Policy{}).status()),
      kNotInPublicPool);
  Customer pub =
      Given(Concat(CreatedBy("rep-1"),
                   Decide(owned, GivenPool("rep-1", 1), Release{"rep-1", "", kT0})->customer));
  EXPECT_EQ(
      ErrorReason(Decide(pub, GivenPool("rep-2", 50), Claim{"rep-2", kT0, {}}, Policy{}).status()),
      kPoolFull);
}

TEST(CustomerTest, CoolDownStopsTheReleasingRepOnly) {
  Customer owned = Given(CreatedBy("rep-1"));
  Customer pub =
      Given(Concat(CreatedBy("rep-1"),
                   Decide(owned, GivenPool("rep-1", 1), Release{"rep-1", "", kT0})->customer));
  EXPECT_EQ(
      ErrorReason(Decide(pub, GivenPool("rep-1", 0), Claim{"rep-1", kT0 + Days(6.9), {}}, Policy{})
                      .status()),
      kCoolDown);
  EXPECT_TRUE(Decide(pub, GivenPool("rep-1", 0), Claim{"rep-1", kT0 + Days(7), {}}, Policy{}).ok());
  EXPECT_TRUE(Decide(pub, GivenPool("rep-2", 0), Claim{"rep-2", kT0, {}}, Policy{}).ok());
}

TEST(CustomerTest, OnlyTheOwnerReleasesTouchesAndUpdates) {
  Customer owned = Given(CreatedBy("rep-1"));
  EXPECT_EQ(ErrorReason(Decide(owned, GivenPool("rep-2", 0), Release{"rep-2", "", kT0}).status()),
            kNotOwner);
  EXPECT_EQ(
      ErrorReason(Decide(owned,
                         RecordTouch{"t1", ev::TOUCH_CHANNEL_PHONE, "", "", "", "", "rep-2", kT0},
                         Policy{})
                      .status()),
      kNotOwner);
  EXPECT_EQ(
      ErrorReason(Decide(owned, UpdateProfile{FullProfile(), {"industry"}, "rep-2", kT0}, Policy{})
                      .status()),
      kNotOwner);
}

TEST(CustomerTest, ValidFollowUpNeedsANonTrivialNoteOrAMeeting) {
  Policy p;
  EXPECT_FALSE(InvalidFollowUpReason(ev::TOUCH_CHANNEL_MEETING, "", p));
  EXPECT_TRUE(InvalidFollowUpReason(ev::TOUCH_CHANNEL_PHONE, "called, busy", p));
  EXPECT_FALSE(
      InvalidFollowUpReason(ev::TOUCH_CHANNEL_PHONE, "Discussed Q3 budget with the CFO", p));
  // Banned phrases, whatever the case and punctuation, even padded to length.
  Policy loose = p;
  loose.min_note_chars = 5;
  EXPECT_TRUE(InvalidFollowUpReason(ev::TOUCH_CHANNEL_EMAIL, "Keep following!", loose));
  EXPECT_TRUE(InvalidFollowUpReason(ev::TOUCH_CHANNEL_EMAIL, "  no intention.  ", loose));
  // Characters are counted, not bytes: 20 CJK characters pass, 19 do not.
  std::string cjk;
  for (int i = 0; i < 19; ++i) cjk += "\xE5\xAE\xA2";  // 客
  EXPECT_TRUE(InvalidFollowUpReason(ev::TOUCH_CHANNEL_WECHAT, cjk, p));
  EXPECT_FALSE(InvalidFollowUpReason(ev::TOUCH_CHANNEL_WECHAT, cjk + "\xE5\xAE\xA2", p));
}

TEST(CustomerTest, TouchWithoutChannelIsInvalidArgument) {
  Customer owned = Given(CreatedBy("rep-1"));
  auto d =
      Decide(owned, RecordTouch{"t1", ev::TOUCH_CHANNEL_UNSPECIFIED, "", "", "", "", "rep-1", kT0},
             Policy{});
  ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BadRequestOf(d.status()).field_violations(0).field(), "touch.channel");
}

// SMB: 30 days without a valid follow-up. Not released on day 30, released on day 31.
TEST(CustomerTest, DropProtectionReleasesOnDayNPlusOneNotOnDayN) {
  Customer c = Given(CreatedBy("rep-1"));
  RepPool pool = GivenPool("rep-1", 0);
  pool.customers.insert("c1");
  EXPECT_TRUE(EnforceDropProtection(c, pool, kT0 + Days(30), Policy{}).pool.empty());
  Decision d = EnforceDropProtection(c, pool, kT0 + Days(31), Policy{});
  ASSERT_EQ(d.customer.size(), 1u);
  ASSERT_TRUE(d.customer[0].has_released());
  EXPECT_EQ(d.customer[0].released().reason(), ev::RELEASE_REASON_NO_VALID_FOLLOW_UP);
  EXPECT_EQ(d.customer[0].released().previous_owner_id(), "rep-1");
  ASSERT_EQ(d.pool.size(), 1u);
  EXPECT_EQ(d.pool[0].customer_removed().customer_id(), "c1");
  Customer after = Evolve(c, d.customer[0]);
  EXPECT_FALSE(after.is_private());
  EXPECT_EQ(after.released_by, "rep-1");
}

TEST(CustomerTest, ValidFollowUpMovesTheDeadlineAndAnInvalidOneDoesNot) {
  Customer c = Given(CreatedBy("rep-1"));
  auto invalid = Decide(c,
                        RecordTouch{"t1", ev::TOUCH_CHANNEL_PHONE, "", "keep following", "", "",
                                    "rep-1", kT0 + Days(20)},
                        Policy{});
  c = Evolve(c, invalid->customer[0]);
  EXPECT_FALSE(invalid->customer[0].touch_recorded().valid());
  EXPECT_EQ(NextDropDeadline(c, Policy{})->at, kT0 + Days(30));
  auto valid = Decide(
      c, RecordTouch{"t2", ev::TOUCH_CHANNEL_MEETING, "met", "", "", "", "rep-1", kT0 + Days(20)},
      Policy{});
  c = Evolve(c, valid->customer[0]);
  EXPECT_EQ(NextDropDeadline(c, Policy{})->at, kT0 + Days(50));
  for (const auto& e : EnforceDropProtection(c, RepPool{}, kT0 + Days(31), Policy{}).customer) {
    EXPECT_FALSE(e.has_released());
  }
  EXPECT_TRUE(
      EnforceDropProtection(c, RepPool{}, kT0 + Days(51), Policy{}).customer[0].has_released());
}

// Even with regular follow-ups, no signed contract 90 days after claim releases (SMB).
TEST(CustomerTest, NoSignedContractReleasesAfterItsWindow) {
  Customer c = Given(CreatedBy("rep-1"));
  for (int day = 20; day <= 80; day += 20) c = MetOn(c, "rep-1", day);
  auto deadline = NextDropDeadline(c, Policy{});
  EXPECT_EQ(deadline->at, kT0 + Days(90));
  EXPECT_EQ(deadline->reason, ev::RELEASE_REASON_NO_SIGNED_CONTRACT);
  Decision d = EnforceDropProtection(c, RepPool{}, kT0 + Days(91), Policy{});
  EXPECT_EQ(d.customer[0].released().reason(), ev::RELEASE_REASON_NO_SIGNED_CONTRACT);
}

TEST(CustomerTest, KeyAccountsHaveLongerWindows) {
  Customer c = Given(CreatedBy("rep-1", kT0, ev::SEGMENT_KA));
  EXPECT_EQ(NextDropDeadline(c, Policy{})->at, kT0 + Days(90));
  Customer touched = MetOn(c, "rep-1", 100);
  EXPECT_EQ(NextDropDeadline(touched, Policy{})->at, kT0 + Days(180));
}

TEST(CustomerTest, OwnerIsWarnedOnceBeforeRelease) {
  Customer c = Given(CreatedBy("rep-1"));
  EXPECT_EQ(*NextDropCheck(c, Policy{}), kT0 + Days(27));
  EXPECT_TRUE(EnforceDropProtection(c, RepPool{}, kT0 + Days(27), Policy{}).customer.empty());
  Decision warn = EnforceDropProtection(c, RepPool{}, kT0 + Days(28), Policy{});
  ASSERT_EQ(warn.customer.size(), 1u);
  ASSERT_TRUE(warn.customer[0].has_drop_warning_issued());
  EXPECT_TRUE(warn.pool.empty());
  c = Evolve(c, warn.customer[0]);
  EXPECT_TRUE(EnforceDropProtection(c, RepPool{}, kT0 + Days(29), Policy{}).customer.empty());
  EXPECT_EQ(*NextDropCheck(c, Policy{}), kT0 + Days(30));
  // Public customers have no deadline.
  EXPECT_FALSE(NextDropCheck(Customer{}, Policy{}));
}

TEST(CustomerTest, UpdateReplacesOnlyTheMaskedFields) {
  Customer c = Given(CreatedBy("rep-1"));
  Profile change;
  change.set_industry("retail");
  change.set_region("ignored because not in the mask");
  auto* contact = change.add_contacts();
  contact->set_name("Bo Chen");
  auto d = Decide(c, UpdateProfile{change, {"industry", "contacts"}, "rep-1", kT0}, Policy{});
  ASSERT_TRUE(d.ok()) << d.status();
  const Profile& p = d->customer[0].profile_updated().profile();
  EXPECT_EQ(p.industry(), "retail");
  EXPECT_EQ(p.region(), "berlin");
  ASSERT_EQ(p.contacts_size(), 1);
  EXPECT_EQ(p.contacts(0).name(), "Bo Chen");
  // The KP and the reachable contact were replaced: completeness drops.
  EXPECT_EQ(d->customer[0].profile_updated().completeness(), 71);

  auto bad = Decide(c, UpdateProfile{change, {"owner_id"}, "rep-1", kT0}, Policy{});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto cleared = Decide(c, UpdateProfile{Profile{}, {"company_name"}, "rep-1", kT0}, Policy{});
  EXPECT_EQ(BadRequestOf(cleared.status()).field_violations(0).field(), "customer.company_name");
}

TEST(CustomerTest, HistoryLinesNameTheActorAndTheRule) {
  HistoryLine created = Describe(CreatedBy("rep-1")[0]);
  EXPECT_EQ(created.actor, "rep-1");
  EXPECT_EQ(created.changed_fields,
            (std::vector<std::string>{"company_name", "legal_entity_id", "industry", "region",
                                      "size", "annual_revenue", "contacts"}));
  Customer c = Given(CreatedBy("rep-1"));
  Decision drop = EnforceDropProtection(c, RepPool{}, kT0 + Days(31), Policy{});
  HistoryLine released = Describe(drop.customer[0]);
  EXPECT_EQ(released.actor, "drop-protection");
  EXPECT_NE(released.summary.find("no valid follow-up"), std::string::npos);
}

TEST(CustomerTest, CapacityRules) {
  EXPECT_EQ(Decide(RepPool{}, SetCapacity{-1, "", "admin"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  RepPool pool = GivenPool("rep-1", 3);
  pool = Evolve(pool, (*Decide(pool, SetCapacity{2, "low completeness", "admin"}))[0]);
  EXPECT_EQ(pool.Capacity(Policy{}), 2);
  EXPECT_EQ(pool.customers.size(), 3u);  // kept, but no room for more
}

// A thin public customer "c1" (completeness 0), created at kT0.
Customer ThinPublic() {
  Profile thin;
  thin.set_company_name("Thin Ltd");
  return Given(
      Decide(Customer{}, RepPool{}, CreateCustomer{"c1", thin, "", true, kT0, {}}, Policy{})
          ->customer);
}

TEST(CustomerTest, AReservationHoldsAPublicCustomerForTheReserver) {
  Customer c = ThinPublic();
  auto d = Decide(c, GivenPool("rep-1", 50), Reserve{"rep-1", kT0}, Policy{});
  ASSERT_TRUE(d.ok()) << d.status();  // reservations do not count against capacity
  EXPECT_EQ(d->customer[0].reserved().expire_time().seconds(), absl::ToUnixSeconds(kT0 + Days(30)));
  EXPECT_EQ(d->pool[0].reservation_added().customer_id(), "c1");
  c = Evolve(c, d->customer[0]);
  EXPECT_EQ(ErrorReason(Decide(c, GivenPool("rep-2", 0), Reserve{"rep-2", kT0}, Policy{}).status()),
            kReserved);
  EXPECT_EQ(
      ErrorReason(Decide(c, GivenPool("rep-2", 0), Claim{"rep-2", kT0, {}}, Policy{}).status()),
      kReserved);
  // The reserver claims it: the reservation ends, the private pool grows.
  RepPool pool = Evolve(GivenPool("rep-1", 0), d->pool[0]);
  auto claim = Decide(c, pool, Claim{"rep-1", kT0 + Days(1), {}}, Policy{});
  ASSERT_TRUE(claim.ok()) << claim.status();
  ASSERT_EQ(claim->customer.size(), 2u);
  EXPECT_EQ(claim->customer[0].reservation_ended().reason(), ev::RESERVATION_END_REASON_CLAIMED);
  for (const auto& e : claim->pool) pool = Evolve(pool, e);
  EXPECT_TRUE(pool.reservations.empty());
  EXPECT_EQ(pool.customers.count("c1"), 1u);
}

TEST(CustomerTest, ReservationsAreLimitedToFiveTimesCapacity) {
  RepPool pool = GivenPool("rep-1", 0, 2);
  for (int i = 0; i < 10; ++i) pool.reservations.insert("r" + std::to_string(i));
  EXPECT_EQ(ErrorReason(Decide(ThinPublic(), pool, Reserve{"rep-1", kT0}, Policy{}).status()),
            kReservationLimit);
  pool.reservations.erase("r0");
  EXPECT_TRUE(Decide(ThinPublic(), pool, Reserve{"rep-1", kT0}, Policy{}).ok());
}

TEST(CustomerTest, AReservationLapsesAfterDayThirtyUnlessCompletenessReachesTheTarget) {
  Customer c = ThinPublic();
  RepPool pool = GivenPool("rep-1", 0);
  auto reserved = Decide(c, pool, Reserve{"rep-1", kT0}, Policy{});
  c = Evolve(c, reserved->customer[0]);
  pool = Evolve(pool, reserved->pool[0]);
  EXPECT_EQ(NextDropCheck(c, Policy{}), kT0 + Days(30));
  EXPECT_TRUE(EnforceDropProtection(c, pool, kT0 + Days(30), Policy{}).customer.empty());
  Decision lapse = EnforceDropProtection(c, pool, kT0 + Days(30) + absl::Seconds(1), Policy{});
  ASSERT_EQ(lapse.customer.size(), 1u);
  EXPECT_EQ(lapse.customer[0].reservation_ended().reason(), ev::RESERVATION_END_REASON_LAPSED);
  EXPECT_EQ(lapse.pool[0].reservation_removed().customer_id(), "c1");

  // Enriched to 100% by the reserver (others may not edit it): secured, no lapse.
  UpdateProfile enrich{
      FullProfile(),
      {"legal_entity_id", "industry", "region", "size", "annual_revenue", "contacts"},
      "rep-1",
      kT0 + Days(29)};
  UpdateProfile by_other = enrich;
  by_other.user = "rep-2";
  EXPECT_EQ(ErrorReason(Decide(c, by_other, Policy{}).status()), kNotOwner);
  auto update = Decide(c, enrich, Policy{});
  ASSERT_TRUE(update.ok()) << update.status();
  ASSERT_EQ(update->customer.size(), 2u);
  EXPECT_EQ(update->customer[1].reservation_secured().completeness(), 100);
  for (const auto& e : update->customer) c = Evolve(c, e);
  EXPECT_FALSE(NextDropCheck(c, Policy{}).has_value());
  EXPECT_TRUE(EnforceDropProtection(c, pool, kT0 + Days(99), Policy{}).customer.empty());
}

TEST(CustomerTest, EveryThirdConflictLostWithinNinetyDaysCutsCapacityByTenPercent) {
  RepPool pool = GivenPool("rep-1", 0);
  auto lose = [&](absl::Time at) {
    auto events = LoseConflict(pool, "x", at, Policy{});
    for (const auto& e : events) pool = Evolve(pool, e);
    return events;
  };
  EXPECT_EQ(lose(kT0).size(), 1u);
  EXPECT_EQ(lose(kT0 + Days(100)).size(), 1u);  // the first has left the window
  EXPECT_EQ(lose(kT0 + Days(120)).size(), 1u);
  auto third = lose(kT0 + Days(150));
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(third[1].penalty_applied().reason(), ev::PENALTY_REASON_LOST_CONFLICTS);
  EXPECT_EQ(third[1].penalty_applied().capacity_before(), 50);
  EXPECT_EQ(third[1].penalty_applied().capacity_after(), 45);
  EXPECT_EQ(pool.Capacity(Policy{}), 45);
  EXPECT_EQ(RecentConflictsLost(pool, kT0 + Days(150), Policy{}), 3);
}

TEST(CustomerTest, StandingReviewPenalisesThinDataAndRewardsCompleteData) {
  RepPool pool = GivenPool("rep-1", 0, 3);
  auto thin = ReviewStanding(pool, 8, 49, kT0, Policy{});
  ASSERT_EQ(thin.size(), 2u);
  EXPECT_FALSE(thin[0].standing_reviewed().lead_priority());
  EXPECT_EQ(thin[1].penalty_applied().capacity_after(), 2);  // at least one customer
  for (const auto& e : thin) pool = Evolve(pool, e);
  // Once per period.
  EXPECT_TRUE(ReviewStanding(pool, 8, 10, kT0 + Days(29), Policy{}).empty());
  auto good = ReviewStanding(pool, 8, 80, kT0 + Days(30), Policy{});
  ASSERT_EQ(good.size(), 1u);
  EXPECT_TRUE(good[0].standing_reviewed().lead_priority());
  // Too few customers to judge: reviewed, neither penalty nor priority.
  auto small = ReviewStanding(GivenPool("rep-2", 0), 4, 0, kT0, Policy{});
  ASSERT_EQ(small.size(), 1u);
  EXPECT_FALSE(small[0].standing_reviewed().lead_priority());
  EXPECT_EQ(ReviewStanding(GivenPool("rep-3", 0, 1), 5, 0, kT0, Policy{})[1]
                .penalty_applied()
                .capacity_after(),
            1);  // never below one
}

TEST(CustomerTest, AContractSignedSinceTheClaimEndsTheNoContractWindow) {
  Customer c = Given(CreatedBy("rep-1"));
  // Valid follow-ups every 20 days keep the follow-up window moving...
  for (int day = 20; day <= 80; day += 20) c = MetOn(c, "rep-1", day);
  // ... but without a contract the customer goes on day 91.
  EXPECT_EQ(NextDropDeadline(c, Policy{})->reason, ev::RELEASE_REASON_NO_SIGNED_CONTRACT);
  EXPECT_EQ(NextDropDeadline(c, Policy{})->at, kT0 + Days(90));
  auto noted = Decide(c, NoteContract{"k1", 50'000, kT0 + Days(85)});
  ASSERT_TRUE(noted.ok()) << noted.status();
  c = Evolve(c, noted->customer[0]);
  EXPECT_EQ(NextDropDeadline(c, Policy{})->reason, ev::RELEASE_REASON_NO_VALID_FOLLOW_UP);
  EXPECT_EQ(NextDropDeadline(c, Policy{})->at, kT0 + Days(110));
  // Redelivery notes nothing twice.
  EXPECT_TRUE(Decide(c, NoteContract{"k1", 50'000, kT0 + Days(85)})->customer.empty());
  // A contract signed before the current claim does not count for it.
  c = Evolve(c,
             Decide(c, GivenPool("rep-1", 1), Release{"rep-1", "", kT0 + Days(100)})->customer[0]);
  c = Evolve(
      c,
      Decide(c, GivenPool("rep-2", 0), Claim{"rep-2", kT0 + Days(101), {}}, Policy{})->customer[0]);
  EXPECT_EQ(NextDropDeadline(c, Policy{})->at, kT0 + Days(131));
  for (int day = 121; day <= 181; day += 20) c = MetOn(c, "rep-2", day);
  EXPECT_EQ(NextDropDeadline(c, Policy{})->reason, ev::RELEASE_REASON_NO_SIGNED_CONTRACT);
}

TEST(CustomerTest, ASignedContractNamesTheOwnerWhenItWasSigned) {
  // rep-1 releases on day 1, rep-2 claims on day 3; the contract signed on
  // day 2 (in the public pool) and the one signed on day 0 arrive after.
  Customer c = Given(CreatedBy("rep-1"));
  c = Evolve(c, Decide(c, GivenPool("rep-1", 1), Release{"rep-1", "", kT0 + Days(1)})->customer[0]);
  c = Evolve(
      c,
      Decide(c, GivenPool("rep-2", 0), Claim{"rep-2", kT0 + Days(3), {}}, Policy{})->customer[0]);
  EXPECT_EQ(Decide(c, NoteContract{"k1", 100, kT0 + Days(2)})
                ->customer[0]
                .contract_signed_noted()
                .owner_id(),
            "");
  EXPECT_EQ(Decide(c, NoteContract{"k2", 100, kT0})->customer[0].contract_signed_noted().owner_id(),
            "rep-1");
  EXPECT_EQ(Decide(c, NoteContract{"k3", 100, kT0 + Days(3)})
                ->customer[0]
                .contract_signed_noted()
                .owner_id(),
            "rep-2");
  EXPECT_EQ(c.OwnerAt(kT0 - Days(1)), "");
}

TEST(CustomerTest, DropProtectionCanHandTheCustomerBackToItsPreviousOwner) {
  Customer c = Given(CreatedBy("rep-1"));
  c = Evolve(c, Decide(c, GivenPool("rep-1", 1), Release{"rep-1", "", kT0 + Days(1)})->customer[0]);
  c = Evolve(
      c,
      Decide(c, GivenPool("rep-2", 0), Claim{"rep-2", kT0 + Days(2), {}}, Policy{})->customer[0]);
  EXPECT_EQ(c.previous_owner, "rep-1");
  Policy back;
  back.drop_back_to_previous_owner = true;
  const absl::Time late = kT0 + Days(32) + absl::Seconds(1);
  RepPool previous = GivenPool("rep-1", 0);
  Decision d = EnforceDropProtection(c, GivenPool("rep-2", 1), late, back, &previous);
  ASSERT_EQ(d.customer.size(), 2u);
  EXPECT_TRUE(d.customer[0].has_released());
  EXPECT_EQ(d.customer[1].claimed().owner_id(), "rep-1");
  EXPECT_EQ(d.other_rep, "rep-1");
  EXPECT_EQ(d.other_pool[0].customer_added().customer_id(), "c1");
  for (const auto& e : d.customer) c = Evolve(c, e);
  EXPECT_EQ(c.owner, "rep-1");
  EXPECT_EQ(c.claim_time, late);  // a fresh window for the previous owner
  // No room with the previous owner, or the default open race: public pool.
  Customer again = Given(CreatedBy("rep-1"));
  again.previous_owner = "rep-3";
  again.owner = "rep-2";
  RepPool full = GivenPool("rep-3", 50);
  EXPECT_EQ(EnforceDropProtection(again, GivenPool("rep-2", 1), late, back, &full).customer.size(),
            1u);
  EXPECT_EQ(
      EnforceDropProtection(again, GivenPool("rep-2", 1), late, Policy{}, &full).customer.size(),
      1u);
}

TEST(CustomerTest, AnEngagementSpikeIsTheSpikeCountWithinTheWindowOnce) {
  Customer c = Given(CreatedBy("rep-1"));
  auto engage = [&](double hour) {
    RecordEngagement cmd;
    cmd.engagement_id = absl::StrCat("g", hour);
    cmd.kind = ev::ENGAGEMENT_KIND_CONTENT_VIEWED;
    cmd.topic = " Pricing ";
    cmd.seconds = 90;
    cmd.occurred = kT0 + absl::Hours(hour);
    cmd.user = "marketing";
    cmd.now = kT0 + Days(10);
    auto d = Decide(c, cmd, Policy{});
    EXPECT_TRUE(d.ok()) << d.status();
    for (const auto& e : d->customer) c = Evolve(std::move(c), e);
    return d->customer.size() == 2 && d->customer[1].has_engagement_spike_detected();
  };
  EXPECT_FALSE(engage(0));
  EXPECT_FALSE(engage(30));  // hour 0 is more than 24 hours before
  EXPECT_FALSE(engage(40));  // two within 24 hours
  EXPECT_TRUE(engage(45));   // three: 30, 40, 45
  EXPECT_EQ(c.last_engagement_spike, kT0 + absl::Hours(45));
  EXPECT_FALSE(engage(46));  // counted afresh after the spike
  EXPECT_FALSE(engage(47));
  EXPECT_TRUE(engage(48));
  EXPECT_EQ(c.engagements.size(), 7u);

  RecordEngagement bad;
  bad.kind = ev::ENGAGEMENT_KIND_UNSPECIFIED;
  bad.seconds = -1;
  bad.occurred = kT0 + Days(20);
  bad.now = kT0 + Days(10);
  std::set<std::string> fields;
  const auto status = Decide(c, bad, Policy{}).status();
  const google::rpc::BadRequest bad_request = BadRequestOf(status);
  for (const auto& v : bad_request.field_violations()) fields.insert(v.field());
  EXPECT_EQ(fields, (std::set<std::string>{"kind", "seconds", "occur_time"}));
}

}  // namespace
}  // namespace crm::customer
