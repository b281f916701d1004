// The customer service over real gRPC (loopback, port 0) with real RocksDB
// stores and an injected clock, so time-driven rules run deterministically.

#include "services/customer/rpc/customer_service.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/bus/log_tailer.h"
#include "libs/eventstore/codec.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/temp_dir.h"
#include "services/customer/app/drop_protection.h"
#include "services/customer/projection/customer_list.h"

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
    drop_index_ = std::make_unique<DropIndexProjection>(store_.get(), &commands_->policy());
    drop_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), drop_index_.get());
    list_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), list_runner_.get());
    drop_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), drop_runner_.get());
    scheduler_ = std::make_unique<DropScheduler>(read_.get(), commands_.get());
    service_ = std::make_unique<CustomerServiceImpl>(commands_.get(), read_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = CustomerService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    Sync();
  }

  void Stop() {
    server_->Shutdown();
    server_.reset();
    service_.reset();
    scheduler_.reset();
    drop_tailer_.reset();
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
  }
  int Tick() {
    Sync();
    int n = *scheduler_->Tick();
    Sync();
    return n;
  }

  static void As(grpc::ClientContext& ctx, const std::string& user) {
    ctx.AddMetadata(rpc::kTenantMetadata, "acme");
    ctx.AddMetadata(rpc::kUserMetadata, user);
  }

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
  std::vector<v1::Customer> List(const std::string& user,
                                 v1::ListCustomersRequest::Filter filter) {
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
  std::unique_ptr<bus::LogTailer> list_tailer_, drop_tailer_;
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
  EXPECT_EQ(fields, (std::vector<std::string>{"customer.contacts[0].name",
                                              "customer.contacts[0].email",
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
  grpc::ClientContext ctx;
  As(ctx, "admin");
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
  // A retry returns the same touch and records nothing new.
  EXPECT_EQ(touch("t2", events::v1::TOUCH_CHANNEL_MEETING, "").touch_id(), meeting.touch_id());
  EXPECT_EQ(CountEvents(c.customer_id(), &CustomerEvent::has_touch_recorded), 2);
  EXPECT_EQ(Get("rep-1", c.customer_id()).release_deadline().seconds(),
            c.release_deadline().seconds() + absl::ToInt64Seconds(Days(10)));
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
  EXPECT_EQ(stub_->GetCustomer(&ctx2, req, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace crm::customer
