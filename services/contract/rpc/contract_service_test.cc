// The contract service over real gRPC (loopback, port 0) with real RocksDB
// stores and an injected clock: approval routing, the rejection loop, the
// flow to signing, and payments with the receivables they leave.

#include "services/contract/rpc/contract_service.h"

#include <map>
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
#include "services/contract/app/notice_scheduler.h"
#include "services/contract/projection/contract_list.h"

namespace crm::contract {
namespace {

absl::Duration Days(int d) { return absl::Hours(24 * d); }

void As(grpc::ClientContext& ctx, const std::string& user, const std::string& roles = "") {
  test::Authorize(ctx, user, "acme", roles);
}

std::string Reason(const grpc::Status& s) { return ErrorReason(rpc::FromGrpcStatus(s)); }

class ContractServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *eventstore::EventStore::Open({.path = dir_.path() + "/events", .clock = &clock_});
    read_ = *readstore::ReadStore::Open(dir_.path() + "/read");
    list_ = std::make_unique<ContractListProjection>(store_.get());
    runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), list_.get());
    tailer_ = std::make_unique<bus::LogTailer>(store_.get(), runner_.get());
    commands_ = std::make_unique<ContractCommandHandler>(store_.get(), &clock_);
    service_ = std::make_unique<ContractServiceImpl>(commands_.get(), read_.get());
    int port = 0;
    server_ = test::Serve(service_.get(), &port);
    stub_ = v1::ContractService::NewStub(test::ChannelTo(port));

    v1::UpdateApprovalRulesRequest rules;
    rules.set_request_id("rules");
    rules.mutable_rules()->add_team_leads("tl");
    rules.mutable_rules()->add_directors("dir");
    rules.mutable_rules()->add_legal("law-1");
    rules.mutable_rules()->add_legal("law-2");
    ev::ApprovalRules out;
    grpc::ClientContext ctx;
    As(ctx, "boss", "admin");
    EXPECT_TRUE(stub_->UpdateApprovalRules(&ctx, rules, &out).ok());
    v1::SaveTemplateRequest tmpl;
    tmpl.set_request_id("template");
    tmpl.mutable_template_()->set_template_id("std");
    tmpl.mutable_template_()->set_name("Standard SaaS");
    auto* line = tmpl.mutable_template_()->add_lines();
    line->set_product_id("seat");
    line->set_list_price(120000);
    line->set_max_discount_bp(1000);
    tmpl.mutable_template_()->set_payment_terms_days(30);
    tmpl.mutable_template_()->set_duration_months(12);
    ev::ContractTemplate saved;
    grpc::ClientContext tctx;
    As(tctx, "boss", "admin");
    EXPECT_TRUE(stub_->SaveTemplate(&tctx, tmpl, &saved).ok());
  }

  void TearDown() override { server_->Shutdown(); }

  v1::Contract Create(const std::string& rid, int32_t seats, int32_t bp,
                      const std::string& template_id = "std") {
    v1::CreateContractRequest req;
    req.set_request_id(rid);
    auto* c = req.mutable_contract();
    c->set_customer_id("c-1");
    c->set_template_id(template_id);
    if (template_id.empty()) c->set_document_ref("dms://contracts/" + rid + ".pdf");
    c->set_payment_terms_days(30);
    c->set_duration_months(12);
    auto* l = c->add_lines();
    l->set_product_id("seat");
    l->set_quantity(seats);
    l->set_list_price(120000);
    l->set_discount_bp(bp);
    v1::Contract out;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    grpc::Status s = stub_->CreateContract(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Act(grpc::Status (v1::ContractService::Stub::*method)(
                       grpc::ClientContext*, const v1::ContractActionRequest&, v1::Contract*),
                   const v1::Contract& c, v1::Contract* out, const std::string& user = "rep-1") {
    v1::ContractActionRequest req;
    req.set_request_id(absl::StrCat("act-", ++calls_));
    req.set_name(c.name());
    grpc::ClientContext ctx;
    As(ctx, user);
    return ((*stub_).*method)(&ctx, req, out);
  }

  grpc::Status Submit(const v1::Contract& c, v1::Contract* out) {
    v1::SubmitContractRequest req;
    req.set_request_id(absl::StrCat("submit-", ++calls_));
    req.set_name(c.name());
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    return stub_->SubmitContract(&ctx, req, out);
  }

  grpc::Status Decide(bool approve, const v1::Contract& c, const std::string& user,
                      const std::string& comment, v1::Contract* out) {
    v1::DecideContractRequest req;
    req.set_request_id(absl::StrCat("decide-", ++calls_));
    req.set_name(c.name());
    req.set_comment(comment);
    grpc::ClientContext ctx;
    As(ctx, user);
    return approve ? stub_->ApproveContract(&ctx, req, out) : stub_->RejectContract(&ctx, req, out);
  }

  // A small standard contract (approved on submission), signed now, with
  // installments of 600,000 due 30 and 60 days on.
  v1::Contract Signed(const std::string& rid) {
    v1::Contract c = Create(rid, 10, 0);
    EXPECT_TRUE(Submit(c, &c).ok());
    EXPECT_TRUE(Act(&v1::ContractService::Stub::SendContract, c, &c).ok());
    EXPECT_TRUE(Act(&v1::ContractService::Stub::ConfirmContract, c, &c).ok());
    v1::SetPaymentPlanRequest plan;
    plan.set_request_id(rid + "-plan");
    plan.set_name(c.name());
    for (int i = 1; i <= 2; ++i) {
      auto* in = plan.add_installments();
      in->set_amount(600000);
      *in->mutable_due_time() = ToTimestamp(clock_.Now() + Days(30 * i));
    }
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    grpc::Status s = stub_->SetPaymentPlan(&ctx, plan, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return c;
  }

  grpc::Status Pay(const v1::Contract& c, const std::string& rid, int64_t amount, absl::Time when,
                   v1::Contract* out) {
    v1::RecordPaymentRequest req;
    req.set_request_id(rid);
    req.set_name(c.name());
    req.set_amount(amount);
    *req.mutable_receive_time() = ToTimestamp(when);
    grpc::ClientContext ctx;
    As(ctx, "finance");
    return stub_->RecordPayment(&ctx, req, out);
  }

  std::vector<std::string> Reminders(const std::string& user) {
    EXPECT_TRUE(tailer_->CatchUp().ok());
    v1::ListContractRemindersResponse resp;
    grpc::ClientContext ctx;
    As(ctx, user);
    grpc::Status s = stub_->ListContractReminders(&ctx, {}, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const auto& r : resp.reminders()) out.push_back(r.rule() + ":" + r.item_id());
    return out;
  }

  // How many events of each notice type the contract's stream holds.
  std::map<std::string, int> Notices(const v1::Contract& c) {
    std::map<std::string, int> out;
    auto events = store_->ReadStream({"acme", c.contract_id()});
    EXPECT_TRUE(events.ok());
    for (const auto& e : *events) {
      const std::string type = e.type().substr(e.type().rfind('.') + 1);
      if (type == "PaymentOverdue" || type == "RenewalDue" || type == "FollowUpDue") ++out[type];
    }
    return out;
  }

  std::vector<ev::ApproverRole> Roles(const v1::Contract& c) {
    std::vector<ev::ApproverRole> out;
    for (const auto& s : c.approval_steps()) out.push_back(s.role());
    return out;
  }

  test::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  int calls_ = 0;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<readstore::ReadStore> read_;
  std::unique_ptr<ContractListProjection> list_;
  std::unique_ptr<readstore::ProjectionRunner> runner_;
  std::unique_ptr<bus::LogTailer> tailer_;
  std::unique_ptr<ContractCommandHandler> commands_;
  std::unique_ptr<ContractServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ContractService::Stub> stub_;
};

// Lists by owner or customer read those contracts through their indexes and
// return exactly the ones matching every filter given.
TEST_F(ContractServiceTest, ListsFilterByOwnerAndCustomer) {
  auto create = [&](const std::string& rid, const std::string& owner, const std::string& customer) {
    v1::Contract out;
    v1::CreateContractRequest req;
    req.set_request_id(rid);
    req.mutable_contract()->set_customer_id(customer);
    req.mutable_contract()->set_template_id("std");
    auto* l = req.mutable_contract()->add_lines();
    l->set_product_id("seat");
    l->set_quantity(5);
    l->set_list_price(120000);
    grpc::ClientContext ctx;
    As(ctx, owner);
    EXPECT_TRUE(stub_->CreateContract(&ctx, req, &out).ok());
    return out;
  };
  const v1::Contract k1 = create("k1", "rep-1", "c-1");
  create("k2", "rep-1", "c-2");
  create("k3", "rep-2", "c-1");
  v1::Contract submitted;  // a later event writes the row and its entries again
  ASSERT_TRUE(Submit(k1, &submitted).ok());
  ASSERT_TRUE(tailer_->CatchUp().ok());

  // Pages of two, followed to the end.
  int pages = 0;
  auto list = [&](const std::string& owner, const std::string& customer) {
    v1::ListContractsRequest req;
    req.set_owner_id(owner);
    req.set_customer_id(customer);
    req.set_page_size(2);
    std::multiset<std::string> out;  // a contract listed twice would show
    pages = 0;
    do {
      v1::ListContractsResponse resp;
      grpc::ClientContext ctx;
      As(ctx, "rep-1");
      EXPECT_TRUE(stub_->ListContracts(&ctx, req, &resp).ok());
      EXPECT_LE(resp.contracts_size(), 2);
      for (const auto& c : resp.contracts()) out.insert(c.owner_id() + "/" + c.customer_id());
      req.set_page_token(resp.next_page_token());
      ++pages;
    } while (!req.page_token().empty() && pages < 10);
    return out;
  };
  using Set = std::multiset<std::string>;
  EXPECT_EQ(list("rep-1", ""), (Set{"rep-1/c-1", "rep-1/c-2"}));
  EXPECT_EQ(pages, 1);
  EXPECT_EQ(list("", "c-1"), (Set{"rep-1/c-1", "rep-2/c-1"}));
  EXPECT_EQ(list("rep-2", "c-1"), (Set{"rep-2/c-1"}));
  EXPECT_EQ(list("rep-2", "c-2"), Set{});
  EXPECT_EQ(list("", ""), (Set{"rep-1/c-1", "rep-1/c-2", "rep-2/c-1"}));
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(list("rep-3", ""), Set{});

  // A token is good only for the list it came from; sizes are not negative.
  v1::ListContractsRequest first;
  first.set_page_size(1);
  v1::ListContractsResponse page;
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(stub_->ListContracts(&ctx, first, &page).ok());
    ASSERT_FALSE(page.next_page_token().empty());
  }
  v1::ListContractsRequest other;
  other.set_owner_id("rep-1");
  other.set_page_token(page.next_page_token());
  v1::ListContractsRequest negative;
  negative.set_page_size(-1);
  for (const auto& [req, field] : {std::pair{other, "page_token"}, {negative, "page_size"}}) {
    v1::ListContractsResponse resp;
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    const grpc::Status s = stub_->ListContracts(&ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(absl::StrContains(s.error_message(), field)) << s.error_message();
  }

  // A store from before the indexes: its entries are gone until derived.
  std::vector<std::string> entries;
  ASSERT_TRUE(read_
                  ->Scan("acme", "",
                         [&](absl::string_view key, absl::string_view) {
                           if (absl::StrContains(key, "contract-owner") ||
                               absl::StrContains(key, "contract-customer")) {
                             entries.emplace_back(key);
                           }
                           return true;
                         })
                  .ok());
  ASSERT_EQ(entries.size(), 6u);
  for (const auto& key : entries) {
    ASSERT_TRUE(read_->db()->Delete(rocksdb::WriteOptions(), read_->rows(), key).ok());
  }
  EXPECT_EQ(list("rep-1", ""), Set{});
  ASSERT_TRUE(IndexStoredContracts(read_.get()).ok());
  EXPECT_EQ(list("rep-1", ""), (Set{"rep-1/c-1", "rep-1/c-2"}));
  EXPECT_EQ(list("", "c-1"), (Set{"rep-1/c-1", "rep-2/c-1"}));
}

TEST_F(ContractServiceTest, ApprovalIsRoutedForThreeThresholdCases) {
  // Below every threshold, standard: approved on submission.
  v1::Contract small = Create("small", 10, 0);
  EXPECT_TRUE(small.deviations().empty());
  ASSERT_TRUE(Submit(small, &small).ok());
  EXPECT_EQ(small.state(), v1::CONTRACT_STATE_APPROVED);
  EXPECT_TRUE(small.approval_steps().empty());

  // Above the team lead's amount: one step, the team lead's.
  v1::Contract medium = Create("medium", 50, 0);
  ASSERT_TRUE(Submit(medium, &medium).ok());
  EXPECT_EQ(medium.state(), v1::CONTRACT_STATE_IN_APPROVAL);
  EXPECT_EQ(Roles(medium), std::vector<ev::ApproverRole>{ev::APPROVER_ROLE_TEAM_LEAD});
  EXPECT_EQ(Decide(true, medium, "dir", "", &medium).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Decide(true, medium, "tl", "fine", &medium).ok());
  EXPECT_EQ(medium.state(), v1::CONTRACT_STATE_APPROVED);

  // Above the director's amount, with a discount over the template's limit:
  // team lead, director, then legal for the deviation, both lawyers.
  v1::Contract large = Create("large", 200, 1500);
  ASSERT_EQ(large.deviations_size(), 1);
  EXPECT_EQ(large.deviations(0).field(), "lines[0].discount_bp");
  ASSERT_TRUE(Submit(large, &large).ok());
  EXPECT_EQ(Roles(large),
            (std::vector<ev::ApproverRole>{ev::APPROVER_ROLE_TEAM_LEAD, ev::APPROVER_ROLE_DIRECTOR,
                                           ev::APPROVER_ROLE_LEGAL}));
  for (const char* who : {"tl", "dir", "law-1"}) {
    ASSERT_TRUE(Decide(true, large, who, "", &large).ok()) << who;
    EXPECT_EQ(large.state(), v1::CONTRACT_STATE_IN_APPROVAL) << who;
  }
  EXPECT_EQ(large.approval_steps_done(), 2);
  ASSERT_TRUE(Decide(true, large, "law-2", "", &large).ok());
  EXPECT_EQ(large.state(), v1::CONTRACT_STATE_APPROVED);
}

TEST_F(ContractServiceTest, ARejectionLoopsBackToDraftUntilTheTermsAreFixed) {
  v1::Contract c = Create("loop", 50, 0, "");  // non-standard: legal too
  ASSERT_TRUE(Submit(c, &c).ok());
  EXPECT_EQ(Roles(c),
            (std::vector<ev::ApproverRole>{ev::APPROVER_ROLE_TEAM_LEAD, ev::APPROVER_ROLE_LEGAL}));
  ASSERT_TRUE(Decide(true, c, "tl", "", &c).ok());
  EXPECT_EQ(Decide(false, c, "law-1", "", &c).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Decide(false, c, "law-1", "liability clause missing", &c).ok());
  EXPECT_EQ(c.state(), v1::CONTRACT_STATE_DRAFT);
  v1::Contract out;
  grpc::Status refused = Act(&v1::ContractService::Stub::SendContract, c, &out);
  EXPECT_EQ(Reason(refused), "CONTRACT_STATE");
  EXPECT_NE(refused.error_message().find("is a draft"), std::string::npos);

  // The fixed terms go round again from the first step.
  v1::ChangeContractRequest change;
  change.set_request_id("fix");
  *change.mutable_contract() = c;
  change.mutable_contract()->set_document_ref("dms://contracts/loop-v2.pdf");
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(stub_->ChangeContract(&ctx, change, &c).ok());
  ASSERT_TRUE(Submit(c, &c).ok());
  EXPECT_EQ(c.approval_round(), 2);
  EXPECT_EQ(c.approval_steps_done(), 0);
  for (const char* who : {"tl", "law-1", "law-2"}) ASSERT_TRUE(Decide(true, c, who, "", &c).ok());
  EXPECT_EQ(c.state(), v1::CONTRACT_STATE_APPROVED);
  ASSERT_TRUE(Act(&v1::ContractService::Stub::SendContract, c, &c).ok());
  ASSERT_TRUE(Act(&v1::ContractService::Stub::ConfirmContract, c, &c).ok());
  EXPECT_EQ(c.state(), v1::CONTRACT_STATE_ACTIVE);
}

TEST_F(ContractServiceTest, PartialAndLateReceiptsLeaveTheAgingTheyShould) {
  v1::Contract c = Create("pay", 10, 0);  // 1,200,000
  ASSERT_TRUE(Submit(c, &c).ok());
  ASSERT_TRUE(Act(&v1::ContractService::Stub::SendContract, c, &c).ok());
  ASSERT_TRUE(Act(&v1::ContractService::Stub::ConfirmContract, c, &c).ok());
  const absl::Time t0 = clock_.Now();
  v1::SetPaymentPlanRequest plan;
  plan.set_request_id("plan");
  plan.set_name(c.name());
  for (int i = 1; i <= 3; ++i) {
    auto* in = plan.add_installments();
    in->set_amount(400000);
    *in->mutable_due_time() = ToTimestamp(t0 + Days(30 * i));
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(stub_->SetPaymentPlan(&ctx, plan, &c).ok());
  }
  auto pay = [&](const std::string& rid, int64_t amount, absl::Time when) {
    v1::RecordPaymentRequest req;
    req.set_request_id(rid);
    req.set_name(c.name());
    req.set_amount(amount);
    *req.mutable_receive_time() = ToTimestamp(when);
    grpc::ClientContext ctx;
    As(ctx, "finance");
    grpc::Status s = stub_->RecordPayment(&ctx, req, &c);
    EXPECT_TRUE(s.ok()) << s.error_message();
  };
  // The first installment is paid late and in part; the second not at all.
  clock_.Advance(Days(75));
  pay("r1", 150000, t0 + Days(40));
  pay("r1", 150000, t0 + Days(40));  // a retry records nothing more
  pay("r2", 100000, t0 + Days(70));
  EXPECT_EQ(c.installments(0).paid(), 250000);
  EXPECT_EQ(c.installments(1).paid(), 0);
  ASSERT_TRUE(tailer_->CatchUp().ok());

  v1::GetReceivablesRequest req;
  req.set_group_by(v1::GetReceivablesRequest::GROUP_BY_OWNER);
  v1::Receivables r;
  grpc::ClientContext ctx;
  As(ctx, "finance");
  ASSERT_TRUE(stub_->GetReceivables(&ctx, req, &r).ok());
  ASSERT_EQ(r.rows_size(), 1);
  EXPECT_EQ(r.rows(0).group(), "rep-1");
  EXPECT_EQ(r.rows(0).days_31_60(), 150000);  // the first: due day 30, 45 days late
  EXPECT_EQ(r.rows(0).days_0_30(), 400000);   // the second: 15 days late
  EXPECT_EQ(r.rows(0).not_due(), 400000);
  EXPECT_EQ(r.rows(0).total(), 950000);
  ASSERT_EQ(r.overdue_size(), 2);  // the reminders, oldest first
  EXPECT_EQ(r.overdue(0).days_overdue(), 45);
  EXPECT_EQ(r.overdue(0).open(), 150000);
  EXPECT_EQ(r.overdue(1).days_overdue(), 15);

  v1::SetPaymentPlanRequest again = plan;
  again.set_request_id("plan-2");
  grpc::ClientContext pctx;
  As(pctx, "rep-1");
  v1::Contract out;
  EXPECT_EQ(Reason(stub_->SetPaymentPlan(&pctx, again, &out)), "PAYMENTS_RECEIVED");
}

TEST_F(ContractServiceTest, MilestonesNoticesAndRemindersFollowTheContract) {
  v1::Contract c = Signed("svc");
  const absl::Time t0 = clock_.Now();
  const std::string inst1 = c.installments(0).installment_id();

  // Customer service adds the kick-off; a rep of another deal may not.
  v1::AddMilestoneRequest add;
  add.set_request_id("m1");
  add.set_name(c.name());
  add.mutable_milestone()->set_title("Kick-off workshop");
  add.mutable_milestone()->set_owner_id("cs-1");
  *add.mutable_milestone()->mutable_due_time() = ToTimestamp(t0 + Days(10));
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-2");
    v1::Contract out;
    EXPECT_EQ(Reason(stub_->AddMilestone(&ctx, add, &out)), "NOT_CONTRACT_OWNER");
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "cs-lead", "service");
    ASSERT_TRUE(stub_->AddMilestone(&ctx, add, &c).ok());
  }
  ASSERT_EQ(c.milestones_size(), 1);
  const std::string milestone = c.milestones(0).milestone_id();
  EXPECT_TRUE(Reminders("rep-1").empty());  // due in 10 days: not yet

  clock_.Advance(Days(4));  // due within 7 days: the rep and the owner see it
  EXPECT_EQ(Reminders("rep-1"), std::vector<std::string>{"milestone-due:" + milestone});
  EXPECT_EQ(Reminders("cs-1"), std::vector<std::string>{"milestone-due:" + milestone});

  // A store from before the milestone owners' index: cs-1 finds nothing
  // there until the entries are derived.
  std::vector<std::string> derived;
  ASSERT_TRUE(read_
                  ->Scan("", "",
                         [&](absl::string_view key, absl::string_view) {
                           if (absl::StrContains(key, "milestone-owner")) derived.emplace_back(key);
                           return true;
                         })
                  .ok());
  ASSERT_EQ(derived.size(), 2u);  // cs-1's entry and the contract's owners
  for (const auto& key : derived) {
    ASSERT_TRUE(read_->db()->Delete(rocksdb::WriteOptions(), read_->rows(), key).ok());
  }
  EXPECT_TRUE(Reminders("cs-1").empty());
  ASSERT_TRUE(IndexStoredContracts(read_.get()).ok());
  EXPECT_EQ(Reminders("cs-1"), std::vector<std::string>{"milestone-due:" + milestone});

  v1::CompleteMilestoneRequest done;
  done.set_request_id("m1-done");
  done.set_name(c.name());
  done.set_milestone_id(milestone);
  done.set_note("workshop held, 12 users trained");
  done.set_follow_up(ev::FOLLOW_UP_KIND_CROSS_SELL);
  done.set_follow_up_after_days(20);  // day 24
  {
    grpc::ClientContext ctx;
    As(ctx, "cs-1");
    ASSERT_TRUE(stub_->CompleteMilestone(&ctx, done, &c).ok());
  }
  EXPECT_TRUE(Reminders("cs-1").empty());

  // Day 31: the first installment is overdue; the cross-sell came due on
  // day 24. The scheduler pushes each notice once.
  clock_.Advance(Days(27));
  NoticeScheduler notices(read_.get(), commands_.get());
  ASSERT_TRUE(tailer_->CatchUp().ok());
  auto given = notices.Tick();
  ASSERT_TRUE(given.ok()) << given.status();
  EXPECT_EQ(*given, 2);
  ASSERT_TRUE(tailer_->CatchUp().ok());
  EXPECT_EQ(*notices.Tick(), 0);
  EXPECT_EQ(Notices(c), (std::map<std::string, int>{{"PaymentOverdue", 1}, {"FollowUpDue", 1}}));
  EXPECT_EQ(Reminders("rep-1"),
            (std::vector<std::string>{"cross-sell:" + milestone, "payment-overdue:" + inst1}));

  // Paid: the overdue reminder goes; the renewal notice comes 60 days before
  // the end of the 12-month term.
  ASSERT_TRUE(Pay(c, "pay", 1200000, clock_.Now(), &c).ok());
  clock_.Advance(Days(300));
  ASSERT_TRUE(tailer_->CatchUp().ok());
  EXPECT_EQ(*notices.Tick(), 1);
  EXPECT_EQ(Notices(c)["RenewalDue"], 1);
  EXPECT_EQ(Reminders("rep-1"), std::vector<std::string>{"renewal:"});

  // A renewal of another customer's contract is refused; the real one ends
  // the reminder.
  v1::CreateContractRequest renew;
  renew.set_request_id("renew");
  renew.mutable_contract()->set_customer_id("c-2");
  renew.mutable_contract()->set_renewal_of(c.contract_id());
  renew.mutable_contract()->set_document_ref("dms://contracts/renewal.pdf");
  auto* line = renew.mutable_contract()->add_lines();
  line->set_product_id("seat");
  line->set_quantity(10);
  line->set_list_price(120000);
  v1::Contract renewal;
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    EXPECT_EQ(Reason(stub_->CreateContract(&ctx, renew, &renewal)), "RENEWAL_MISMATCH");
  }
  renew.set_request_id("renew-2");
  renew.mutable_contract()->set_customer_id("c-1");
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(stub_->CreateContract(&ctx, renew, &renewal).ok());
  }
  EXPECT_EQ(renewal.renewal_of(), c.contract_id());
  EXPECT_TRUE(Reminders("rep-1").empty());
}

TEST_F(ContractServiceTest, ExpectedPaymentDatesComeFromTheCustomersPastDelays) {
  // The customer paid the first contract's installments 10 and 14 days late.
  v1::Contract first = Signed("first");
  const absl::Time t0 = clock_.Now();
  clock_.Advance(Days(75));
  ASSERT_TRUE(Pay(first, "p1", 600000, t0 + Days(40), &first).ok());
  ASSERT_TRUE(Pay(first, "p2", 600000, t0 + Days(74), &first).ok());
  v1::Contract second = Signed("second");
  ASSERT_TRUE(tailer_->CatchUp().ok());

  v1::GetContractRequest get;
  get.set_name(second.name());
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    ASSERT_TRUE(stub_->GetContract(&ctx, get, &second).ok());
  }
  ASSERT_EQ(second.installments_size(), 2);
  const auto& next = second.installments(0);
  EXPECT_EQ(next.prediction_method(), "customer-median");
  EXPECT_EQ(FromTimestamp(next.expected_pay_time()), FromTimestamp(next.due_time()) + Days(12));

  // Measured on the history: the first installment had nothing to go on (10
  // days off), the second was predicted from the first (4 days off).
  v1::Receivables r;
  grpc::ClientContext ctx;
  As(ctx, "finance");
  ASSERT_TRUE(stub_->GetReceivables(&ctx, {}, &r).ok());
  EXPECT_EQ(r.prediction().samples(), 2);
  EXPECT_DOUBLE_EQ(r.prediction().mean_absolute_error_days(), 7.0);
  EXPECT_DOUBLE_EQ(r.prediction().within_7_days(), 0.5);
}

}  // namespace
}  // namespace crm::contract
