// End to end: the customer service as its own process with the local broker.
// The shipped wiring (match index, projections, relay, schedulers) works
// over real gRPC, and a kill -9, also under load from concurrent clients,
// loses nothing acknowledged and records no retried command twice.

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crm/contract/events/v1/contract_events.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/bus/relay.h"
#include "libs/clock/timestamp.h"
#include "libs/eventstore/codec.h"
#include "libs/eventstore/event_store.h"
#include "libs/testing/process.h"
#include "tests/platform.h"

namespace crm {
namespace {

using crm::customer::v1::CustomerService;
namespace v1 = crm::customer::v1;

v1::Customer CreateAcme(CustomerService::Stub& stub, const std::string& user,
                        const std::string& rid, const std::string& company) {
  v1::CreateCustomerRequest req;
  req.set_request_id(rid);
  req.mutable_customer()->set_company_name(company);
  auto* kp = req.mutable_customer()->add_contacts();
  kp->set_name("Ann Lee");
  kp->set_phone("+49 30 1234567");
  kp->set_key_person(true);
  v1::Customer out;
  grpc::ClientContext ctx;
  test::As(ctx, user);
  grpc::Status s = stub.CreateCustomer(&ctx, req, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

int ListedCustomers(CustomerService::Stub& stub) {
  v1::ListCustomersRequest req;
  req.set_page_size(100);
  v1::ListCustomersResponse resp;
  grpc::ClientContext ctx;
  test::As(ctx, "rep-1");
  return stub.ListCustomers(&ctx, req, &resp).ok() ? resp.customers_size() : -1;
}

// Every event of the customer service reaches the broker; nothing is parked.
void ExpectAllPublishedNothingParked(test::Platform& p) {
  EXPECT_TRUE(test::Eventually(
      [&] {
        return test::HttpGet(p.MetricsPort("customer"), "/metrics")
                   .find("crm_relay_lag_events 0\n") != std::string::npos;
      },
      absl::Seconds(30)));
  EXPECT_NE(
      test::HttpGet(p.MetricsPort("customer"), "/metrics").find("crm_projection_parked_events 0\n"),
      std::string::npos);
}

// The touches on `customer`'s stream, every page of its history read.
int TouchesOf(CustomerService::Stub& stub, const v1::Customer& customer, const std::string& user) {
  int touches = 0;
  v1::ListCustomerHistoryRequest req;
  req.set_name(customer.name());
  req.set_page_size(100);
  do {
    v1::ListCustomerHistoryResponse resp;
    grpc::ClientContext ctx;
    test::As(ctx, user);
    if (!stub.ListCustomerHistory(&ctx, req, &resp).ok()) return -1;
    for (const auto& e : resp.entries()) {
      touches += e.type() == "crm.customer.events.v1.TouchRecorded" ? 1 : 0;
    }
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return touches;
}

// Every customer of the public pool, every page read; empty on an error.
std::set<std::string> PublicPool(CustomerService::Stub& stub) {
  std::set<std::string> names;
  v1::ListCustomersRequest req;
  req.set_filter(v1::ListCustomersRequest::FILTER_PUBLIC_POOL);
  req.set_page_size(100);
  do {
    v1::ListCustomersResponse resp;
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    if (!stub.ListCustomers(&ctx, req, &resp).ok()) return {};
    for (const auto& c : resp.customers()) names.insert(c.name());
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return names;
}

// Four reps record touches on their customers, and create customers into
// the public pool, while the service is killed -9 twice and restarted; each
// command is retried with its request id until acknowledged, some once more
// after that. Every acknowledged touch is on its customer's stream exactly
// once, every acknowledged customer is there and listed, and the relay
// publishes all of it.
TEST(CustomerE2eTest, CommandsAcknowledgedUnderLoadSurviveKillNine) {
  test::Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  auto stub = CustomerService::NewStub(p.Channel("customer"));
  constexpr int kReps = 4;
  std::vector<v1::Customer> customers(kReps);
  for (int r = 0; r < kReps; ++r) {
    v1::CreateCustomerRequest req;
    req.set_request_id(absl::StrCat("own-", r));
    req.mutable_customer()->set_company_name(absl::StrCat("Kill Load Customer ", r));
    grpc::ClientContext ctx;
    test::As(ctx, absl::StrCat("rep-", r + 1));
    ASSERT_TRUE(stub->CreateCustomer(&ctx, req, &customers[r]).ok());
  }

  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::vector<int> touches(kReps, 0);
  std::mutex mu;
  std::set<std::string> created;
  std::vector<std::thread> load;
  for (int r = 0; r < kReps; ++r) {
    load.emplace_back([&, r] {
      const std::string rep = absl::StrCat("rep-", r + 1);
      for (int i = 0; !stop && !::testing::Test::HasFailure(); ++i) {
        v1::RecordTouchRequest touch;
        touch.set_request_id(absl::StrCat("touch-", r, "-", i));
        touch.set_customer(customers[r].name());
        touch.mutable_touch()->set_channel(crm::customer::events::v1::TOUCH_CHANNEL_PHONE);
        touch.mutable_touch()->set_note(absl::StrCat("Call ", i, " about the rollout"));
        v1::Touch out;
        auto record = [&] {
          grpc::ClientContext ctx;
          test::As(ctx, rep);
          return stub->RecordTouch(&ctx, touch, &out);
        };
        if (!test::UntilAcknowledged(touch.request_id(), record)) return;
        ++touches[r];
        ++acknowledged;
        if (i % 10 == 0) {
          const std::string first = out.touch_id();
          if (!test::UntilAcknowledged(touch.request_id() + " again", record)) return;
          EXPECT_EQ(out.touch_id(), first) << "a retried touch was recorded again";
        }
        if (i % 5 == 0) {
          v1::CreateCustomerRequest open;
          open.set_request_id(absl::StrCat("open-", r, "-", i));
          open.set_into_public_pool(true);
          open.mutable_customer()->set_company_name(absl::StrCat("Kill Load Open ", r, "-", i));
          v1::Customer made;
          if (!test::UntilAcknowledged(open.request_id(), [&] {
                grpc::ClientContext ctx;
                test::As(ctx, rep);
                return stub->CreateCustomer(&ctx, open, &made);
              })) {
            return;
          }
          std::lock_guard<std::mutex> l(mu);
          created.insert(made.name());
        }
      }
    });
  }
  auto wait_for_more = [&](int n) {
    const int target = acknowledged.load() + n;
    return test::Eventually([&] { return acknowledged.load() >= target; }, absl::Seconds(60));
  };
  bool loaded = wait_for_more(40);
  for (int kill = 0; kill < 2 && loaded; ++kill) {
    p.process("customer").Stop(SIGKILL);
    p.Start("customer", CRM_CUSTOMER_BIN);
    loaded = wait_for_more(40);
  }
  stop = true;
  for (auto& t : load) t.join();
  ASSERT_TRUE(loaded) << "the load stalled";
  ASSERT_FALSE(::testing::Test::HasFailure());
  std::cout << "kill -9 run: " << acknowledged.load() << " touches and " << created.size()
            << " customers acknowledged\n";

  for (int r = 0; r < kReps; ++r) {
    EXPECT_EQ(TouchesOf(*stub, customers[r], absl::StrCat("rep-", r + 1)), touches[r])
        << customers[r].name();
  }
  for (const std::string& name : created) {
    v1::GetCustomerRequest get;
    get.set_name(name);
    v1::Customer got;
    grpc::ClientContext ctx;
    test::As(ctx, "rep-1");
    EXPECT_TRUE(stub->GetCustomer(&ctx, get, &got).ok()) << name;
  }
  std::set<std::string> listed;
  EXPECT_TRUE(test::Eventually(
      [&] {
        listed = PublicPool(*stub);
        return listed == created;
      },
      absl::Seconds(30)))
      << listed.size() << " listed, " << created.size() << " acknowledged";
  ExpectAllPublishedNothingParked(p);
}

TEST(CustomerE2eTest, ConflictsReservationsAndProjectionsSurviveKillNine) {
  test::Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  auto stub = CustomerService::NewStub(p.Channel("customer"));

  const v1::Customer theirs = CreateAcme(*stub, "rep-1", "c1", "Acme GmbH");
  const v1::Customer mine = CreateAcme(*stub, "rep-2", "c2", "ACME gmbh.");
  ASSERT_EQ(mine.conflicts_size(), 1) << "the match index found the first record";
  EXPECT_EQ(mine.conflicts(0).customer_id(), theirs.customer_id());

  v1::RecordTouchRequest touch;
  touch.set_request_id("t1");
  touch.set_customer(mine.name());
  touch.mutable_touch()->set_channel(crm::customer::events::v1::TOUCH_CHANNEL_MEETING);
  v1::Touch touched;
  grpc::ClientContext tctx;
  test::As(tctx, "rep-2");
  ASSERT_TRUE(stub->RecordTouch(&tctx, touch, &touched).ok());

  v1::FileConflictRequest file;
  file.set_request_id("f1");
  file.set_customer(theirs.name());
  file.set_claimant_customer(mine.name());
  v1::Conflict conflict;
  grpc::ClientContext fctx;
  test::As(fctx, "rep-2");
  ASSERT_TRUE(stub->FileConflict(&fctx, file, &conflict).ok());
  EXPECT_EQ(conflict.verdict().winner_id(), "rep-2");

  v1::CreateCustomerRequest open;
  open.set_request_id("c3");
  open.set_into_public_pool(true);
  open.mutable_customer()->set_company_name("Open Market Ltd");
  v1::Customer pub;
  grpc::ClientContext octx;
  test::As(octx, "rep-3");
  ASSERT_TRUE(stub->CreateCustomer(&octx, open, &pub).ok());
  v1::ReserveCustomerRequest reserve;
  reserve.set_request_id("v1");
  reserve.set_name(pub.name());
  grpc::ClientContext vctx;
  test::As(vctx, "rep-3");
  ASSERT_TRUE(stub->ReserveCustomer(&vctx, reserve, &pub).ok());
  ASSERT_TRUE(test::Eventually([&] { return ListedCustomers(*stub) == 3; }, absl::Seconds(10)));

  // kill -9: everything acknowledged is there after the restart.
  p.process("customer").Stop(SIGKILL);
  p.Start("customer", CRM_CUSTOMER_BIN);
  // The first calls may still meet the killed connection.
  ASSERT_TRUE(test::Eventually([&] { return ListedCustomers(*stub) == 3; }, absl::Seconds(10)));
  v1::GetCustomerRequest get;
  get.set_name(theirs.name());
  v1::Customer moved;
  grpc::ClientContext gctx;
  test::As(gctx, "rep-2");
  ASSERT_TRUE(stub->GetCustomer(&gctx, get, &moved).ok());
  EXPECT_EQ(moved.owner_id(), "rep-2");
  v1::GetConflictRequest get_conflict;
  get_conflict.set_name(conflict.name());
  v1::Conflict again;
  grpc::ClientContext cctx;
  test::As(cctx, "rep-1");
  ASSERT_TRUE(stub->GetConflict(&cctx, get_conflict, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), conflict.SerializeAsString());
  // A retried create is still recognised, and still detects nothing new.
  EXPECT_EQ(CreateAcme(*stub, "rep-2", "c2", "ACME gmbh.").customer_id(), mine.customer_id());

  ExpectAllPublishedNothingParked(p);

  // A contract signed with a customer, published on the contract topic by
  // the relay a contract service runs, is noted on the customer's stream.
  auto contracts = *eventstore::EventStore::Open({.path = p.dir() + "/contract-events"});
  bus::Relay relay(contracts.get(), {"contract", {"", p.bootstrap_file(), {}}});
  relay.Start();
  crm::contract::events::v1::ContractEvent signed_event;
  auto* contract = signed_event.mutable_contract_signed();
  contract->set_contract_id("k-1");
  contract->set_customer_id(mine.customer_id());
  contract->set_owner_id("rep-2");
  contract->set_amount(120'000);
  *contract->mutable_sign_time() = ToTimestamp(absl::Now());
  ASSERT_TRUE(
      contracts->Append({"acme", "k-1"}, 0, {*eventstore::ToNewEvent(signed_event)}, "sign-k-1")
          .ok());
  auto history_has_contract = [&] {
    v1::ListCustomerHistoryRequest req;
    req.set_name(mine.name());
    v1::ListCustomerHistoryResponse resp;
    grpc::ClientContext ctx;
    test::As(ctx, "rep-2");
    if (!stub->ListCustomerHistory(&ctx, req, &resp).ok()) return false;
    int noted = 0;
    for (const auto& e : resp.entries()) {
      noted += e.type() == "crm.customer.events.v1.ContractSignedNoted" ? 1 : 0;
    }
    return noted == 1;
  };
  EXPECT_TRUE(test::Eventually(history_has_contract, absl::Seconds(30)));
  relay.Stop();

  const int status = p.process("customer").Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace crm
