// End to end: the opportunity, customer and contract services as separate
// processes with the local broker. The opportunity service learns its
// customers' facts from the customer topic; a blocked advance names its unmet
// conditions; closing as lost is approved by a manager; closing as won
// creates one contract however often it is retried, across a kill -9; the
// contract, approved by legal and confirmed, reaches the customer's history.
// Opportunities created under load from concurrent clients survive kill -9
// once each.

#include <signal.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/rpc/rpc.h"
#include "libs/status/status.h"
#include "libs/testing/process.h"
#include "tests/platform.h"

namespace crm {
namespace {

namespace cv1 = crm::customer::v1;
namespace kv1 = crm::contract::v1;
namespace ov1 = crm::opportunity::v1;

void As(grpc::ClientContext& ctx, const std::string& user, const std::string& roles = "") {
  test::As(ctx, user, "acme", roles);
}

// Calls `call` until it is not UNAVAILABLE (a restarted service's first
// calls may meet the killed connection).
template <typename Call>
grpc::Status Retry(Call call) {
  grpc::Status s;
  for (int attempt = 0; attempt < 20; ++attempt) {
    s = call();
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  return s;
}

// The "seat" product (list price 120000) and rep-1's customer Acme GmbH
// into `acme`; false (the test failed) when either was refused.
bool SeatAndAcme(ov1::OpportunityService::Stub& opps, cv1::CustomerService::Stub& customers,
                 cv1::Customer* acme) {
  ov1::SaveProductRequest product;
  product.set_request_id("seat");
  product.mutable_product()->set_product_id("seat");
  product.mutable_product()->set_display_name("CRM seat");
  product.mutable_product()->set_list_price(120000);
  ov1::Product saved;
  grpc::ClientContext pctx;
  As(pctx, "boss", "admin");
  const grpc::Status p = opps.SaveProduct(&pctx, product, &saved);
  EXPECT_TRUE(p.ok()) << p.error_message();
  cv1::CreateCustomerRequest customer;
  customer.set_request_id("acme");
  customer.mutable_customer()->set_company_name("Acme GmbH");
  grpc::ClientContext cctx;
  As(cctx, "rep-1");
  const grpc::Status c = customers.CreateCustomer(&cctx, customer, acme);
  EXPECT_TRUE(c.ok()) << c.error_message();
  return p.ok() && c.ok();
}

TEST(OpportunityE2eTest, ConditionsApprovalsAndOneContractPerWinAcrossKillNine) {
  test::Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  p.Start("contract", CRM_CONTRACT_BIN);
  const std::vector<std::string> flags = {"--contract-endpoint=" + p.Address("contract")};
  p.Start("opportunity", CRM_OPPORTUNITY_BIN, flags);
  auto customers = cv1::CustomerService::NewStub(p.Channel("customer"));
  auto contracts = kv1::ContractService::NewStub(p.Channel("contract"));
  auto opps = ov1::OpportunityService::NewStub(p.Channel("opportunity"));

  cv1::Customer acme;
  ASSERT_TRUE(SeatAndAcme(*opps, *customers, &acme));

  // The customer reaches the opportunity service through the topic.
  auto create = [&](const std::string& rid, ov1::Opportunity* out) {
    ov1::CreateOpportunityRequest req;
    req.set_request_id(rid);
    req.mutable_opportunity()->set_customer_id(acme.customer_id());
    req.mutable_opportunity()->set_display_name("Acme " + rid);
    auto* line = req.add_lines();
    line->set_product_id("seat");
    line->set_quantity(20);
    line->set_discount_bp(500);
    grpc::Status s;
    EXPECT_TRUE(test::Eventually(
        [&] {
          grpc::ClientContext ctx;
          As(ctx, "rep-1");
          s = opps->CreateOpportunity(&ctx, req, out);
          return s.error_code() != grpc::StatusCode::NOT_FOUND;
        },
        absl::Seconds(60)));
    return s;
  };
  ov1::Opportunity deal, doomed;
  ASSERT_TRUE(create("deal", &deal).ok());
  EXPECT_EQ(deal.amount(), 2280000);
  ASSERT_TRUE(create("doomed", &doomed).ok());

  // A blocked advance names every unmet condition.
  {
    ov1::AdvanceStageRequest req;
    req.set_request_id("advance");
    req.set_name(deal.name());
    req.set_stage_id("demo-done");
    ov1::Opportunity out;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    grpc::Status s = opps->AdvanceStage(&ctx, req, &out);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(ErrorReason(rpc::FromGrpcStatus(s)), "STAGE_CONDITIONS_UNMET");
    std::set<std::string> unmet;
    const google::rpc::PreconditionFailure pf = PreconditionFailureOf(rpc::FromGrpcStatus(s));
    for (const auto& v : pf.violations()) unmet.insert(v.type());
    EXPECT_EQ(unmet,
              (std::set<std::string>{"NEED_RECORDED", "KP_IDENTIFIED", "DEMO_TOUCH_LOGGED"}));
  }

  // Closing as lost: the owner asks, a manager approves.
  {
    ov1::RequestCloseLostRequest req;
    req.set_request_id("lose");
    req.set_name(doomed.name());
    req.set_reason(crm::opportunity::events::v1::LOSS_REASON_NO_BUDGET);
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(opps->RequestCloseLost(&ctx, req, &doomed).ok());
    EXPECT_EQ(doomed.state(), ov1::OPPORTUNITY_STATE_LOSS_PENDING);
    ov1::DecideCloseLostRequest decide;
    decide.set_request_id("approve");
    decide.set_name(doomed.name());
    decide.set_approve(true);
    grpc::ClientContext mctx;
    As(mctx, "manager-1", "manager");
    ASSERT_TRUE(opps->DecideCloseLost(&mctx, decide, &doomed).ok());
    EXPECT_EQ(doomed.state(), ov1::OPPORTUNITY_STATE_LOST);
  }

  // Close won; kill -9; the retried close creates no second contract.
  ov1::CloseWonRequest win;
  win.set_request_id("win-1");
  win.set_name(deal.name());
  ov1::Opportunity won;
  grpc::Status s = Retry([&] {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    return opps->CloseWon(&ctx, win, &won);
  });
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(won.state(), ov1::OPPORTUNITY_STATE_WON);
  p.process("opportunity").Stop(SIGKILL);
  p.Start("opportunity", CRM_OPPORTUNITY_BIN, flags);
  win.set_request_id("win-2");
  ov1::Opportunity again;
  s = Retry([&] {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    return opps->CloseWon(&ctx, win, &again);
  });
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.contract_id(), won.contract_id());
  EXPECT_EQ(again.state(), ov1::OPPORTUNITY_STATE_WON);

  // The customer service notes the deals' progress from the opportunity
  // topic (it counts in conflicts): the win and the approved loss.
  auto noted = [&] {
    cv1::ListCustomerHistoryRequest req;
    req.set_name(acme.name());
    req.set_page_size(100);
    cv1::ListCustomerHistoryResponse resp;
    grpc::ClientContext hctx;
    As(hctx, "rep-1");
    std::set<std::string> lines;
    if (!customers->ListCustomerHistory(&hctx, req, &resp).ok()) return lines;
    for (const auto& e : resp.entries()) {
      if (e.type() == "crm.customer.events.v1.OpportunityProgressNoted") lines.insert(e.summary());
    }
    return lines;
  };
  EXPECT_TRUE(test::Eventually(
      [&] {
        const auto lines = noted();
        return lines.count("opportunity " + deal.opportunity_id() + " at won (100%)") &&
               lines.count("opportunity " + doomed.opportunity_id() + " at lost (0%)");
      },
      absl::Seconds(60)));

  kv1::GetContractRequest get;
  get.set_name("contracts/" + won.contract_id());
  kv1::Contract contract;
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(contracts->GetContract(&ctx, get, &contract).ok());
  EXPECT_EQ(contract.opportunity_id(), deal.opportunity_id());
  EXPECT_EQ(contract.amount(), 2280000);
  EXPECT_EQ(contract.owner_id(), "rep-1");

  // The contract goes through legal (no template: non-standard), is sent
  // and confirmed; the customer service learns the signing from the
  // contract topic.
  auto act = [&](auto method, const std::string& rid, const std::string& user,
                 const std::string& roles = "") {
    kv1::ContractActionRequest req;
    req.set_request_id(rid);
    req.set_name(contract.name());
    grpc::ClientContext actx;
    As(actx, user, roles);
    return ((*contracts).*method)(&actx, req, &contract);
  };
  {
    kv1::SubmitContractRequest req;
    req.set_request_id("submit");
    req.set_name(contract.name());
    grpc::ClientContext sctx;
    As(sctx, "rep-1");
    ASSERT_TRUE(contracts->SubmitContract(&sctx, req, &contract).ok());
    ASSERT_EQ(contract.approval_steps_size(), 1);
    kv1::DecideContractRequest approve;
    approve.set_request_id("legal-ok");
    approve.set_name(contract.name());
    grpc::ClientContext lctx;
    As(lctx, "lawyer-1", "legal");
    ASSERT_TRUE(contracts->ApproveContract(&lctx, approve, &contract).ok());
  }
  ASSERT_TRUE(act(&kv1::ContractService::Stub::SendContract, "send", "rep-1").ok());
  ASSERT_TRUE(act(&kv1::ContractService::Stub::ConfirmContract, "confirm", "rep-1").ok());
  EXPECT_EQ(contract.state(), kv1::CONTRACT_STATE_ACTIVE);
  EXPECT_TRUE(test::Eventually(
      [&] {
        cv1::ListCustomerHistoryRequest hreq;
        hreq.set_name(acme.name());
        hreq.set_page_size(100);
        cv1::ListCustomerHistoryResponse resp;
        grpc::ClientContext hctx;
        As(hctx, "rep-1");
        if (!customers->ListCustomerHistory(&hctx, hreq, &resp).ok()) return false;
        for (const auto& e : resp.entries()) {
          if (e.type() == "crm.customer.events.v1.ContractSignedNoted") return true;
        }
        return false;
      },
      absl::Seconds(60)));
}

// Opportunities created from four concurrent clients, each create retried
// with its request id until acknowledged and some once more after that,
// while the opportunity service is killed -9 twice and restarted: every
// acknowledged opportunity is there once, with its amount, and listed.
TEST(OpportunityE2eTest, OpportunitiesAcknowledgedUnderLoadSurviveKillNine) {
  test::Platform p;
  p.StartBroker();
  p.Start("customer", CRM_CUSTOMER_BIN);
  p.Start("contract", CRM_CONTRACT_BIN);
  const std::vector<std::string> flags = {"--contract-endpoint=" + p.Address("contract")};
  p.Start("opportunity", CRM_OPPORTUNITY_BIN, flags);
  auto customers = cv1::CustomerService::NewStub(p.Channel("customer"));
  auto opps = ov1::OpportunityService::NewStub(p.Channel("opportunity"));
  cv1::Customer acme;
  ASSERT_TRUE(SeatAndAcme(*opps, *customers, &acme));
  auto request = [&](const std::string& rid, int seats) {
    ov1::CreateOpportunityRequest req;
    req.set_request_id(rid);
    req.mutable_opportunity()->set_customer_id(acme.customer_id());
    req.mutable_opportunity()->set_display_name("Acme " + rid);
    auto* line = req.add_lines();
    line->set_product_id("seat");
    line->set_quantity(seats);
    return req;
  };
  // The first waits for the customer to reach the opportunity service.
  ASSERT_TRUE(test::Eventually(
      [&] {
        ov1::Opportunity out;
        grpc::ClientContext ctx;
        As(ctx, "rep-1");
        return opps->CreateOpportunity(&ctx, request("first", 1), &out).ok();
      },
      absl::Seconds(60)));

  std::atomic<bool> stop{false};
  std::atomic<int> acknowledged{0};
  std::mutex mu;
  std::map<std::string, int64_t> amount_of;  // by name
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; !stop && !::testing::Test::HasFailure(); ++i) {
        const ov1::CreateOpportunityRequest req =
            request(absl::StrCat("load-", t, "-", i), 1 + i % 7);
        ov1::Opportunity out;
        auto create = [&] {
          grpc::ClientContext ctx;
          As(ctx, "rep-1");
          return opps->CreateOpportunity(&ctx, req, &out);
        };
        if (!test::UntilAcknowledged(req.request_id(), create)) return;
        const std::string name = out.name();
        if (i % 3 == 0) {
          if (!test::UntilAcknowledged(req.request_id() + " again", create)) return;
          EXPECT_EQ(out.name(), name) << "a retried create made a second opportunity";
        }
        EXPECT_EQ(out.amount(), 120000 * (1 + i % 7)) << name;
        std::lock_guard<std::mutex> l(mu);
        amount_of[name] = out.amount();
        ++acknowledged;
      }
    });
  }
  auto wait_for_more = [&](int n) {
    const int target = acknowledged.load() + n;
    return test::Eventually([&] { return acknowledged.load() >= target; }, absl::Seconds(60));
  };
  bool loaded = wait_for_more(30);
  for (int kill = 0; kill < 2 && loaded; ++kill) {
    p.process("opportunity").Stop(SIGKILL);
    p.Start("opportunity", CRM_OPPORTUNITY_BIN, flags);
    loaded = wait_for_more(30);
  }
  stop = true;
  for (auto& t : load) t.join();
  ASSERT_TRUE(loaded) << "the load stalled";
  ASSERT_FALSE(::testing::Test::HasFailure());
  std::cout << "kill -9 run: " << amount_of.size() << " opportunities acknowledged\n";

  for (const auto& [name, amount] : amount_of) {
    ov1::GetOpportunityRequest get;
    get.set_name(name);
    ov1::Opportunity got;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(opps->GetOpportunity(&ctx, get, &got).ok()) << name;
    EXPECT_EQ(got.amount(), amount) << name;
  }
  std::set<std::string> listed, expected;
  for (const auto& [name, amount] : amount_of) expected.insert(name);
  EXPECT_TRUE(test::Eventually(
      [&] {
        listed.clear();
        ov1::ListOpportunitiesRequest req;
        req.set_customer_id(acme.customer_id());
        req.set_page_size(100);
        do {
          ov1::ListOpportunitiesResponse resp;
          grpc::ClientContext ctx;
          As(ctx, "rep-1");
          if (!opps->ListOpportunities(&ctx, req, &resp).ok()) return false;
          for (const auto& o : resp.opportunities()) {
            if (o.display_name() != "Acme first") listed.insert(o.name());
          }
          req.set_page_token(resp.next_page_token());
        } while (!req.page_token().empty());
        return listed == expected;
      },
      absl::Seconds(30)))
      << listed.size() << " listed, " << expected.size() << " acknowledged";
}

}  // namespace
}  // namespace crm
