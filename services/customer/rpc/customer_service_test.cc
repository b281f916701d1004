// The customer service over real gRPC (loopback, port 0) with real RocksDB
// stores and an injected clock, so time-driven rules run deterministically.

#include "services/customer/rpc/customer_service.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "crm/contract/events/v1/contract_events.pb.h"
#include "crm/lead/events/v1/lead_events.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/bus/log_tailer.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/grpc.h"
#include "libs/testing/temp_dir.h"
#include "services/customer/app/contract_signals.h"
#include "services/customer/app/drop_protection.h"
#include "services/customer/app/match_index.h"
#include "services/customer/app/standing_review.h"
#include "services/customer/projection/contributions.h"
#include "services/customer/projection/customer_list.h"
#include "services/customer/projection/teams.h"

namespace crm::customer {
namespace {

using v1::CustomerService;
absl::Duration Days(double d) { return absl::Hours(24 * d); }

class CustomerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start() {
    store_ = *eventstore::EventStore::Open({.path = dir_.path() + "/events", .clock = &clock_});
    read_ = *readstore::ReadStore::Open(dir_.path() + "/read");
    commands_ = std::make_unique<CustomerCommandHandler>(store_.get(), &clock_, Policy{});
    list_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), &list_);
    drop_index_ = std::make_unique<DropIndexProjection>(commands_.get());
    drop_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), drop_index_.get());
    list_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), list_runner_.get());
    contributions_runner_ =
        std::make_unique<readstore::ProjectionRunner>(read_.get(), &contributions_);
    contributions_tailer_ =
        std::make_unique<bus::LogTailer>(store_.get(), contributions_runner_.get());
    drop_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), drop_runner_.get());
    scheduler_ = std::make_unique<DropScheduler>(read_.get(), commands_.get());
    // The match index runs on its own thread, as in the service: commands
    // wait for it to reach their earlier writes.
    match_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), &match_);
    match_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), match_runner_.get());
    match_tailer_->Start();
    commands_->SetMatchLookup([this](const std::string& tenant,
                                     const std::vector<std::string>& keys,
                                     const std::string& exclude) {
      EXPECT_TRUE(match_tailer_->WaitFor(store_->LastPosition(), absl::Seconds(10)));
      return FindMatches(read_.get(), tenant, keys, exclude, 20);
    });
    service_ = std::make_unique<CustomerServiceImpl>(commands_.get(), read_.get());
    int port = 0;
    server_ = test::Serve(service_.get(), &port);
    stub_ = CustomerService::NewStub(test::ChannelTo(port));
    Sync();
  }

  void Stop() {
    server_->Shutdown();
    server_.reset();
    service_.reset();
    scheduler_.reset();
    match_tailer_.reset();
    match_runner_.reset();
    drop_tailer_.reset();
    contributions_tailer_.reset();
    contributions_runner_.reset();
    list_tailer_.reset();
    drop_runner_.reset();
    list_runner_.reset();
    drop_index_.reset();
    commands_.reset();
    read_.reset();
    store_.reset();
  }

  // Brings the read models up to the log (the tailers' threads do this in
  // the service; tests step them for determinism).
  void Sync() {
    ASSERT_TRUE(list_tailer_->CatchUp().ok());
    ASSERT_TRUE(drop_tailer_->CatchUp().ok());
    ASSERT_TRUE(contributions_tailer_->CatchUp().ok());
  }
  int Tick() {
    Sync();
    int n = *scheduler_->Tick();
    Sync();
    return n;
  }

  static void As(grpc::ClientContext& ctx, const std::string& user, const std::string& roles = "") {
    test::Authorize(ctx, user, "acme", roles);
  }
  static void AsAdmin(grpc::ClientContext& ctx) { As(ctx, "boss", "manager, admin"); }

  grpc::Status Create(const std::string& user, const std::string& rid, v1::Customer* out,
                      bool public_pool = false, const std::string& company = "Acme GmbH") {
    v1::CreateCustomerRequest req;
    req.set_request_id(rid);
    req.set_into_public_pool(public_pool);
    auto* c = req.mutable_customer();
    c->set_company_name(company);
    c->set_industry("manufacturing");
    c->set_region("berlin");
    auto* kp = c->add_contacts();
    kp->set_name("Ann Lee");
    kp->set_email("Ann@Acme.example");
    kp->set_key_person(true);
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->CreateCustomer(&ctx, req, out);
  }
  grpc::Status Claim(const std::string& user, const std::string& id, const std::string& rid,
                     v1::Customer* out) {
    v1::ClaimCustomerRequest req;
    req.set_request_id(rid);
    req.set_name("customers/" + id);
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->ClaimCustomer(&ctx, req, out);
  }
  grpc::Status Touch(const std::string& user, const std::string& id, const std::string& rid,
                     const std::string& note, const std::string& contact_id = "",
                     v1::Touch* out = nullptr) {
    v1::RecordTouchRequest req;
    req.set_request_id(rid);
    req.set_customer("customers/" + id);
    req.mutable_touch()->set_channel(events::v1::TOUCH_CHANNEL_PHONE);
    req.mutable_touch()->set_note(note);
    req.mutable_touch()->set_contact_id(contact_id);
    v1::Touch ignored;
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->RecordTouch(&ctx, req, out ? out : &ignored);
  }
  grpc::Status File(const std::string& user, const std::string& disputed, const std::string& own,
                    const std::string& rid, v1::Conflict* out) {
    v1::FileConflictRequest req;
    req.set_request_id(rid);
    req.set_customer("customers/" + disputed);
    req.set_claimant_customer("customers/" + own);
    req.set_note("we met their buyer at the fair");
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->FileConflict(&ctx, req, out);
  }
  v1::Customer Get(const std::string& user, const std::string& id) {
    v1::GetCustomerRequest req;
    req.set_name("customers/" + id);
    v1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, user);
    EXPECT_TRUE(stub_->GetCustomer(&ctx, req, &out).ok());
    return out;
  }
  v1::RepPool Pool(const std::string& user) {
    v1::RepPool out;
    grpc::ClientContext ctx;
    As(ctx, user);
    EXPECT_TRUE(stub_->GetRepPool(&ctx, {}, &out).ok());
    return out;
  }
  std::vector<v1::Customer> List(const std::string& user, v1::ListCustomersRequest::Filter filter) {
    v1::ListCustomersRequest req;
    req.set_filter(filter);
    v1::ListCustomersResponse resp;
    grpc::ClientContext ctx;
    As(ctx, user);
    EXPECT_TRUE(stub_->ListCustomers(&ctx, req, &resp).ok());
    return {resp.customers().begin(), resp.customers().end()};
  }
  int CountEvents(const std::string& id, bool (CustomerEvent::*has)() const) {
    int n = 0;
    const auto stored = store_->ReadStream({"acme", id});
    for (const auto& e : *stored) {
      CustomerEvent ce;
      EXPECT_TRUE(eventstore::FromStored(e.type(), e.payload(), &ce).ok());
      n += (ce.*has)() ? 1 : 0;
    }
    return n;
  }

  test::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<readstore::ReadStore> read_;
  std::unique_ptr<CustomerCommandHandler> commands_;
  CustomerListProjection list_;
  std::unique_ptr<readstore::ProjectionRunner> list_runner_;
  std::unique_ptr<DropIndexProjection> drop_index_;
  std::unique_ptr<readstore::ProjectionRunner> drop_runner_;
  MatchIndexProjection match_;
  ContributionProjection contributions_;
  std::unique_ptr<readstore::ProjectionRunner> contributions_runner_;
  std::unique_ptr<bus::LogTailer> contributions_tailer_;
  std::unique_ptr<readstore::ProjectionRunner> match_runner_;
  std::unique_ptr<bus::LogTailer> list_tailer_, drop_tailer_, match_tailer_;
  std::unique_ptr<DropScheduler> scheduler_;
  std::unique_ptr<CustomerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CustomerService::Stub> stub_;
};

TEST_F(CustomerServiceTest, CreateGetAndBadInput) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  EXPECT_EQ(c.pool(), v1::POOL_STATE_PRIVATE);
  EXPECT_EQ(c.owner_id(), "rep-1");
  EXPECT_EQ(c.contacts(0).email(), "ann@acme.example");
  EXPECT_EQ(c.completeness(), 57);  // industry, region, KP, reach of 7 scored fields
  EXPECT_EQ(c.release_deadline().seconds(), absl::ToUnixSeconds(clock_.Now() + Days(30)));
  EXPECT_EQ(Get("rep-1", c.customer_id()).SerializeAsString(), c.SerializeAsString());

  v1::CreateCustomerRequest bad;
  bad.set_request_id("r2");
  bad.mutable_customer()->add_contacts()->set_email("x");
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  v1::Customer out;
  grpc::Status s = stub_->CreateCustomer(&ctx, bad, &out);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const google::rpc::BadRequest br = BadRequestOf(rpc::FromGrpcStatus(s));
  std::vector<std::string> fields;
  for (const auto& v : br.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields,
            (std::vector<std::string>{"customer.contacts[0].name", "customer.contacts[0].email",
                                      "customer.company_name"}));
  EXPECT_EQ(Pool("rep-1").size(), 1);  // nothing half-written
}

TEST_F(CustomerServiceTest, OthersSeeAPrivateCustomerAsNameAndOwnerOnly) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  v1::Customer seen = Get("rep-2", c.customer_id());
  EXPECT_TRUE(seen.restricted());
  EXPECT_EQ(seen.company_name(), "Acme GmbH");
  EXPECT_EQ(seen.owner_id(), "rep-1");
  EXPECT_EQ(seen.contacts_size(), 0);
  EXPECT_EQ(seen.industry(), "");
  Sync();
  auto listed = List("rep-2", v1::ListCustomersRequest::FILTER_UNSPECIFIED);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].restricted());
  EXPECT_EQ(listed[0].contacts_size(), 0);
  EXPECT_FALSE(List("rep-1", v1::ListCustomersRequest::FILTER_MY_POOL)[0].restricted());

  // An admin sees everything, history included.
  v1::GetCustomerRequest get;
  get.set_name(c.name());
  v1::Customer full;
  grpc::ClientContext ctx;
  AsAdmin(ctx);
  ASSERT_TRUE(stub_->GetCustomer(&ctx, get, &full).ok());
  EXPECT_FALSE(full.restricted());
  EXPECT_EQ(full.contacts_size(), 1);
  v1::ListCustomerHistoryRequest history;
  history.set_name(c.name());
  v1::ListCustomerHistoryResponse entries;
  grpc::ClientContext hctx;
  AsAdmin(hctx);
  ASSERT_TRUE(stub_->ListCustomerHistory(&hctx, history, &entries).ok());
  EXPECT_EQ(entries.entries_size(), 1);
}

TEST_F(CustomerServiceTest, OfTwoConcurrentClaimsExactlyOneWins) {
  constexpr int kCustomers = 15;
  std::vector<std::string> ids;
  for (int i = 0; i < kCustomers; ++i) {
    v1::Customer c;
    ASSERT_TRUE(Create("admin", absl::StrCat("c", i), &c, /*public_pool=*/true).ok());
    ids.push_back(c.customer_id());
  }
  std::atomic<int> wins{0}, refusals{0};
  for (const std::string& id : ids) {
    std::vector<std::thread> claimers;
    for (const std::string rep : {"rep-a", "rep-b"}) {
      claimers.emplace_back([&, rep] {
        v1::Customer out;
        grpc::Status s = Claim(rep, id, "claim-" + rep + id, &out);
        if (s.ok()) {
          ++wins;
        } else {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
          EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(s)), kNotInPublicPool);
          ++refusals;
        }
      });
    }
    for (auto& t : claimers) t.join();
  }
  EXPECT_EQ(wins.load(), kCustomers);
  EXPECT_EQ(refusals.load(), kCustomers);
  EXPECT_EQ(Pool("rep-a").size() + Pool("rep-b").size(), kCustomers);
}

TEST_F(CustomerServiceTest, CreateAndClaimAtCapacityAreRefused) {
  v1::SetRepCapacityRequest cap;
  cap.set_request_id("cap");
  cap.set_rep_id("rep-1");
  cap.set_capacity(2);
  cap.set_reason("penalty: low completeness");
  v1::RepPool pool;
  grpc::ClientContext rep;
  As(rep, "rep-1");
  EXPECT_EQ(stub_->SetRepCapacity(&rep, cap, &pool).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext ctx;
  AsAdmin(ctx);
  ASSERT_TRUE(stub_->SetRepCapacity(&ctx, cap, &pool).ok());
  EXPECT_EQ(pool.capacity(), 2);

  v1::Customer a, b, again, c;
  ASSERT_TRUE(Create("rep-1", "a", &a).ok());
  ASSERT_TRUE(Create("rep-1", "b", &b).ok());
  // A retry of an acknowledged create returns it and takes no room.
  ASSERT_TRUE(Create("rep-1", "b", &again).ok());
  EXPECT_EQ(again.customer_id(), b.customer_id());
  grpc::Status full = Create("rep-1", "c", &c);
  EXPECT_EQ(full.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(full)), kPoolFull);

  v1::Customer pub, claimed;
  ASSERT_TRUE(Create("admin", "pub", &pub, true).ok());
  grpc::Status claim = Claim("rep-1", pub.customer_id(), "claim", &claimed);
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(claim)), kPoolFull);
  EXPECT_EQ(Pool("rep-1").size(), 2);
}

// The handler keeps reps' pools in memory and reads only the events appended
// since; what another writer of the same store appended still counts.
TEST_F(CustomerServiceTest, APoolKeptInMemorySeesWhatAnotherWriterAppended) {
  v1::Customer first, second, third;
  ASSERT_TRUE(Create("rep-1", "first", &first, false, "First GmbH").ok());
  EXPECT_EQ(Pool("rep-1").size(), 1);
  CustomerCommandHandler other(store_.get(), &clock_, Policy{});
  for (int i = 0; i < 49; ++i) {
    CreateCustomer cmd;
    cmd.user = "rep-1";
    cmd.profile.set_company_name(absl::StrCat("Other ", i, " Ltd"));
    ASSERT_TRUE(other.Create("acme", absl::StrCat("other-", i), std::move(cmd)).ok());
  }
  EXPECT_EQ(Pool("rep-1").size(), 50);
  grpc::Status full = Create("rep-1", "third", &third, false, "Third GmbH");
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(full)), kPoolFull);
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  v1::ReleaseCustomerRequest release;
  release.set_request_id("release-first");
  release.set_name(first.name());
  v1::Customer released;
  ASSERT_TRUE(stub_->ReleaseCustomer(&ctx, release, &released).ok());
  EXPECT_EQ(Pool("rep-1").size(), 49);
  EXPECT_TRUE(Create("rep-1", "third", &third, false, "Third GmbH").ok());
}

TEST_F(CustomerServiceTest, ACustomerKeptInMemorySeesWhatAnotherWriterAppended) {
  v1::Customer created, claimed;
  ASSERT_TRUE(Create("rep-1", "kept", &created).ok());
  const std::string id = created.customer_id();
  EXPECT_EQ(Get("rep-1", id).owner_id(), "rep-1");  // the service keeps its state now
  CustomerCommandHandler other(store_.get(), &clock_, Policy{});
  ASSERT_TRUE(other.Release("acme", "other-release", id, "rep-1", "handing it on").ok());
  EXPECT_EQ(Get("rep-2", id).pool(), v1::POOL_STATE_PUBLIC);
  // Decided on the state with the release: the kept one has rep-1 owning it.
  ASSERT_TRUE(Claim("rep-2", id, "claim-after-release", &claimed).ok());
  EXPECT_EQ(claimed.owner_id(), "rep-2");
}

// Commands decide first on the customer as kept in memory, unread: one the
// store moved meanwhile (here through another handler) is read and decided
// again, whether the kept state would refuse the command or allow it.
TEST_F(CustomerServiceTest, ACommandOnAStaleKeptCustomerIsDecidedAgainOnItsStream) {
  v1::Customer created, claimed;
  ASSERT_TRUE(Create("rep-1", "stale", &created).ok());
  const std::string id = created.customer_id();
  ASSERT_TRUE(Touch("rep-1", id, "stale-touch-1", "first call").ok());
  CustomerCommandHandler other(store_.get(), &clock_, Policy{});
  ASSERT_TRUE(other.Release("acme", "stale-release", id, "rep-1", "handing it on").ok());
  // Kept: rep-1 owns it, which refuses rep-2's claim; the stream says public.
  ASSERT_TRUE(Claim("rep-2", id, "stale-claim", &claimed).ok());
  EXPECT_EQ(claimed.owner_id(), "rep-2");
  RecordTouch elsewhere;
  elsewhere.user = "rep-2";
  elsewhere.channel = ev::TOUCH_CHANNEL_EMAIL;
  elsewhere.note = "sent the offer";
  ASSERT_TRUE(other.RecordTouch("acme", "stale-touch-2", id, std::move(elsewhere)).ok());
  // Kept: the version before that touch, so the append is refused and redone.
  v1::Touch third;
  ASSERT_TRUE(Touch("rep-2", id, "stale-touch-3", "called back", "", &third).ok());
  EXPECT_EQ(third.note(), "called back");
  auto history = commands_->History("acme", id);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> touches;
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].version, static_cast<int64_t>(i + 1));
    if (absl::StrContains((*history)[i].type, "TouchRecorded")) {
      touches.push_back((*history)[i].owner_after);
    }
  }
  EXPECT_EQ(touches, (std::vector<std::string>{"rep-1", "rep-2", "rep-2"}));
  // A retry of the last touch appends nothing and answers with it.
  v1::Touch retried;
  ASSERT_TRUE(Touch("rep-2", id, "stale-touch-3", "called back", "", &retried).ok());
  EXPECT_EQ(retried.touch_id(), third.touch_id());
  EXPECT_EQ(commands_->History("acme", id)->size(), history->size());
}

TEST_F(CustomerServiceTest, ReleaseAndCoolDown) {
  v1::Customer c, out;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  v1::ReleaseCustomerRequest rel;
  rel.set_request_id("rel");
  rel.set_name(c.name());
  rel.set_note("not my territory");
  grpc::ClientContext other;
  As(other, "rep-2");
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(stub_->ReleaseCustomer(&other, rel, &out))), kNotOwner);
  grpc::ClientContext owner;
  As(owner, "rep-1");
  ASSERT_TRUE(stub_->ReleaseCustomer(&owner, rel, &out).ok());
  EXPECT_EQ(out.pool(), v1::POOL_STATE_PUBLIC);
  EXPECT_EQ(Pool("rep-1").size(), 0);
  Sync();
  ASSERT_EQ(List("rep-3", v1::ListCustomersRequest::FILTER_PUBLIC_POOL).size(), 1u);

  clock_.Advance(Days(1));
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(Claim("rep-1", c.customer_id(), "back", &out))),
            kCoolDown);
  clock_.Advance(Days(6));
  EXPECT_TRUE(Claim("rep-1", c.customer_id(), "back-later", &out).ok());
}

TEST_F(CustomerServiceTest, TouchesJudgeValidFollowUpsAndMoveTheDeadline) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  auto touch = [&](const std::string& rid, events::v1::TouchChannel ch, const std::string& note) {
    v1::RecordTouchRequest req;
    req.set_request_id(rid);
    req.set_customer(c.name());
    req.mutable_touch()->set_channel(ch);
    req.mutable_touch()->set_note(note);
    v1::Touch out;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    EXPECT_TRUE(stub_->RecordTouch(&ctx, req, &out).ok());
    return out;
  };
  clock_.Advance(Days(10));
  v1::Touch thin = touch("t1", events::v1::TOUCH_CHANNEL_PHONE, "keep following");
  EXPECT_FALSE(thin.valid());
  EXPECT_NE(thin.invalid_reason(), "");
  EXPECT_EQ(Get("rep-1", c.customer_id()).release_deadline().seconds(),
            c.release_deadline().seconds());
  v1::Touch meeting = touch("t2", events::v1::TOUCH_CHANNEL_MEETING, "");
  EXPECT_TRUE(meeting.valid());
  // A retry returns the same touch, field for field (the first call answers
  // from its decision, the retry from the log), and records nothing new.
  EXPECT_EQ(touch("t2", events::v1::TOUCH_CHANNEL_MEETING, "").SerializeAsString(),
            meeting.SerializeAsString());
  EXPECT_EQ(CountEvents(c.customer_id(), &CustomerEvent::has_touch_recorded), 2);
  EXPECT_EQ(Get("rep-1", c.customer_id()).release_deadline().seconds(),
            c.release_deadline().seconds() + absl::ToInt64Seconds(Days(10)));
  // Retries sent at once: one touch is recorded and every call answers it.
  std::vector<v1::Touch> answers(8);
  std::vector<std::thread> retries;
  for (v1::Touch& answer : answers) {
    retries.emplace_back(
        [&] { answer = touch("t3", events::v1::TOUCH_CHANNEL_MEETING, "at once"); });
  }
  for (auto& t : retries) t.join();
  for (const v1::Touch& answer : answers) {
    EXPECT_EQ(answer.SerializeAsString(), answers.front().SerializeAsString());
  }
  EXPECT_EQ(CountEvents(c.customer_id(), &CustomerEvent::has_touch_recorded), 3);
}

TEST_F(CustomerServiceTest, UpdateWithFieldMaskAndEtag) {
  v1::Customer c, out;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  v1::UpdateCustomerRequest req;
  req.set_request_id("u1");
  req.mutable_customer()->set_name(c.name());
  req.mutable_customer()->set_etag(c.etag());
  req.mutable_customer()->set_annual_revenue(5'000'000);
  req.mutable_customer()->set_industry("ignored: not in the mask");
  req.mutable_update_mask()->add_paths("annual_revenue");
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(stub_->UpdateCustomer(&ctx, req, &out).ok());
  EXPECT_EQ(out.annual_revenue(), 5'000'000);
  EXPECT_EQ(out.industry(), "manufacturing");
  EXPECT_GT(out.completeness(), c.completeness());
  // The old etag is stale now.
  req.set_request_id("u2");
  grpc::ClientContext stale;
  As(stale, "rep-1");
  EXPECT_EQ(stub_->UpdateCustomer(&stale, req, &out).error_code(), grpc::StatusCode::ABORTED);
}

// SMB: released after 30 days without a valid follow-up: not on day 30, on
// day 31; the owner is warned first; the customer lands in the public pool.
TEST_F(CustomerServiceTest, DropProtectionReleasesOnDayThirtyOneNotThirty) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  clock_.Advance(Days(27.5));
  EXPECT_EQ(Tick(), 1);  // the warning
  EXPECT_EQ(CountEvents(c.customer_id(), &CustomerEvent::has_drop_warning_issued), 1);
  EXPECT_EQ(Get("rep-1", c.customer_id()).pool(), v1::POOL_STATE_PRIVATE);
  // The warning reaches the owner as a reminder, and only the owner.
  auto reminders = [&](const std::string& user) {
    v1::ListRemindersResponse resp;
    grpc::ClientContext ctx;
    As(ctx, user);
    EXPECT_TRUE(stub_->ListReminders(&ctx, {}, &resp).ok());
    return resp;
  };
  ASSERT_EQ(reminders("rep-1").reminders_size(), 1);
  EXPECT_EQ(reminders("rep-1").reminders(0).customer(), c.name());
  EXPECT_EQ(reminders("rep-1").reminders(0).company_name(), "Acme GmbH");
  EXPECT_EQ(reminders("rep-1").reminders(0).due_time().seconds(), c.release_deadline().seconds());
  EXPECT_EQ(reminders("rep-2").reminders_size(), 0);
  clock_.Advance(Days(2.5));  // exactly day 30
  EXPECT_EQ(Tick(), 0);
  EXPECT_EQ(Get("rep-1", c.customer_id()).pool(), v1::POOL_STATE_PRIVATE);
  clock_.Advance(Days(1));  // day 31
  EXPECT_EQ(Tick(), 1);
  v1::Customer after = Get("rep-2", c.customer_id());
  EXPECT_EQ(after.pool(), v1::POOL_STATE_PUBLIC);
  EXPECT_FALSE(after.restricted());
  EXPECT_EQ(Pool("rep-1").size(), 0);
  auto pub = List("rep-2", v1::ListCustomersRequest::FILTER_PUBLIC_POOL);
  ASSERT_EQ(pub.size(), 1u);
  EXPECT_EQ(pub[0].customer_id(), c.customer_id());
  EXPECT_EQ(Tick(), 0);
  EXPECT_EQ(CountEvents(c.customer_id(), &CustomerEvent::has_released), 1);
  EXPECT_EQ(reminders("rep-1").reminders_size(), 0);  // released: nothing left to do
}

// A valid follow-up after the warning moves the deadline and clears the reminder.
TEST_F(CustomerServiceTest, FollowingUpClearsTheReminder) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  clock_.Advance(Days(28));
  EXPECT_EQ(Tick(), 1);
  v1::ListRemindersResponse before, after;
  grpc::ClientContext b;
  As(b, "rep-1");
  ASSERT_TRUE(stub_->ListReminders(&b, {}, &before).ok());
  ASSERT_EQ(before.reminders_size(), 1);
  v1::RecordTouchRequest req;
  req.set_request_id("meet");
  req.set_customer(c.name());
  req.mutable_touch()->set_channel(events::v1::TOUCH_CHANNEL_MEETING);
  v1::Touch touch;
  grpc::ClientContext t;
  As(t, "rep-1");
  ASSERT_TRUE(stub_->RecordTouch(&t, req, &touch).ok());
  Sync();
  grpc::ClientContext a;
  As(a, "rep-1");
  ASSERT_TRUE(stub_->ListReminders(&a, {}, &after).ok());
  EXPECT_EQ(after.reminders_size(), 0);
  clock_.Advance(Days(3));  // past the old deadline: nothing happens
  EXPECT_EQ(Tick(), 0);
  EXPECT_EQ(Get("rep-1", c.customer_id()).pool(), v1::POOL_STATE_PRIVATE);
}

// The deadline index is durable: a service down over the deadline releases
// on restart, exactly once, however often it ticks and restarts.
TEST_F(CustomerServiceTest, RestartMissesNoDeadlineAndFiresNoneTwice) {
  v1::Customer a, b;
  ASSERT_TRUE(Create("rep-1", "a", &a).ok());
  ASSERT_TRUE(Create("rep-1", "b", &b).ok());
  Sync();
  Stop();
  clock_.Advance(Days(31));
  Start();
  EXPECT_EQ(Tick(), 2);
  EXPECT_EQ(Tick(), 0);
  Stop();
  Start();
  EXPECT_EQ(Tick(), 0);
  for (const auto& id : {a.customer_id(), b.customer_id()}) {
    EXPECT_EQ(CountEvents(id, &CustomerEvent::has_released), 1);
    EXPECT_EQ(Get("rep-1", id).pool(), v1::POOL_STATE_PUBLIC);
  }
  EXPECT_EQ(Pool("rep-1").size(), 0);
}

// Time travel: who owned the customer on a given day, and what its profile
// was then; the new owner sees everything that happened before the hand-over.
TEST_F(CustomerServiceTest, AsOfAndHistoryShowWhatHappenedBeforeTheHandOver) {
  const absl::Time t0 = clock_.Now();
  v1::Customer c, out;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  clock_.Advance(Days(2));
  v1::UpdateCustomerRequest up;
  up.set_request_id("u1");
  up.mutable_customer()->set_name(c.name());
  up.mutable_customer()->set_legal_entity_id("91110000ABC");
  up.mutable_update_mask()->add_paths("legal_entity_id");
  grpc::ClientContext uctx;
  As(uctx, "rep-1");
  ASSERT_TRUE(stub_->UpdateCustomer(&uctx, up, &out).ok());
  clock_.Advance(Days(2));
  v1::ReleaseCustomerRequest rel;
  rel.set_request_id("rel");
  rel.set_name(c.name());
  rel.set_note("moving to KA team");
  grpc::ClientContext rctx;
  As(rctx, "rep-1");
  ASSERT_TRUE(stub_->ReleaseCustomer(&rctx, rel, &out).ok());
  clock_.Advance(Days(1));
  ASSERT_TRUE(Claim("rep-2", c.customer_id(), "claim", &out).ok());

  auto as_of = [&](absl::Time t, const std::string& viewer) {
    v1::GetCustomerRequest req;
    req.set_name(c.name());
    req.mutable_as_of()->set_seconds(absl::ToUnixSeconds(t));
    v1::Customer then;
    grpc::ClientContext ctx;
    As(ctx, viewer);
    grpc::Status s = stub_->GetCustomer(&ctx, req, &then);
    EXPECT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND) << s.error_message();
    return s.ok() ? then : v1::Customer();
  };
  v1::Customer day1 = as_of(t0 + Days(1), "rep-2");
  EXPECT_EQ(day1.owner_id(), "rep-1");
  EXPECT_EQ(day1.legal_entity_id(), "");  // not entered yet
  EXPECT_FALSE(day1.restricted());        // rep-2 owns it now
  EXPECT_EQ(day1.contacts_size(), 1);
  EXPECT_EQ(as_of(t0 + Days(3), "rep-2").legal_entity_id(), "91110000ABC");
  EXPECT_EQ(as_of(t0 + Days(4.5), "rep-2").pool(), v1::POOL_STATE_PUBLIC);
  EXPECT_EQ(as_of(t0 + Days(6), "rep-2").owner_id(), "rep-2");
  EXPECT_EQ(as_of(t0 - Days(1), "rep-2").customer_id(), "");  // NOT_FOUND before creation
  // Others still see only name and owner, then as now.
  EXPECT_TRUE(as_of(t0 + Days(1), "rep-3").restricted());
  EXPECT_EQ(as_of(t0 + Days(1), "rep-3").owner_id(), "rep-1");

  v1::ListCustomerHistoryRequest hreq;
  hreq.set_name(c.name());
  hreq.set_page_size(3);
  v1::ListCustomerHistoryResponse page1, page2;
  grpc::ClientContext h1;
  As(h1, "rep-2");
  ASSERT_TRUE(stub_->ListCustomerHistory(&h1, hreq, &page1).ok());
  ASSERT_EQ(page1.entries_size(), 3);
  EXPECT_EQ(page1.entries(0).actor(), "rep-1");
  EXPECT_EQ(page1.entries(1).changed_fields(0), "legal_entity_id");
  EXPECT_NE(page1.entries(2).summary().find("moving to KA team"), std::string::npos);
  EXPECT_EQ(page1.entries(2).owner_id(), "");
  hreq.set_page_token(page1.next_page_token());
  grpc::ClientContext h2;
  As(h2, "rep-2");
  ASSERT_TRUE(stub_->ListCustomerHistory(&h2, hreq, &page2).ok());
  ASSERT_EQ(page2.entries_size(), 1);
  EXPECT_EQ(page2.entries(0).owner_id(), "rep-2");
  EXPECT_EQ(page2.next_page_token(), "");
  // Another rep may not read the history of rep-2's private customer.
  hreq.clear_page_token();
  v1::ListCustomerHistoryResponse denied;
  grpc::ClientContext h3;
  As(h3, "rep-3");
  EXPECT_EQ(stub_->ListCustomerHistory(&h3, hreq, &denied).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CustomerServiceTest, CreateAndClaimDetectOtherRecordsOfTheSameCompany) {
  v1::Customer first, second, other, pub, claimed;
  ASSERT_TRUE(Create("rep-1", "r1", &first).ok());
  EXPECT_EQ(first.conflicts_size(), 0);
  ASSERT_TRUE(Create("rep-2", "r2", &other, false, "Globex").ok());
  // Same company under another spelling; the KP's email matches too.
  ASSERT_TRUE(Create("rep-2", "r3", &second, false, "ACME gmbh.").ok());
  // first, and Globex whose KP has the same email.
  ASSERT_EQ(second.conflicts_size(), 2) << second.DebugString();
  std::map<std::string, events::v1::ConflictMatch> found;
  for (const auto& m : second.conflicts()) found[m.customer_id()] = m;
  const auto& same = found[first.customer_id()];
  EXPECT_EQ(same.owner_id(), "rep-1");
  EXPECT_EQ(std::vector<std::string>(same.keys().begin(), same.keys().end()),
            (std::vector<std::string>{"company_name", "key_person_email"}));
  EXPECT_EQ(found[other.customer_id()].keys_size(), 1);
  EXPECT_EQ(found[other.customer_id()].keys(0), "key_person_email");
  EXPECT_EQ(CountEvents(second.customer_id(), &CustomerEvent::has_conflict_detected), 1);
  // Others see neither contacts nor matches of a private customer.
  EXPECT_EQ(Get("rep-1", second.customer_id()).conflicts_size(), 0);

  // Claiming from the public pool detects too.
  ASSERT_TRUE(Create("rep-3", "r4", &pub, true, "Acme").ok());
  ASSERT_TRUE(Claim("rep-3", pub.customer_id(), "c1", &claimed).ok());
  EXPECT_EQ(claimed.conflicts_size(), 3);
  EXPECT_EQ(CountEvents(pub.customer_id(), &CustomerEvent::has_conflict_detected), 2);
}

TEST_F(CustomerServiceTest, ConflictClaimIsJudgedWithEvidenceAndOwnershipMoves) {
  v1::Customer mine, theirs;
  ASSERT_TRUE(Create("rep-1", "r1", &theirs).ok());
  ASSERT_TRUE(Create("rep-2", "r2", &mine).ok());
  clock_.Advance(Days(1));
  const std::string solid = "Demoed the line to their buyer; trial next week";
  ASSERT_TRUE(Touch("rep-1", theirs.customer_id(), "t1", "keep following").ok());
  ASSERT_TRUE(Touch("rep-2", mine.customer_id(), "t2", solid, "k1").ok());
  clock_.Advance(Days(1));
  ASSERT_TRUE(Touch("rep-1", theirs.customer_id(), "t3", solid).ok());
  // A touch names one of the customer's own contacts.
  grpc::Status bad = Touch("rep-2", mine.customer_id(), "t4", solid, "k9");
  ASSERT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestOf(rpc::FromGrpcStatus(bad)).field_violations(0).field(), "touch.contact_id");

  v1::Conflict conflict;
  ASSERT_TRUE(File("rep-2", theirs.customer_id(), mine.customer_id(), "f1", &conflict).ok());
  const auto& v = conflict.verdict();
  EXPECT_EQ(v.rule_version(), kSmbRule);
  EXPECT_EQ(v.winner_id(), "rep-2");
  EXPECT_EQ(v.loser_id(), "rep-1");
  EXPECT_EQ(v.incumbent().thin_follow_ups(), 1);
  EXPECT_EQ(v.claimant().version(), 3);  // created, conflict detected, touched
  EXPECT_TRUE(v.claimant().key_person_reached());
  ASSERT_GE(v.evidence_size(), 2);
  EXPECT_EQ(v.evidence(0).rep_id(), "rep-1");
  EXPECT_EQ(v.evidence(0).fact(), "first valid follow-up (TOUCH_CHANNEL_PHONE)");
  EXPECT_EQ(v.records_read_size(), 2);

  // Ownership moved by event, pools included; the winner holds both records.
  EXPECT_EQ(Get("rep-2", theirs.customer_id()).owner_id(), "rep-2");
  EXPECT_EQ(Pool("rep-1").size(), 0);
  EXPECT_EQ(Pool("rep-2").size(), 2);
  EXPECT_EQ(CountEvents(theirs.customer_id(), &CustomerEvent::has_conflict_settled), 1);
  Sync();
  EXPECT_EQ(List("rep-2", v1::ListCustomersRequest::FILTER_MY_POOL).size(), 2u);

  // A retry returns the same verdict and moves nothing again.
  v1::Conflict again;
  ASSERT_TRUE(File("rep-2", theirs.customer_id(), mine.customer_id(), "f1", &again).ok());
  EXPECT_EQ(again.SerializeAsString(), conflict.SerializeAsString());
  EXPECT_EQ(CountEvents(theirs.customer_id(), &CustomerEvent::has_conflict_settled), 1);

  // Both parties can read the verdict; nobody else.
  for (const std::string user : {"rep-1", "rep-3"}) {
    v1::GetConflictRequest req;
    req.set_name(conflict.name());
    v1::Conflict read;
    grpc::ClientContext ctx;
    As(ctx, user);
    grpc::Status s = stub_->GetConflict(&ctx, req, &read);
    if (user == "rep-1") {
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(read.SerializeAsString(), conflict.SerializeAsString());
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    }
  }
  // The loser can no longer dispute with a record that left their pool.
  v1::Conflict back;
  grpc::Status s = File("rep-1", mine.customer_id(), theirs.customer_id(), "f2", &back);
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(s)), kNotOwner);
}

TEST_F(CustomerServiceTest, ReservationsHoldUntilDayThirtyUnlessEnrichedToTheTarget) {
  v1::Customer kept, lapsing, out;
  ASSERT_TRUE(Create("rep-3", "p1", &kept, true, "Kept Co").ok());
  ASSERT_TRUE(Create("rep-3", "p2", &lapsing, true, "Lapsing Co").ok());
  auto reserve = [&](const std::string& user, const std::string& id, const std::string& rid) {
    v1::ReserveCustomerRequest req;
    req.set_request_id(rid);
    req.set_name("customers/" + id);
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->ReserveCustomer(&ctx, req, &out);
  };
  ASSERT_TRUE(reserve("rep-1", kept.customer_id(), "v1").ok());
  EXPECT_EQ(out.reserved_by(), "rep-1");
  EXPECT_EQ(out.reservation_expire_time().seconds(), absl::ToUnixSeconds(clock_.Now() + Days(30)));
  ASSERT_TRUE(reserve("rep-1", lapsing.customer_id(), "v2").ok());
  ASSERT_TRUE(reserve("rep-1", lapsing.customer_id(), "v2").ok());  // a retry
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(reserve("rep-2", kept.customer_id(), "v3"))),
            kReserved);
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(Claim("rep-2", kept.customer_id(), "c1", &out))),
            kReserved);
  v1::RepPool pool = Pool("rep-1");
  EXPECT_EQ(pool.size(), 0);
  EXPECT_EQ(pool.reservations(), 2);
  EXPECT_EQ(pool.reservation_limit(), 250);

  // The reserver enriches one to the target; it no longer lapses.
  clock_.Advance(Days(10));
  v1::UpdateCustomerRequest up;
  up.set_request_id("u1");
  up.mutable_customer()->set_name(kept.name());
  up.mutable_customer()->set_legal_entity_id("91110000KEPT");
  up.mutable_customer()->set_size(events::v1::COMPANY_SIZE_11_50);
  up.mutable_customer()->set_annual_revenue(2'000'000);
  for (const char* path : {"legal_entity_id", "size", "annual_revenue"}) {
    up.mutable_update_mask()->add_paths(path);
  }
  grpc::ClientContext uctx;
  As(uctx, "rep-1");
  ASSERT_TRUE(stub_->UpdateCustomer(&uctx, up, &out).ok());
  EXPECT_EQ(out.completeness(), 100);
  EXPECT_TRUE(out.reservation_secured());

  // Day 30 to the second: still held. Just past it: the other one lapses.
  clock_.Advance(Days(17));
  v1::ListRemindersResponse reminders;
  grpc::ClientContext rctx;
  As(rctx, "rep-1");
  ASSERT_TRUE(stub_->ListReminders(&rctx, {}, &reminders).ok());
  ASSERT_EQ(reminders.reminders_size(), 1);  // the unsecured one, 3 days ahead
  EXPECT_EQ(reminders.reminders(0).customer(), lapsing.name());
  EXPECT_EQ(reminders.reminders(0).rule(), "reservation-lapse");
  clock_.Advance(Days(3));
  EXPECT_EQ(Tick(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Tick(), 1);
  EXPECT_EQ(Get("rep-2", lapsing.customer_id()).reserved_by(), "");
  EXPECT_EQ(Get("rep-2", kept.customer_id()).reserved_by(), "rep-1");
  EXPECT_EQ(Pool("rep-1").reservations(), 1);
  EXPECT_TRUE(Claim("rep-2", lapsing.customer_id(), "c2", &out).ok());
  // Only the reserver may give a reservation up; doing so frees its slot.
  auto cancel = [&](const std::string& user, const std::string& rid) {
    v1::CancelReservationRequest req;
    req.set_request_id(rid);
    req.set_name(kept.name());
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->CancelReservation(&ctx, req, &out);
  };
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(cancel("rep-2", "x1"))), kNotOwner);
  ASSERT_TRUE(cancel("rep-1", "x2").ok());
  EXPECT_EQ(out.reserved_by(), "");
  EXPECT_EQ(Pool("rep-1").reservations(), 0);
  ASSERT_TRUE(reserve("rep-1", kept.customer_id(), "v4").ok());
  // The reserver claims the kept one into their private pool.
  ASSERT_TRUE(Claim("rep-1", kept.customer_id(), "c3", &out).ok());
  EXPECT_EQ(out.reserved_by(), "");
  pool = Pool("rep-1");
  EXPECT_EQ(pool.size(), 1);
  EXPECT_EQ(pool.reservations(), 0);
}

TEST_F(CustomerServiceTest, SalesFactsDriveTiersScoresAndSegments) {
  std::map<std::string, v1::Customer> c;
  for (const char* name : {"Big", "Grower", "Flat", "Small", "Quiet"}) {
    ASSERT_TRUE(Create("rep-1", name, &c[name], false, name).ok());
  }
  auto sales = [&](const std::string& user, const std::string& name, int year, int64_t amount) {
    v1::RecordAnnualSalesRequest req;
    req.set_request_id(absl::StrCat(name, year, user, amount));
    req.set_customer(c[name].name());
    req.mutable_sales()->set_year(year);
    req.mutable_sales()->set_amount(amount);
    v1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->RecordAnnualSales(&ctx, req, &out);
  };
  ASSERT_TRUE(sales("rep-1", "Big", 2025, 1'000'000).ok());
  for (auto [year, amount] : {std::pair{2023, 100'000}, {2024, 120'000}, {2025, 140'000}}) {
    ASSERT_TRUE(sales("rep-1", "Grower", year, amount).ok());
    ASSERT_TRUE(sales("rep-1", "Flat", year, 100'000).ok());
  }
  EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(sales("rep-2", "Small", 2025, 1))), kNotOwner);
  grpc::Status bad = sales("rep-1", "Small", 1800, -1);
  EXPECT_EQ(BadRequestOf(rpc::FromGrpcStatus(bad)).field_violations_size(), 2);
  Sync();
  // 5 customers: the top 20% is one.
  v1::Customer big = Get("rep-1", c["Big"].customer_id());
  EXPECT_EQ(big.tier(), events::v1::TIER_A);
  EXPECT_EQ(big.score(), 29 + 30);  // completeness 57, no follow-up
  EXPECT_EQ(big.annual_sales(0).amount(), 1'000'000);
  EXPECT_EQ(Get("rep-1", c["Grower"].customer_id()).tier(), events::v1::TIER_B);
  EXPECT_EQ(Get("rep-1", c["Flat"].customer_id()).tier(), events::v1::TIER_C);
  EXPECT_EQ(Get("rep-2", c["Big"].customer_id()).tier(), events::v1::TIER_UNSPECIFIED);

  // A year's figure is corrected, and the tiers follow.
  ASSERT_TRUE(sales("rep-1", "Grower", 2024, 130'000).ok());
  ASSERT_TRUE(sales("rep-1", "Grower", 2024, 110'000).ok());  // 10% exactly: still B
  Sync();
  EXPECT_EQ(Get("rep-1", c["Grower"].customer_id()).tier(), events::v1::TIER_B);
  ASSERT_TRUE(sales("rep-1", "Grower", 2025, 120'000).ok());  // 9%: no longer B
  Sync();
  EXPECT_EQ(Get("rep-1", c["Grower"].customer_id()).tier(), events::v1::TIER_C);
  // Ten customers: the top 20% is two, the second largest sales included.
  for (int i = 0; i < 5; ++i) {
    v1::Customer extra;
    ASSERT_TRUE(Create("rep-2", absl::StrCat("extra-", i), &extra, false, "Extra").ok());
  }
  Sync();
  EXPECT_EQ(Get("rep-1", c["Grower"].customer_id()).tier(), events::v1::TIER_A);

  v1::CreateSegmentRequest create;
  create.set_request_id("seg1");
  create.mutable_segment()->set_display_name("A and B not followed up");
  create.mutable_segment()->mutable_rule()->add_tiers(events::v1::TIER_A);
  create.mutable_segment()->mutable_rule()->add_tiers(events::v1::TIER_B);
  *create.mutable_segment()->mutable_rule()->mutable_last_touch_before() =
      ToTimestamp(clock_.Now());
  v1::Segment segment;
  grpc::ClientContext sctx;
  As(sctx, "rep-1");
  ASSERT_TRUE(stub_->CreateSegment(&sctx, create, &segment).ok());
  EXPECT_EQ(segment.creator(), "rep-1");
  Sync();
  auto members = [&](const std::string& user, int page_size) {
    std::vector<std::string> names;
    v1::ListSegmentCustomersRequest req;
    req.set_segment(segment.name());
    req.set_page_size(page_size);
    do {
      v1::ListCustomersResponse resp;
      grpc::ClientContext ctx;
      As(ctx, user);
      EXPECT_TRUE(stub_->ListSegmentCustomers(&ctx, req, &resp).ok());
      for (const auto& m : resp.customers()) names.push_back(m.company_name());
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    std::sort(names.begin(), names.end());
    return names;
  };
  EXPECT_EQ(members("rep-1", 1), (std::vector<std::string>{"Big", "Grower"}));
  EXPECT_TRUE(members("rep-2", 10).empty());  // another rep's private customers
  v1::ListSegmentsResponse all;
  grpc::ClientContext lctx;
  As(lctx, "rep-2");
  ASSERT_TRUE(stub_->ListSegments(&lctx, {}, &all).ok());
  ASSERT_EQ(all.segments_size(), 1);
  EXPECT_EQ(all.segments(0).name(), segment.name());

  v1::CreateSegmentRequest empty;
  empty.set_request_id("seg2");
  empty.mutable_segment()->set_display_name("everything");
  grpc::ClientContext ectx;
  As(ectx, "rep-1");
  grpc::Status refused = stub_->CreateSegment(&ectx, empty, &segment);
  EXPECT_EQ(BadRequestOf(rpc::FromGrpcStatus(refused)).field_violations(0).field(), "segment.rule");
}

TEST_F(CustomerServiceTest, ATierCustomerWithoutFollowUpForFourteenDaysIsAMomentOfTruth) {
  v1::Customer big, out;
  ASSERT_TRUE(Create("rep-1", "r1", &big, false, "Big").ok());
  v1::RecordAnnualSalesRequest req;
  req.set_request_id("s1");
  req.set_customer(big.name());
  req.mutable_sales()->set_year(2025);
  req.mutable_sales()->set_amount(5'000'000);
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(stub_->RecordAnnualSales(&ctx, req, &out).ok());
  auto mots = [&] {
    Sync();
    v1::ListRemindersResponse resp;
    grpc::ClientContext c;
    As(c, "rep-1");
    EXPECT_TRUE(stub_->ListReminders(&c, {}, &resp).ok());
    std::vector<v1::Reminder> found;
    for (const auto& r : resp.reminders()) {
      if (r.rule() == kMotATierNoTouch) found.push_back(r);
    }
    return found;
  };
  clock_.Advance(Days(14) - absl::Seconds(1));
  EXPECT_TRUE(mots().empty());
  clock_.Advance(absl::Seconds(1));
  auto due = mots();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].customer(), big.name());
  EXPECT_NE(due[0].message().find("A-tier"), std::string::npos);
  ASSERT_TRUE(
      Touch("rep-1", big.customer_id(), "t1", "Quarterly review booked with the buyer").ok());
  EXPECT_TRUE(mots().empty());
}

TEST_F(CustomerServiceTest, LostConflictsAndThinDataCutCapacityAutomatically) {
  // rep-1 loses three conflicts: thin follow-ups against rep-2's valid ones.
  for (int i = 0; i < 3; ++i) {
    const std::string company = absl::StrCat("Disputed ", i);
    v1::Customer theirs, mine;
    ASSERT_TRUE(Create("rep-1", absl::StrCat("a", i), &theirs, false, company).ok());
    ASSERT_TRUE(Create("rep-2", absl::StrCat("b", i), &mine, false, company).ok());
    ASSERT_TRUE(Touch("rep-2", mine.customer_id(), absl::StrCat("t", i),
                      "Walked the plant with their operations lead")
                    .ok());
    v1::Conflict verdict;
    ASSERT_TRUE(
        File("rep-2", theirs.customer_id(), mine.customer_id(), absl::StrCat("f", i), &verdict)
            .ok());
    EXPECT_EQ(verdict.verdict().loser_id(), "rep-1");
    clock_.Advance(Days(1));
  }
  v1::RepPool loser = Pool("rep-1");
  EXPECT_EQ(loser.recent_conflicts_lost(), 3);
  EXPECT_EQ(loser.capacity(), 45);

  // rep-3 keeps five thin customers (a name only): the review cuts capacity
  // once per period and logs it.
  for (int i = 0; i < 5; ++i) {
    v1::CreateCustomerRequest req;
    req.set_request_id(absl::StrCat("thin", i));
    req.mutable_customer()->set_company_name(absl::StrCat("Thin ", i));
    v1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, "rep-3");
    ASSERT_TRUE(stub_->CreateCustomer(&ctx, req, &out).ok());
  }
  Sync();
  StandingReviewer reviewer(read_.get(), commands_.get());
  ASSERT_TRUE(reviewer.Tick().ok());
  EXPECT_EQ(Pool("rep-3").capacity(), 45);
  EXPECT_FALSE(Pool("rep-3").lead_priority());
  EXPECT_EQ(*reviewer.Tick(), 0);  // reviewed this period already
  EXPECT_EQ(Pool("rep-3").capacity(), 45);
  int penalties = 0;
  const auto stored = store_->ReadStream({"acme", PoolStreamId("rep-3")});
  ASSERT_TRUE(stored.ok());
  for (const auto& e : *stored) {
    RepPoolEvent pe;
    ASSERT_TRUE(eventstore::FromStored(e.type(), e.payload(), &pe).ok());
    if (pe.has_penalty_applied()) {
      ++penalties;
      EXPECT_EQ(pe.penalty_applied().reason(), events::v1::PENALTY_REASON_LOW_COMPLETENESS);
    }
  }
  EXPECT_EQ(penalties, 1);
}

TEST_F(CustomerServiceTest, TheContributionLedgerSaysWhoSetWhichFieldWhen) {
  v1::Customer c, out;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  auto update = [&](const std::string& user, const std::string& rid, const char* path,
                    const std::string& value) {
    v1::UpdateCustomerRequest req;
    req.set_request_id(rid);
    req.mutable_customer()->set_name(c.name());
    if (std::string(path) == "industry") req.mutable_customer()->set_industry(value);
    if (std::string(path) == "region") req.mutable_customer()->set_region(value);
    req.mutable_update_mask()->add_paths(path);
    grpc::ClientContext ctx;
    As(ctx, user);
    return stub_->UpdateCustomer(&ctx, req, &out);
  };
  clock_.Advance(Days(1));
  ASSERT_TRUE(update("rep-1", "u1", "industry", "chemicals").ok());
  clock_.Advance(Days(1));
  v1::ReleaseCustomerRequest rel;
  rel.set_request_id("rel");
  rel.set_name(c.name());
  grpc::ClientContext rctx;
  As(rctx, "rep-1");
  ASSERT_TRUE(stub_->ReleaseCustomer(&rctx, rel, &out).ok());
  ASSERT_TRUE(Claim("rep-2", c.customer_id(), "claim", &out).ok());
  clock_.Advance(Days(1));
  ASSERT_TRUE(update("rep-2", "u2", "region", "hamburg").ok());
  Sync();

  auto ledger = [&](const std::string& user, const std::string& rep, const std::string& customer,
                    grpc::Status* status = nullptr) {
    std::vector<v1::Contribution> all;
    v1::ListContributionsRequest req;
    req.set_rep_id(rep);
    req.set_customer(customer);
    req.set_page_size(1);
    do {
      v1::ListContributionsResponse resp;
      grpc::ClientContext ctx;
      As(ctx, user);
      grpc::Status s = stub_->ListContributions(&ctx, req, &resp);
      if (status) *status = s;
      if (!s.ok()) break;
      all.insert(all.end(), resp.contributions().begin(), resp.contributions().end());
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    return all;
  };
  auto of_customer = ledger("rep-2", "", c.name());
  ASSERT_EQ(of_customer.size(), 3u);
  EXPECT_EQ(of_customer[0].rep_id(), "rep-1");  // creation: every filled field
  EXPECT_EQ(of_customer[1].rep_id(), "rep-1");
  EXPECT_EQ(of_customer[1].fields(0), "industry");
  EXPECT_EQ(of_customer[1].time().seconds(), absl::ToUnixSeconds(clock_.Now() - Days(2)));
  EXPECT_EQ(of_customer[2].rep_id(), "rep-2");
  EXPECT_EQ(of_customer[2].fields(0), "region");
  auto by_rep = ledger("rep-2", "rep-2", "");
  ASSERT_EQ(by_rep.size(), 1u);
  EXPECT_EQ(by_rep[0].customer(), c.name());
  EXPECT_EQ(ledger("rep-1", "rep-1", "").size(), 2u);

  grpc::Status s;
  ledger("rep-2", "rep-1", "", &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ledger("rep-1", "", c.name(), &s);  // now rep-2's private customer
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ledger("rep-1", "rep-1", c.name(), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CustomerServiceTest, EachTenantHasItsOwnRulesAndDeadlinesFollowAChange) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  const absl::Time created = clock_.Now();
  auto update = [&](bool admin, v1::TenantPolicy* out) {
    v1::UpdateTenantPolicyRequest req;
    req.set_request_id(admin ? "p1" : "p0");
    req.mutable_settings()->add_mandatory_fields("company_name");
    req.mutable_settings()->add_mandatory_fields("legal_entity_id");
    req.mutable_settings()->set_smb_no_follow_up_days(10);
    req.mutable_update_mask()->add_paths("mandatory_fields");
    req.mutable_update_mask()->add_paths("smb_no_follow_up_days");
    grpc::ClientContext ctx;
    if (admin) {
      AsAdmin(ctx);
    } else {
      As(ctx, "boss");
    }
    return stub_->UpdateTenantPolicy(&ctx, req, out);
  };
  v1::TenantPolicy policy;
  EXPECT_EQ(update(false, &policy).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(update(true, &policy).ok());
  EXPECT_EQ(policy.settings().smb_no_follow_up_days(), 10);
  EXPECT_EQ(policy.settings().default_capacity(), 50);

  // New customers of this tenant need a legal entity id; another tenant's don't.
  v1::Customer out;
  grpc::Status refused = Create("rep-1", "r2", &out, false, "Needs Id Ltd");
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestOf(rpc::FromGrpcStatus(refused)).field_violations(0).field(),
            "customer.legal_entity_id");
  v1::CreateCustomerRequest other;
  other.set_request_id("g1");
  other.mutable_customer()->set_company_name("Globex");
  grpc::ClientContext gctx;
  test::Authorize(gctx, "rep-1", "globex");
  EXPECT_TRUE(stub_->CreateCustomer(&gctx, other, &out).ok());

  // The existing customer's deadline moved to 10 days; the scheduler agrees.
  EXPECT_EQ(Get("rep-1", c.customer_id()).release_deadline().seconds(),
            absl::ToUnixSeconds(created + Days(10)));
  clock_.Advance(Days(10));
  EXPECT_EQ(Tick(), 1);  // the warning
  EXPECT_EQ(Get("rep-1", c.customer_id()).pool(), v1::POOL_STATE_PRIVATE);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Tick(), 1);
  EXPECT_EQ(Get("rep-2", c.customer_id()).pool(), v1::POOL_STATE_PUBLIC);
}

TEST_F(CustomerServiceTest, ATenantCanSendDroppedCustomersBackToTheirPreviousOwner) {
  v1::UpdateTenantPolicyRequest set;
  set.set_request_id("p1");
  set.mutable_settings()->set_drop_back_to_previous_owner(true);
  set.mutable_update_mask()->add_paths("drop_back_to_previous_owner");
  v1::TenantPolicy policy;
  grpc::ClientContext pctx;
  AsAdmin(pctx);
  ASSERT_TRUE(stub_->UpdateTenantPolicy(&pctx, set, &policy).ok());

  v1::Customer c, out;
  ASSERT_TRUE(Create("rep-1", "r1", &c).ok());
  v1::ReleaseCustomerRequest rel;
  rel.set_request_id("rel");
  rel.set_name(c.name());
  grpc::ClientContext rctx;
  As(rctx, "rep-1");
  ASSERT_TRUE(stub_->ReleaseCustomer(&rctx, rel, &out).ok());
  clock_.Advance(Days(1));
  ASSERT_TRUE(Claim("rep-2", c.customer_id(), "claim", &out).ok());
  clock_.Advance(Days(30) + absl::Seconds(1));
  EXPECT_EQ(Tick(), 1);  // released and handed back in one step
  EXPECT_EQ(Get("rep-1", c.customer_id()).owner_id(), "rep-1");
  EXPECT_EQ(Pool("rep-1").size(), 1);
  EXPECT_EQ(Pool("rep-2").size(), 0);
}

TEST_F(CustomerServiceTest, CallsWithoutTenantOrWithBadNamesAreRefused) {
  v1::GetCustomerRequest req;
  req.set_name("customers/nope");
  v1::Customer out;
  grpc::ClientContext anonymous;
  EXPECT_EQ(stub_->GetCustomer(&anonymous, req, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  EXPECT_EQ(stub_->GetCustomer(&ctx, req, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  req.set_name("leads/x");
  grpc::ClientContext ctx2;
  As(ctx2, "rep-1");
  EXPECT_EQ(stub_->GetCustomer(&ctx2, req, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// The contract service's events, as the customer service reads them from
// the contract topic: a signed contract adds to the year's sales (and so to
// the tier), and the notices it pushes become the owner's moments of truth
// until the money comes or the contract is renewed.
TEST_F(CustomerServiceTest, ContractEventsBecomeSalesFactsAndMomentsOfTruth) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "c", &c).ok());
  Sync();
  auto contracts = *eventstore::EventStore::Open({.path = dir_.path() + "/contract-events"});
  ContractSignals signals(commands_.get());
  readstore::ProjectionRunner runner(read_.get(), &signals);
  bus::LogTailer topic(contracts.get(), &runner);
  using crm::contract::events::v1::ContractEvent;
  auto publish = [&](const std::string& contract, const ContractEvent& e) {
    auto appended =
        contracts->Append({"acme", contract}, eventstore::kAnyVersion, {*eventstore::ToNewEvent(e)},
                          absl::StrCat("e", contracts->LastPosition()));
    ASSERT_TRUE(appended.ok()) << appended.status();
    ASSERT_TRUE(topic.CatchUp().ok());
    Sync();
  };
  auto mots = [&] {
    v1::ListRemindersResponse resp;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    EXPECT_TRUE(stub_->ListReminders(&ctx, {}, &resp).ok());
    std::vector<std::string> out;
    for (const auto& r : resp.reminders()) out.push_back(r.rule());
    return out;
  };
  const absl::Time now = clock_.Now();
  ContractEvent created;
  created.mutable_created()->set_contract_id("k-1");
  created.mutable_created()->set_customer_id(c.customer_id());
  publish("k-1", created);
  ContractEvent signed_;
  signed_.mutable_contract_signed()->set_contract_id("k-1");
  signed_.mutable_contract_signed()->set_customer_id(c.customer_id());
  signed_.mutable_contract_signed()->set_amount(120'000);
  *signed_.mutable_contract_signed()->mutable_sign_time() = ToTimestamp(now);
  publish("k-1", signed_);

  const v1::Customer after = Get("rep-1", c.customer_id());
  ASSERT_EQ(after.contract_sales_size(), 1);
  EXPECT_EQ(after.contract_sales(0).amount(), 120'000);
  EXPECT_EQ(after.tier(), events::v1::TIER_A);  // the only customer with sales

  ContractEvent overdue;
  auto* o = overdue.mutable_payment_overdue();
  o->set_contract_id("k-1");
  o->set_customer_id(c.customer_id());
  o->set_installment_id("k-1-1");
  o->set_open(50'000);
  *o->mutable_due_time() = ToTimestamp(now - Days(1));
  publish("k-1", overdue);
  ContractEvent renewal;
  renewal.mutable_renewal_due()->set_contract_id("k-1");
  renewal.mutable_renewal_due()->set_customer_id(c.customer_id());
  *renewal.mutable_renewal_due()->mutable_end_time() = ToTimestamp(now + Days(60));
  publish("k-1", renewal);
  EXPECT_EQ(mots(), (std::vector<std::string>{"mot:payment-overdue", "mot:contract-renewal"}));

  // Part of the money leaves the reminder; the rest ends it.
  auto receipt = [&](int64_t amount) {
    ContractEvent paid;
    paid.mutable_payment_received()->set_contract_id("k-1");
    auto* a = paid.mutable_payment_received()->add_allocations();
    a->set_installment_id("k-1-1");
    a->set_amount(amount);
    return paid;
  };
  publish("k-1", receipt(20'000));
  EXPECT_EQ(mots().size(), 2u);
  publish("k-1", receipt(30'000));
  EXPECT_EQ(mots(), std::vector<std::string>{"mot:contract-renewal"});
  ContractEvent renewed;
  renewed.mutable_created()->set_contract_id("k-2");
  renewed.mutable_created()->set_customer_id(c.customer_id());
  renewed.mutable_created()->set_renewal_of("k-1");
  publish("k-2", renewed);
  EXPECT_TRUE(mots().empty());
  EXPECT_EQ(runner.stats().parked, 0);
}

// Managers see their team's customers in full; the teams come from the lead
// service's settings on its topic.
TEST_F(CustomerServiceTest, ManagersSeeTheirTeamsCustomersInFull) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "c", &c).ok());
  Sync();
  auto leads = *eventstore::EventStore::Open({.path = dir_.path() + "/lead-events"});
  TeamsProjection teams;
  readstore::ProjectionRunner runner(read_.get(), &teams);
  bus::LogTailer topic(leads.get(), &runner);
  auto settings = [&](const std::string& manager, const std::string& rid) {
    crm::lead::events::v1::LeadPolicyEvent e;
    auto* team = e.mutable_changed()->mutable_settings()->add_teams();
    team->set_team_id("east");
    team->add_members()->set_rep_id("rep-1");
    team->add_manager_ids(manager);
    ASSERT_TRUE(leads
                    ->Append({"acme", "settings"}, eventstore::kAnyVersion,
                             {*eventstore::ToNewEvent(e)}, rid)
                    .ok());
    ASSERT_TRUE(topic.CatchUp().ok());
  };
  settings("mgr-1", "s1");
  auto get = [&](const std::string& user, const std::string& roles) {
    v1::GetCustomerRequest req;
    req.set_name(c.name());
    v1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, user, roles);
    EXPECT_TRUE(stub_->GetCustomer(&ctx, req, &out).ok());
    return out;
  };
  auto history = [&](const std::string& user) {
    v1::ListCustomerHistoryRequest req;
    req.set_name(c.name());
    v1::ListCustomerHistoryResponse out;
    grpc::ClientContext ctx;
    As(ctx, user, "manager");
    return stub_->ListCustomerHistory(&ctx, req, &out).error_code();
  };
  v1::Customer seen = get("mgr-1", "manager");
  EXPECT_FALSE(seen.restricted());
  EXPECT_EQ(seen.contacts_size(), 1);
  EXPECT_TRUE(get("mgr-1", "").restricted());         // the role is needed
  EXPECT_TRUE(get("mgr-2", "manager").restricted());  // another team's manager
  EXPECT_EQ(history("mgr-1"), grpc::StatusCode::OK);
  EXPECT_EQ(history("mgr-2"), grpc::StatusCode::PERMISSION_DENIED);

  // The team changes hands: the old manager sees name and owner only.
  settings("mgr-2", "s2");
  EXPECT_TRUE(get("mgr-1", "manager").restricted());
  EXPECT_FALSE(get("mgr-2", "manager").restricted());
  EXPECT_EQ(runner.stats().parked, 0);
}

TEST_F(CustomerServiceTest, AnEngagementSpikeRemindsTheOwnerUntilTheyFollowUp) {
  v1::Customer c;
  ASSERT_TRUE(Create("rep-1", "c", &c).ok());
  auto engage = [&](const std::string& rid) {
    v1::RecordEngagementRequest req;
    req.set_request_id(rid);
    req.set_customer(c.name());
    req.set_kind(events::v1::ENGAGEMENT_KIND_CONTENT_VIEWED);
    req.set_topic("pricing");
    req.set_seconds(120);
    v1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, "web-tracker");
    grpc::Status s = stub_->RecordEngagement(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  };
  auto mots = [&] {
    Sync();
    v1::ListRemindersResponse resp;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    EXPECT_TRUE(stub_->ListReminders(&ctx, {}, &resp).ok());
    std::vector<std::string> out;
    for (const auto& r : resp.reminders()) out.push_back(r.rule());
    return out;
  };
  EXPECT_TRUE(engage("g1").restricted());  // the tracker sees name and owner only
  clock_.Advance(absl::Hours(2));
  engage("g2");
  engage("g2");  // a retry records nothing more
  EXPECT_TRUE(mots().empty());
  clock_.Advance(absl::Hours(2));
  engage("g3");
  EXPECT_EQ(mots(), std::vector<std::string>{"mot:engagement-spike"});
  EXPECT_EQ(CountEvents(c.customer_id(), &CustomerEvent::has_engagement_recorded), 3);
  ASSERT_TRUE(
      Touch("rep-1", c.customer_id(), "t1", "called about the pricing page they read").ok());
  EXPECT_TRUE(mots().empty());
}

}  // namespace
}  // namespace crm::customer
