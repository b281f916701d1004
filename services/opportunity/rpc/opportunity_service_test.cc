// The opportunity service over real gRPC (loopback, port 0) with real
// RocksDB stores and an injected clock. Customer facts come from a real
// customer service's log; closing as won talks to a real contract service
// over gRPC.

#include "services/opportunity/rpc/opportunity_service.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/bus/log_tailer.h"
#include "libs/clock/timestamp.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/grpc.h"
#include "libs/testing/temp_dir.h"
#include "services/contract/rpc/contract_service.h"
#include "services/customer/rpc/customer_service.h"
#include "services/opportunity/app/contract_client.h"
#include "services/opportunity/projection/customer_facts.h"
#include "services/opportunity/projection/opportunity_list.h"

namespace crm::opportunity {
namespace {

namespace cv1 = crm::customer::v1;
namespace kv1 = crm::contract::v1;

using test::ChannelTo;
using test::Serve;

void As(grpc::ClientContext& ctx, const std::string& user, const std::string& roles = "") {
  test::Authorize(ctx, user, "acme", roles);
}

std::string Reason(const grpc::Status& s) { return ErrorReason(rpc::FromGrpcStatus(s)); }

class OpportunityServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    customer_store_ =
        *eventstore::EventStore::Open({.path = dir_.path() + "/c-events", .clock = &clock_});
    customer_read_ = *readstore::ReadStore::Open(dir_.path() + "/c-read");
    customer_commands_ = std::make_unique<customer::CustomerCommandHandler>(
        customer_store_.get(), &clock_, customer::Policy{});
    customer_service_ = std::make_unique<customer::CustomerServiceImpl>(customer_commands_.get(),
                                                                        customer_read_.get());
    int customer_port = 0;
    customer_server_ = Serve(customer_service_.get(), &customer_port);
    customers_ = cv1::CustomerService::NewStub(ChannelTo(customer_port));

    contract_store_ =
        *eventstore::EventStore::Open({.path = dir_.path() + "/k-events", .clock = &clock_});
    contract_commands_ =
        std::make_unique<contract::ContractCommandHandler>(contract_store_.get(), &clock_);
    contract_read_ = *readstore::ReadStore::Open(dir_.path() + "/k-read");
    contract_service_ = std::make_unique<contract::ContractServiceImpl>(contract_commands_.get(),
                                                                        contract_read_.get());
    int contract_port = 0;
    contract_server_ = Serve(contract_service_.get(), &contract_port);
    contracts_ = kv1::ContractService::NewStub(ChannelTo(contract_port));

    store_ = *eventstore::EventStore::Open({.path = dir_.path() + "/events", .clock = &clock_});
    read_ = *readstore::ReadStore::Open(dir_.path() + "/read");
    list_ = std::make_unique<OpportunityListProjection>(store_.get());
    list_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), list_.get());
    list_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), list_runner_.get());
    facts_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), &facts_);
    facts_tailer_ = std::make_unique<bus::LogTailer>(customer_store_.get(), facts_runner_.get());
    commands_ = std::make_unique<OpportunityCommandHandler>(store_.get(), &clock_);
    commands_->SetCustomerFacts([this](const std::string& tenant, const std::string& id) {
      Sync();
      return FindCustomerFacts(read_.get(), tenant, id);
    });
    contract_client_ = std::make_unique<ContractClient>(ChannelTo(contract_port), &tokens_);
    commands_->SetContractCreator(
        [this](const std::string& tenant, const std::string& user, const std::string& rid,
               const Opportunity& o) { return contract_client_->Create(tenant, user, rid, o); });
    service_ = std::make_unique<OpportunityServiceImpl>(commands_.get(), read_.get());
    int port = 0;
    server_ = Serve(service_.get(), &port);
    stub_ = v1::OpportunityService::NewStub(ChannelTo(port));

    SaveProduct("seat", "CRM seat, 1 year", 120000);
    SaveProduct("setup", "Onboarding", 500000);
    customer_ = CreateCustomer("rep-1", "Acme GmbH", false);
  }

  void TearDown() override {
    server_->Shutdown();
    contract_server_->Shutdown();
    customer_server_->Shutdown();
  }

  void Sync() {
    std::lock_guard<std::mutex> lock(sync_mu_);
    ASSERT_TRUE(list_tailer_->CatchUp().ok());
    ASSERT_TRUE(facts_tailer_->CatchUp().ok());
  }

  void SaveProduct(const std::string& id, const std::string& name, int64_t price) {
    v1::SaveProductRequest req;
    req.set_request_id("product-" + id);
    req.mutable_product()->set_product_id(id);
    req.mutable_product()->set_display_name(name);
    req.mutable_product()->set_list_price(price);
    v1::Product out;
    grpc::ClientContext ctx;
    As(ctx, "boss", "admin");
    grpc::Status s = stub_->SaveProduct(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::string CreateCustomer(const std::string& rep, const std::string& company, bool kp) {
    cv1::CreateCustomerRequest req;
    req.set_request_id("customer-" + company);
    req.mutable_customer()->set_company_name(company);
    if (kp) {
      auto* c = req.mutable_customer()->add_contacts();
      c->set_name("Ann Lee");
      c->set_key_person(true);
    }
    cv1::Customer out;
    grpc::ClientContext ctx;
    As(ctx, rep);
    grpc::Status s = customers_->CreateCustomer(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.customer_id();
  }

  grpc::Status Create(const std::string& rid, v1::Opportunity* out,
                      std::vector<v1::LineInput> lines = {}, const std::string& user = "rep-1",
                      const std::string& roles = "", std::string customer = "") {
    v1::CreateOpportunityRequest req;
    req.set_request_id(rid);
    req.mutable_opportunity()->set_customer_id(customer.empty() ? customer_ : customer);
    req.mutable_opportunity()->set_display_name("Rollout " + rid);
    req.mutable_opportunity()->set_team_id("east");
    for (auto& l : lines) *req.add_lines() = l;
    grpc::ClientContext ctx;
    As(ctx, user, roles);
    return stub_->CreateOpportunity(&ctx, req, out);
  }

  static v1::LineInput Line(const std::string& product, int32_t qty, int32_t bp = 0) {
    v1::LineInput l;
    l.set_product_id(product);
    l.set_quantity(qty);
    l.set_discount_bp(bp);
    return l;
  }

  template <typename Req>
  grpc::Status Call(grpc::Status (v1::OpportunityService::Stub::*method)(grpc::ClientContext*,
                                                                         const Req&,
                                                                         v1::Opportunity*),
                    Req req, v1::Opportunity* out, const std::string& user = "rep-1",
                    const std::string& roles = "") {
    grpc::ClientContext ctx;
    As(ctx, user, roles);
    return ((*stub_).*method)(&ctx, req, out);
  }

  grpc::Status Advance(const v1::Opportunity& o, const std::string& stage, v1::Opportunity* out) {
    v1::AdvanceStageRequest req;
    req.set_request_id(absl::StrCat("advance-", o.opportunity_id(), "-", stage, "-", ++calls_));
    req.set_name(o.name());
    req.set_stage_id(stage);
    return Call(&v1::OpportunityService::Stub::AdvanceStage, req, out);
  }

  test::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::mutex sync_mu_;
  int calls_ = 0;
  std::unique_ptr<eventstore::EventStore> customer_store_;
  std::unique_ptr<readstore::ReadStore> customer_read_;
  std::unique_ptr<customer::CustomerCommandHandler> customer_commands_;
  std::unique_ptr<customer::CustomerServiceImpl> customer_service_;
  std::unique_ptr<grpc::Server> customer_server_;
  std::unique_ptr<cv1::CustomerService::Stub> customers_;
  std::unique_ptr<eventstore::EventStore> contract_store_;
  std::unique_ptr<contract::ContractCommandHandler> contract_commands_;
  std::unique_ptr<readstore::ReadStore> contract_read_;
  std::unique_ptr<contract::ContractServiceImpl> contract_service_;
  std::unique_ptr<grpc::Server> contract_server_;
  std::unique_ptr<kv1::ContractService::Stub> contracts_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<readstore::ReadStore> read_;
  std::unique_ptr<OpportunityListProjection> list_;
  std::unique_ptr<readstore::ProjectionRunner> list_runner_;
  std::unique_ptr<bus::LogTailer> list_tailer_;
  CustomerFactsProjection facts_;
  std::unique_ptr<readstore::ProjectionRunner> facts_runner_;
  std::unique_ptr<bus::LogTailer> facts_tailer_;
  std::unique_ptr<OpportunityCommandHandler> commands_;
  rpc::ServiceTokens tokens_ = test::TestServiceTokens("opportunity");
  std::unique_ptr<ContractClient> contract_client_;
  std::unique_ptr<OpportunityServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::OpportunityService::Stub> stub_;
  std::string customer_;
};

// Lists filtered by owner or customer, or of open ones only, walk those
// indexes, page through them, and find opportunities stored before the
// indexes once they are derived.
TEST_F(OpportunityServiceTest, ListsFilterByOwnerAndCustomerThroughTheirIndexes) {
  const std::string beta = CreateCustomer("rep-1", "Beta AG", false);
  const std::string gamma = CreateCustomer("rep-2", "Gamma SE", false);
  v1::Opportunity out;
  ASSERT_TRUE(Create("o1", &out).ok());
  ASSERT_TRUE(Create("o2", &out, {}, "rep-1", "", beta).ok());
  v1::Opportunity o3;
  ASSERT_TRUE(Create("o3", &o3, {}, "rep-1").ok());
  ASSERT_TRUE(Create("o4", &out, {}, "rep-2", "", gamma).ok());
  // o3 is lost.
  v1::RequestCloseLostRequest lose;
  lose.set_request_id("lose-o3");
  lose.set_name(o3.name());
  lose.set_reason(crm::opportunity::events::v1::LOSS_REASON_COMPETITOR);
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::RequestCloseLost, lose, &out).ok());
  v1::DecideCloseLostRequest decide;
  decide.set_request_id("decide-o3");
  decide.set_name(o3.name());
  decide.set_approve(true);
  ASSERT_TRUE(
      Call(&v1::OpportunityService::Stub::DecideCloseLost, decide, &out, "lead-9", "manager").ok());
  ASSERT_EQ(out.state(), v1::OPPORTUNITY_STATE_LOST);
  Sync();

  // Every page of the list, joined; names of the opportunities.
  auto list = [&](const std::string& owner, const std::string& customer, int page_size,
                  bool open_only = false) {
    std::multiset<std::string> names;
    std::string token;
    do {
      v1::ListOpportunitiesRequest req;
      req.set_owner_id(owner);
      req.set_customer_id(customer);
      req.set_open_only(open_only);
      req.set_page_size(page_size);
      req.set_page_token(token);
      v1::ListOpportunitiesResponse resp;
      grpc::ClientContext ctx;
      As(ctx, "boss", "admin");
      grpc::Status s = stub_->ListOpportunities(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& o : resp.opportunities()) names.insert(o.display_name());
      token = resp.next_page_token();
    } while (!token.empty());
    return names;
  };
  using Names = std::multiset<std::string>;
  const Names rep1{"Rollout o1", "Rollout o2", "Rollout o3"};
  EXPECT_EQ(list("rep-1", "", 100), rep1);
  EXPECT_EQ(list("rep-1", "", 1), rep1);
  EXPECT_EQ(list("", customer_, 1), (Names{"Rollout o1", "Rollout o3"}));
  EXPECT_EQ(list("rep-1", beta, 100), Names{"Rollout o2"});
  EXPECT_EQ(list("rep-2", beta, 100), Names{});
  EXPECT_EQ(list("", "", 2).size(), 4u);
  const Names open{"Rollout o1", "Rollout o2", "Rollout o4"};
  EXPECT_EQ(list("", "", 1, true), open);
  EXPECT_EQ(list("rep-1", "", 1, true), (Names{"Rollout o1", "Rollout o2"}));

  // A store from before the indexes: its entries are gone until derived.
  std::vector<std::string> entries;
  ASSERT_TRUE(read_
                  ->Scan("acme", "",
                         [&](absl::string_view key, absl::string_view) {
                           if (absl::StrContains(key, "opp-owner") ||
                               absl::StrContains(key, "opp-customer") ||
                               absl::StrContains(key, "opp-open")) {
                             entries.emplace_back(key);
                           }
                           return true;
                         })
                  .ok());
  ASSERT_EQ(entries.size(), 11u);
  for (const auto& key : entries) {
    ASSERT_TRUE(read_->db()->Delete(rocksdb::WriteOptions(), read_->rows(), key).ok());
  }
  EXPECT_EQ(list("rep-1", "", 100), Names{});
  EXPECT_EQ(list("", "", 100, true), Names{});
  ASSERT_TRUE(IndexStoredOpportunities(read_.get()).ok());
  EXPECT_EQ(list("rep-1", "", 1), rep1);
  EXPECT_EQ(list("", "", 1, true), open);
  EXPECT_EQ(list("rep-2", gamma, 100), Names{"Rollout o4"});
}

TEST_F(OpportunityServiceTest, LinesArePricedFromTheBookWithinTheRolesDiscount) {
  v1::Opportunity o;
  grpc::Status s = Create("o1", &o, {Line("seat", 10, 500), Line("setup", 1)});
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(o.lines(0).amount(), 1140000);  // 10 x 1,200.00 less 5%
  EXPECT_EQ(o.amount(), 1640000);
  EXPECT_EQ(o.stage_id(), "qualify");
  EXPECT_EQ(o.probability(), 10);
  EXPECT_EQ(o.owner_id(), "rep-1");

  EXPECT_EQ(Reason(Create("o2", &o, {Line("seat", 1, 1500)})), "DISCOUNT_OVER_LIMIT");
  EXPECT_TRUE(Create("o3", &o, {Line("seat", 1, 1500)}, "rep-1", "manager").ok());
  EXPECT_EQ(Create("o4", &o, {Line("ghost", 1)}).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  const std::string theirs = CreateCustomer("rep-2", "Globex", false);
  EXPECT_EQ(Reason(Create("o5", &o, {}, "rep-1", "", theirs)), "CUSTOMER_NOT_OWNED");
  EXPECT_EQ(Create("o6", &o, {}, "rep-1", "", "c-unknown").error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::SaveProductRequest p;
  p.set_request_id("p-x");
  p.mutable_product()->set_product_id("x");
  p.mutable_product()->set_display_name("X");
  v1::Product out;
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  EXPECT_EQ(stub_->SaveProduct(&ctx, p, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(OpportunityServiceTest, TheTeamDefaultsToTheCreatorsTeamFromTheirToken) {
  v1::CreateOpportunityRequest req;
  req.set_request_id("t1");
  req.mutable_opportunity()->set_customer_id(customer_);
  req.mutable_opportunity()->set_display_name("Rollout t1");
  v1::Opportunity o;
  grpc::ClientContext ctx;
  rpc::SetBearer(ctx, test::TestToken("rep-1", "acme", "rep", {"west", "east"}));
  ASSERT_TRUE(stub_->CreateOpportunity(&ctx, req, &o).ok());
  EXPECT_EQ(o.team_id(), "west");
  // A team given on the request wins.
  ASSERT_TRUE(Create("t2", &o).ok());
  EXPECT_EQ(o.team_id(), "east");
}

TEST_F(OpportunityServiceTest, ABlockedAdvanceNamesItsUnmetConditionsUntilTheyAreMet) {
  const std::string customer = CreateCustomer("rep-1", "Initech", true);
  v1::Opportunity o;
  ASSERT_TRUE(Create("o1", &o, {Line("seat", 5)}, "rep-1", "", customer).ok());
  v1::Opportunity out;
  grpc::Status blocked = Advance(o, "demo-done", &out);
  ASSERT_EQ(blocked.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(blocked), "STAGE_CONDITIONS_UNMET");
  std::set<std::string> unmet;
  const google::rpc::PreconditionFailure pf = PreconditionFailureOf(rpc::FromGrpcStatus(blocked));
  for (const auto& v : pf.violations()) unmet.insert(v.type());
  EXPECT_EQ(unmet, (std::set<std::string>{"NEED_RECORDED", "DEMO_TOUCH_LOGGED"}))
      << "the key person is known from the customer topic";

  v1::RecordNeedRequest need;
  need.set_request_id("need");
  need.set_name(o.name());
  need.set_need("one pipeline view for 40 reps");
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::RecordNeed, need, &out).ok());
  cv1::RecordTouchRequest touch;
  touch.set_request_id("demo-meeting");
  touch.set_customer("customers/" + customer);
  touch.mutable_touch()->set_channel(crm::customer::events::v1::TOUCH_CHANNEL_MEETING);
  touch.mutable_touch()->set_outcome("product demo");
  touch.mutable_touch()->set_note("walked the buying committee through the forecast views");
  cv1::Touch touched;
  grpc::ClientContext tctx;
  As(tctx, "rep-1");
  ASSERT_TRUE(customers_->RecordTouch(&tctx, touch, &touched).ok());
  ASSERT_TRUE(touched.valid()) << touched.invalid_reason();

  clock_.Advance(absl::Hours(72));
  grpc::Status moved = Advance(o, "demo-done", &out);
  ASSERT_TRUE(moved.ok()) << moved.error_message();
  EXPECT_EQ(out.stage_id(), "demo-done");
  EXPECT_EQ(out.probability(), 40);
  ASSERT_EQ(out.stage_history_size(), 2);
  EXPECT_EQ(
      out.stage_history(1).enter_time().seconds() - out.stage_history(0).enter_time().seconds(),
      72 * 3600);
  // Only the owner moves it.
  v1::AdvanceStageRequest theirs;
  theirs.set_request_id("theirs");
  theirs.set_name(o.name());
  theirs.set_stage_id("qualify");
  EXPECT_EQ(Reason(Call(&v1::OpportunityService::Stub::AdvanceStage, theirs, &out, "rep-2")),
            "NOT_OPPORTUNITY_OWNER");
}

TEST_F(OpportunityServiceTest, ClosingAsLostIsAnApprovalRoundTrip) {
  v1::Opportunity o;
  ASSERT_TRUE(Create("o1", &o).ok());
  v1::RequestCloseLostRequest req;
  req.set_request_id("lose-1");
  req.set_name(o.name());
  v1::Opportunity out;
  EXPECT_EQ(Call(&v1::OpportunityService::Stub::RequestCloseLost, req, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  req.set_reason(crm::opportunity::events::v1::LOSS_REASON_COMPETITOR);
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::RequestCloseLost, req, &out).ok());
  EXPECT_EQ(out.state(), v1::OPPORTUNITY_STATE_LOSS_PENDING);

  v1::DecideCloseLostRequest decide;
  decide.set_request_id("decide-1");
  decide.set_name(o.name());
  decide.set_approve(false);
  decide.set_comment("call them once more");
  EXPECT_EQ(
      Call(&v1::OpportunityService::Stub::DecideCloseLost, decide, &out, "rep-1").error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      Call(&v1::OpportunityService::Stub::DecideCloseLost, decide, &out, "lead-9", "manager").ok());
  EXPECT_EQ(out.state(), v1::OPPORTUNITY_STATE_OPEN);

  req.set_request_id("lose-2");
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::RequestCloseLost, req, &out).ok());
  decide.set_request_id("decide-2");
  decide.set_approve(true);
  ASSERT_TRUE(
      Call(&v1::OpportunityService::Stub::DecideCloseLost, decide, &out, "lead-9", "manager").ok());
  EXPECT_EQ(out.state(), v1::OPPORTUNITY_STATE_LOST);
  EXPECT_EQ(out.probability(), 0);
  EXPECT_EQ(out.loss_reason(), crm::opportunity::events::v1::LOSS_REASON_COMPETITOR);
  decide.set_request_id("decide-3");
  EXPECT_EQ(Reason(Call(&v1::OpportunityService::Stub::DecideCloseLost, decide, &out, "lead-9",
                        "manager")),
            "NO_CLOSE_LOST_REQUEST");
}

TEST_F(OpportunityServiceTest, ARetriedCloseWonCreatesOneContract) {
  v1::Opportunity o;
  ASSERT_TRUE(Create("o1", &o, {Line("seat", 3, 1000), Line("setup", 1)}).ok());
  v1::CloseWonRequest req;
  req.set_request_id("win-1");
  req.set_name(o.name());
  v1::Opportunity won;
  grpc::Status s = Call(&v1::OpportunityService::Stub::CloseWon, req, &won);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(won.state(), v1::OPPORTUNITY_STATE_WON);
  EXPECT_EQ(won.probability(), 100);
  ASSERT_FALSE(won.contract_id().empty());
  req.set_request_id("win-2");
  v1::Opportunity again;
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::CloseWon, req, &again).ok());
  EXPECT_EQ(again.contract_id(), won.contract_id());
  // The contract service answers the derived request id with the same contract.
  auto retried = contract_client_->Create("acme", "rep-1", "opportunity-won:" + o.opportunity_id(),
                                          *commands_->Get("acme", o.opportunity_id()));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, won.contract_id());

  kv1::GetContractRequest get;
  get.set_name("contracts/" + won.contract_id());
  kv1::Contract contract;
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(contracts_->GetContract(&ctx, get, &contract).ok());
  EXPECT_EQ(contract.opportunity_id(), o.opportunity_id());
  EXPECT_EQ(contract.customer_id(), customer_);
  EXPECT_EQ(contract.amount(), won.amount());
  ASSERT_EQ(contract.lines_size(), 2);
  EXPECT_EQ(contract.lines(0).discount_bp(), 1000);
}

TEST_F(OpportunityServiceTest, ForecastWeighsByCalibratedProbabilityPerRepAndQuarter) {
  v1::UpdateOpportunitySettingsRequest settings;
  settings.set_request_id("settings");
  settings.mutable_settings()->set_calibration_min_closed(2);
  v1::OpportunitySettings saved;
  grpc::ClientContext sctx;
  As(sctx, "boss", "admin");
  ASSERT_TRUE(stub_->UpdateOpportunitySettings(&sctx, settings, &saved).ok());

  // One won, one lost: half of what reached "qualify" was won.
  v1::Opportunity won, lost, open;
  ASSERT_TRUE(Create("won", &won, {Line("seat", 1)}).ok());
  v1::CloseWonRequest win;
  win.set_request_id("win");
  win.set_name(won.name());
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::CloseWon, win, &won).ok());
  ASSERT_TRUE(Create("lost", &lost).ok());
  v1::RequestCloseLostRequest lose;
  lose.set_request_id("lose");
  lose.set_name(lost.name());
  lose.set_reason(crm::opportunity::events::v1::LOSS_REASON_PRICE);
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::RequestCloseLost, lose, &lost).ok());
  v1::DecideCloseLostRequest approve;
  approve.set_request_id("approve");
  approve.set_name(lost.name());
  approve.set_approve(true);
  ASSERT_TRUE(
      Call(&v1::OpportunityService::Stub::DecideCloseLost, approve, &lost, "boss", "manager").ok());

  ASSERT_TRUE(Create("open", &open, {Line("setup", 1)}).ok());
  v1::UpdateForecastRequest when;
  when.set_request_id("when");
  when.set_name(open.name());
  *when.mutable_expected_close_time() =
      ToTimestamp(absl::FromUnixSeconds(1'800'000'000) + absl::Hours(24 * 60));
  ASSERT_TRUE(Call(&v1::OpportunityService::Stub::UpdateForecast, when, &open).ok());
  Sync();
  v1::GetOpportunityRequest get;
  get.set_name(open.name());
  grpc::ClientContext gctx;
  As(gctx, "rep-1");
  ASSERT_TRUE(stub_->GetOpportunity(&gctx, get, &open).ok());
  EXPECT_EQ(open.probability(), 50);
  EXPECT_TRUE(open.probability_calibrated());

  v1::GetForecastRequest req;
  req.set_group_by(v1::GetForecastRequest::GROUP_BY_REP);
  req.set_period(v1::GetForecastRequest::PERIOD_QUARTER);
  v1::Forecast forecast;
  grpc::ClientContext fctx;
  As(fctx, "rep-1");
  ASSERT_TRUE(stub_->GetForecast(&fctx, req, &forecast).ok());
  // 2027-01-15 + 60 days is in 2027-Q1; the win on 2027-01-15 too.
  ASSERT_EQ(forecast.rows_size(), 2);
  std::map<int, v1::ForecastRow> by_category;
  for (const auto& r : forecast.rows()) by_category[r.category()] = r;
  const auto& closed = by_category[crm::opportunity::events::v1::FORECAST_CATEGORY_CLOSED];
  EXPECT_EQ(closed.group(), "rep-1");
  EXPECT_EQ(closed.period(), "2027-Q1");
  EXPECT_EQ(closed.amount(), 120000);
  EXPECT_EQ(closed.weighted_amount(), 120000);
  const auto& pipeline = by_category[crm::opportunity::events::v1::FORECAST_CATEGORY_PIPELINE];
  EXPECT_EQ(pipeline.amount(), 500000);
  EXPECT_EQ(pipeline.weighted_amount(), 250000);
}

}  // namespace
}  // namespace crm::opportunity
