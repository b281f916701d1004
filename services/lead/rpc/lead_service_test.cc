// The lead service over real gRPC (loopback, port 0) with real RocksDB
// stores and an injected clock. Conversion talks to a real customer service
// over gRPC; the customer directory is fed from that service's log.

#include "services/lead/rpc/lead_service.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/bus/log_tailer.h"
#include "libs/eventstore/codec.h"
#include "libs/rpc/rpc.h"
#include "libs/testing/grpc.h"
#include "libs/testing/temp_dir.h"
#include "services/customer/rpc/customer_service.h"
#include "services/lead/app/customer_client.h"
#include "services/lead/app/work_scheduler.h"
#include "services/lead/projection/customer_directory.h"
#include "services/lead/projection/lead_list.h"

namespace crm::lead {
namespace {

namespace cv1 = crm::customer::v1;

using test::ChannelTo;
using test::Serve;

void As(grpc::ClientContext& ctx, const std::string& user, bool admin = false) {
  test::Authorize(ctx, user, "acme", admin ? "admin" : "");
}

std::set<std::string> Fields(const grpc::Status& s) {
  const google::rpc::BadRequest br = BadRequestOf(rpc::FromGrpcStatus(s));
  std::set<std::string> out;
  for (const auto& v : br.field_violations()) out.insert(v.field());
  return out;
}

std::string Reason(const grpc::Status& s) { return ErrorReason(rpc::FromGrpcStatus(s)); }

class LeadServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each service keeps its own keys; they share the match secret.
    customer_vault_ = *pii::Vault::Open({dir_.path() + "/c-keys", test::kTestMatchSecret});
    vault_ = *pii::Vault::Open({dir_.path() + "/keys", test::kTestMatchSecret});
    // The customer service, as the conversion's peer.
    customer_store_ = *eventstore::EventStore::Open(
        {.path = dir_.path() + "/c-events", .cipher = customer_vault_.get(), .clock = &clock_});
    customer_read_ = *readstore::ReadStore::Open(dir_.path() + "/c-read");
    customer_commands_ = std::make_unique<customer::CustomerCommandHandler>(
        customer_store_.get(), &clock_, customer::Policy{});
    customer_commands_->SetVault(customer_vault_.get());
    customer_service_ = std::make_unique<customer::CustomerServiceImpl>(customer_commands_.get(),
                                                                        customer_read_.get());
    int customer_port = 0;
    customer_server_ = Serve(customer_service_.get(), &customer_port);
    customers_ = cv1::CustomerService::NewStub(ChannelTo(customer_port));

    store_ = *eventstore::EventStore::Open(
        {.path = dir_.path() + "/events", .cipher = vault_.get(), .clock = &clock_});
    read_ = *readstore::ReadStore::Open(dir_.path() + "/read");
    list_ = std::make_unique<LeadListProjection>(store_.get());
    list_runner_ = std::make_unique<readstore::ProjectionRunner>(read_.get(), list_.get());
    list_tailer_ = std::make_unique<bus::LogTailer>(store_.get(), list_runner_.get());
    directory_ = std::make_unique<CustomerDirectoryProjection>(vault_.get());
    directory_runner_ =
        std::make_unique<readstore::ProjectionRunner>(read_.get(), directory_.get());
    directory_tailer_ =
        std::make_unique<bus::LogTailer>(customer_store_.get(), directory_runner_.get());
    commands_ = std::make_unique<LeadCommandHandler>(store_.get(), &clock_);
    commands_->SetVault(vault_.get());
    directory_->OnContactErased([this](const std::string& tenant, const std::string& person) {
      auto erased = commands_->EraseContact(tenant, "erase-contact:" + person, person, "system");
      return erased.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus()
                                                                   : erased.status();
    });
    commands_->SetLeadMatcher(
        [this](const std::string& tenant, const std::vector<std::string>& keys) {
          Sync();
          return FindLeadMatches(read_.get(), tenant, keys);
        });
    commands_->SetCustomerMatcher(
        [this](const std::string& tenant, const std::vector<std::string>& keys) {
          Sync();
          return FindCustomer(read_.get(), tenant, TagKeys(*vault_, tenant, keys));
        });
    commands_->SetPriorityLookup([this](const std::string& tenant, const std::string& rep) {
      return HasLeadPriority(read_.get(), tenant, rep);
    });
    client_ = std::make_unique<CustomerClient>(ChannelTo(customer_port), &tokens_);
    commands_->SetCustomerCreator([this](const std::string& tenant, const std::string& user,
                                         const std::string& rid, const Lead& lead) {
      ++conversions_asked_;
      return client_->Create(tenant, user, rid, lead);
    });
    scheduler_ = std::make_unique<WorkScheduler>(read_.get(), commands_.get());
    service_ = std::make_unique<LeadServiceImpl>(commands_.get(), read_.get());
    int port = 0;
    server_ = Serve(service_.get(), &port);
    stub_ = v1::LeadService::NewStub(ChannelTo(port));
    DefineChannel("web");
  }

  void TearDown() override {
    server_->Shutdown();
    customer_server_->Shutdown();
  }

  void Sync() {
    std::lock_guard<std::mutex> lock(sync_mu_);
    ASSERT_TRUE(list_tailer_->CatchUp().ok());
    ASSERT_TRUE(directory_tailer_->CatchUp().ok());
  }
  int Tick() {
    Sync();
    int n = *scheduler_->Tick();
    Sync();
    return n;
  }

  void DefineChannel(const std::string& id, ev::AssignMode mode = ev::ASSIGN_MODE_UNSPECIFIED) {
    v1::CreateChannelRequest req;
    req.set_request_id("channel-" + id);
    req.mutable_channel()->set_channel_id(id);
    req.mutable_channel()->set_display_name("Channel " + id);
    req.mutable_channel()->set_kind(ev::CHANNEL_KIND_PAID);
    req.mutable_channel()->set_monthly_cost(120000);
    req.mutable_channel()->set_assign_mode(mode);
    v1::Channel out;
    grpc::ClientContext ctx;
    As(ctx, "boss", true);
    ASSERT_TRUE(stub_->CreateChannel(&ctx, req, &out).ok());
  }

  void Settings(const ev::LeadSettings& s, const std::vector<std::string>& mask) {
    v1::UpdateLeadSettingsRequest req;
    req.set_request_id(absl::StrCat("settings-", ++settings_changes_));
    *req.mutable_settings() = s;
    for (const auto& p : mask) req.mutable_update_mask()->add_paths(p);
    v1::LeadSettings out;
    grpc::ClientContext ctx;
    As(ctx, "boss", true);
    grpc::Status st = stub_->UpdateLeadSettings(&ctx, req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  grpc::Status Create(const std::string& rid, v1::Lead* out, const std::string& company = "Acme",
                      const std::string& email = "", const std::string& legal_id = "") {
    v1::CreateLeadRequest req;
    req.set_request_id(rid);
    v1::Lead* l = req.mutable_lead();
    l->set_channel_id("web");
    l->set_company_name(company);
    l->set_contact_name("Ann Lee");
    l->set_email(email);
    l->set_legal_entity_id(legal_id);
    l->set_industry("manufacturing");
    l->set_region("berlin");
    grpc::ClientContext ctx;
    As(ctx, "web-form");
    return stub_->CreateLead(&ctx, req, out);
  }

  v1::Lead MustCreate(const std::string& rid, const std::string& company = "Acme",
                      const std::string& email = "") {
    v1::Lead out;
    grpc::Status s = Create(rid, &out, company, email);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  template <typename Req>
  grpc::Status Call(grpc::Status (v1::LeadService::Stub::*method)(grpc::ClientContext*, const Req&,
                                                                  v1::Lead*),
                    const std::string& user, Req req, v1::Lead* out) {
    grpc::ClientContext ctx;
    As(ctx, user);
    return ((*stub_).*method)(&ctx, req, out);
  }

  grpc::Status Claim(const std::string& user, const v1::Lead& lead, v1::Lead* out,
                     const std::string& rid = "") {
    v1::ClaimLeadRequest req;
    req.set_request_id(rid.empty() ? "claim-" + user + "-" + lead.lead_id() : rid);
    req.set_name(lead.name());
    return Call(&v1::LeadService::Stub::ClaimLead, user, req, out);
  }

  v1::Lead Get(const std::string& name) {
    v1::GetLeadRequest req;
    req.set_name(name);
    v1::Lead out;
    grpc::ClientContext ctx;
    As(ctx, "anyone");
    EXPECT_TRUE(stub_->GetLead(&ctx, req, &out).ok());
    return out;
  }

  std::vector<v1::Lead> List(const std::string& order_by = "",
                             v1::LeadState state = v1::LEAD_STATE_UNSPECIFIED) {
    v1::ListLeadsRequest req;
    req.set_page_size(2);
    req.set_order_by(order_by);
    req.set_state(state);
    return List(req);
  }

  // Every page of `req`, followed to the end.
  std::vector<v1::Lead> List(v1::ListLeadsRequest req) {
    Sync();
    std::vector<v1::Lead> out;
    std::string token;
    do {
      req.set_page_token(token);
      v1::ListLeadsResponse resp;
      grpc::ClientContext ctx;
      As(ctx, "anyone");
      grpc::Status s = stub_->ListLeads(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& l : resp.leads()) out.push_back(l);
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }

  test::TempDir dir_;
  FakeClock clock_;
  std::mutex sync_mu_;
  std::unique_ptr<eventstore::EventStore> customer_store_;
  std::unique_ptr<readstore::ReadStore> customer_read_;
  std::unique_ptr<customer::CustomerCommandHandler> customer_commands_;
  std::unique_ptr<customer::CustomerServiceImpl> customer_service_;
  std::unique_ptr<grpc::Server> customer_server_;
  std::unique_ptr<cv1::CustomerService::Stub> customers_;

  std::unique_ptr<pii::Vault> customer_vault_;
  std::unique_ptr<pii::Vault> vault_;
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<readstore::ReadStore> read_;
  std::unique_ptr<LeadListProjection> list_;
  std::unique_ptr<readstore::ProjectionRunner> list_runner_;
  std::unique_ptr<bus::LogTailer> list_tailer_;
  std::unique_ptr<CustomerDirectoryProjection> directory_;
  std::unique_ptr<readstore::ProjectionRunner> directory_runner_;
  std::unique_ptr<bus::LogTailer> directory_tailer_;
  std::unique_ptr<LeadCommandHandler> commands_;
  rpc::ServiceTokens tokens_ = test::TestServiceTokens("lead");
  std::unique_ptr<CustomerClient> client_;
  std::atomic<int> conversions_asked_{0};
  std::unique_ptr<WorkScheduler> scheduler_;
  std::unique_ptr<LeadServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::LeadService::Stub> stub_;
  int settings_changes_ = 0;
};

TEST_F(LeadServiceTest, ChannelsAreAdminsAndEveryLeadNeedsOne) {
  v1::CreateChannelRequest req;
  req.set_request_id("c-1");
  req.mutable_channel()->set_channel_id("fair");
  req.mutable_channel()->set_display_name("Trade fair");
  req.mutable_channel()->set_kind(ev::CHANNEL_KIND_FREE);
  req.mutable_channel()->set_monthly_cost(5);
  v1::Channel out;
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-1");
    EXPECT_EQ(stub_->CreateChannel(&ctx, req, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    As(ctx, "boss", true);
    grpc::Status s = stub_->CreateChannel(&ctx, req, &out);
    EXPECT_EQ(Fields(s), std::set<std::string>{"channel.monthly_cost"});
  }
  req.mutable_channel()->set_monthly_cost(0);
  {
    grpc::ClientContext ctx;
    As(ctx, "boss", true);
    ASSERT_TRUE(stub_->CreateChannel(&ctx, req, &out).ok());
    EXPECT_EQ(out.name(), "channels/fair");
  }
  Sync();
  v1::ListChannelsResponse channels;
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(stub_->ListChannels(&ctx, {}, &channels).ok());
  ASSERT_EQ(channels.channels_size(), 2);
  EXPECT_EQ(channels.channels(0).channel_id(), "fair");
  EXPECT_EQ(channels.channels(1).monthly_cost(), 120000);

  v1::CreateLeadRequest lead;
  lead.set_request_id("l-1");
  lead.mutable_lead()->set_channel_id("nowhere");
  lead.mutable_lead()->set_company_name("Acme");
  lead.mutable_lead()->set_email("broken@");
  v1::Lead created;
  grpc::ClientContext c1;
  As(c1, "rep-1");
  EXPECT_EQ(Fields(stub_->CreateLead(&c1, lead, &created)), std::set<std::string>{"lead.email"});
  lead.mutable_lead()->clear_email();
  grpc::ClientContext c2;
  As(c2, "rep-1");
  EXPECT_EQ(Fields(stub_->CreateLead(&c2, lead, &created)),
            std::set<std::string>{"lead.channel_id"});
}

// An owner's leads are listed through the owner index, page by page, and a
// store from before the index finds them once it is derived.
TEST_F(LeadServiceTest, AnOwnersLeadsAreListedThroughTheOwnerIndex) {
  v1::Lead out;
  ASSERT_TRUE(Claim("ann", MustCreate("o1", "One"), &out).ok());
  ASSERT_TRUE(Claim("bob", MustCreate("o2", "Two"), &out).ok());
  ASSERT_TRUE(Claim("ann", MustCreate("o3", "Three"), &out).ok());
  MustCreate("o4", "Four");  // in the queue: nobody's
  Sync();
  auto owned = [&](const std::string& owner) {
    v1::ListLeadsRequest req;
    req.set_owner_id(owner);
    req.set_page_size(1);
    std::multiset<std::string> companies;
    for (const auto& l : List(req)) companies.insert(l.company_name());
    return companies;
  };
  using Companies = std::multiset<std::string>;
  EXPECT_EQ(owned("ann"), (Companies{"One", "Three"}));
  EXPECT_EQ(owned("bob"), Companies{"Two"});
  EXPECT_EQ(owned("cat"), Companies{});

  std::vector<std::string> entries;
  ASSERT_TRUE(read_
                  ->Scan("acme", "",
                         [&](absl::string_view key, absl::string_view) {
                           if (absl::StrContains(key, "owned")) entries.emplace_back(key);
                           return true;
                         })
                  .ok());
  ASSERT_EQ(entries.size(), 6u);  // three entries, three pointers to them
  for (const auto& key : entries) {
    ASSERT_TRUE(read_->db()->Delete(rocksdb::WriteOptions(), read_->rows(), key).ok());
  }
  EXPECT_EQ(owned("ann"), Companies{});
  ASSERT_TRUE(IndexStoredLeads(read_.get()).ok());
  EXPECT_EQ(owned("ann"), (Companies{"One", "Three"}));
}

TEST_F(LeadServiceTest, TwoRepsClaimingAtOnceExactlyOneWinsAndCapacityHolds) {
  std::vector<std::string> winners;
  for (int round = 0; round < 5; ++round) {
    const v1::Lead lead = MustCreate(absl::StrCat("race-", round), absl::StrCat("Race ", round));
    std::atomic<int> won{0}, lost{0};
    std::mutex mu;
    std::vector<std::thread> threads;
    for (std::string rep : {absl::StrCat("a", round), absl::StrCat("b", round)}) {
      threads.emplace_back([&, rep] {
        v1::Lead out;
        grpc::Status st = Claim(rep, lead, &out);
        if (st.ok()) {
          ++won;
          std::lock_guard<std::mutex> lock(mu);
          winners.push_back(rep);
        } else {
          EXPECT_EQ(Reason(st), "LEAD_NOT_IN_QUEUE") << st.error_message();
          ++lost;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), 1) << "round " << round;
  }
  // With a capacity of one, every winner is full; a rep with room claims.
  ev::LeadSettings s;
  s.set_rep_capacity(1);
  Settings(s, {"rep_capacity"});
  v1::Lead extra = MustCreate("extra", "Extra");
  for (const auto& rep : winners) {
    v1::GetRepWorkloadRequest req;
    req.set_rep_id(rep);
    v1::RepWorkload load;
    grpc::ClientContext ctx;
    As(ctx, "anyone");
    ASSERT_TRUE(stub_->GetRepWorkload(&ctx, req, &load).ok());
    EXPECT_EQ(load.open_leads(), 1);
    EXPECT_EQ(load.capacity(), 1);
    v1::Lead out;
    EXPECT_EQ(Reason(Claim(rep, extra, &out)), "LEAD_CAPACITY_REACHED");
  }
  v1::Lead out;
  EXPECT_TRUE(Claim("fresh-rep", extra, &out).ok());
}

TEST_F(LeadServiceTest, AssignModeRoundRobinIsFairForABulkImportAndReportsBadRows) {
  ev::LeadSettings s;
  s.set_assign_mode(ev::ASSIGN_MODE_ASSIGN);
  ev::Team* team = s.add_teams();
  team->set_team_id("east");
  for (const char* rep : {"ann", "bo", "cy"}) team->add_members()->set_rep_id(rep);
  Settings(s, {});

  const std::string csv =
      "channel_id,company_name,contact_name,email\n"
      "web,Alpha,A One,a@alpha.example\n"
      "web,\"Beta, Inc.\",B Two,b@beta.example\n"
      "web,Gamma,C Three,not-an-email\n"
      "web,Delta,D Four,d@delta.example\n"
      "web,Epsilon,E Five,e@eps.example\n"
      "web,Zeta,Z Six,z@zeta.example\n"
      "web,Eta,E Seven,e@eta.example\n";
  auto import = [&] {
    grpc::ClientContext ctx;
    As(ctx, "importer");
    v1::ImportLeadsResponse resp;
    auto writer = stub_->ImportLeads(&ctx, &resp);
    // Pieces cut mid-row, as a client streaming a file would send them.
    for (size_t at = 0; at < csv.size(); at += 17) {
      v1::ImportLeadsRequest req;
      req.set_import_id("batch-1");
      req.set_chunk(csv.substr(at, 17));
      EXPECT_TRUE(writer->Write(req));
    }
    writer->WritesDone();
    grpc::Status st = writer->Finish();
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp;
  };
  v1::ImportLeadsResponse resp = import();
  EXPECT_EQ(resp.rows(), 7);
  EXPECT_EQ(resp.imported(), 6);
  ASSERT_EQ(resp.errors_size(), 1);
  EXPECT_EQ(resp.errors(0).row(), 3);
  ASSERT_EQ(resp.errors(0).errors_size(), 1);
  EXPECT_EQ(resp.errors(0).errors(0), "email: must be a valid email address");

  std::map<std::string, int> per_rep;
  for (const auto& l : List()) {
    EXPECT_EQ(l.state(), v1::LEAD_STATE_ASSIGNED) << l.company_name();
    ++per_rep[l.owner_id()];
  }
  EXPECT_EQ(per_rep, (std::map<std::string, int>{{"ann", 2}, {"bo", 2}, {"cy", 2}}));

  // Sending the same import again creates nothing.
  v1::ImportLeadsResponse again = import();
  EXPECT_EQ(again.imported(), 6);
  EXPECT_EQ(List().size(), 6u);

  // Reps do not claim in assign mode.
  v1::Lead lead = MustCreate("one-more", "Theta");
  EXPECT_EQ(lead.state(), v1::LEAD_STATE_ASSIGNED);
  EXPECT_EQ(lead.owner_id(), "ann");
  v1::Lead out;
  ASSERT_TRUE(Call(
                  &v1::LeadService::Stub::ReturnLead, std::string("ann"),
                  [&] {
                    v1::ReturnLeadRequest r;
                    r.set_request_id("give-back");
                    r.set_name(lead.name());
                    return r;
                  }(),
                  &out)
                  .ok());
  EXPECT_EQ(Reason(Claim("bo", out, &out)), "LEADS_ARE_ASSIGNED");
}

TEST_F(LeadServiceTest, ARepWhoseCompleteDataEarnedPriorityGetsTheNextChannelLead) {
  ev::LeadSettings s;
  s.set_assign_mode(ev::ASSIGN_MODE_ASSIGN);
  ev::Team* team = s.add_teams();
  team->set_team_id("east");
  for (const char* rep : {"ann", "bo", "cy"}) team->add_members()->set_rep_id(rep);
  Settings(s, {});
  // The customer service's periodic review of cy's pool, on its topic.
  auto review = [&](bool priority) {
    customer::events::v1::RepPoolEvent e;
    e.mutable_standing_reviewed()->set_rep_id("cy");
    e.mutable_standing_reviewed()->set_customers(12);
    e.mutable_standing_reviewed()->set_average_completeness(priority ? 92 : 60);
    e.mutable_standing_reviewed()->set_lead_priority(priority);
    ASSERT_TRUE(customer_store_
                    ->Append({"acme", "pool:cy"}, eventstore::kAnyVersion,
                             {*eventstore::ToNewEvent(e)}, priority ? "review-1" : "review-2")
                    .ok());
  };
  review(true);
  EXPECT_EQ(MustCreate("p1", "Alpha").owner_id(), "cy");
  EXPECT_EQ(MustCreate("p2", "Beta").owner_id(), "cy");
  review(false);  // the next review takes it away: round robin again
  EXPECT_EQ(MustCreate("p3", "Gamma").owner_id(), "ann");
}

TEST_F(LeadServiceTest, AChannelInAssignModeRoutesByTerritoryWhileOthersAreClaimed) {
  ev::LeadSettings s;
  s.set_strategy(ev::ASSIGN_STRATEGY_TERRITORY);
  ev::Team* team = s.add_teams();
  team->set_team_id("field");
  ev::TeamMember* north = team->add_members();
  north->set_rep_id("north-rep");
  north->add_regions("hamburg");
  ev::TeamMember* east = team->add_members();
  east->set_rep_id("east-rep");
  east->add_regions("berlin");
  east->add_industries("manufacturing");
  Settings(s, {"strategy", "teams"});
  DefineChannel("partner", ev::ASSIGN_MODE_ASSIGN);

  v1::CreateLeadRequest req;
  req.set_request_id("partner-1");
  req.mutable_lead()->set_channel_id("partner");
  req.mutable_lead()->set_company_name("Hanse Shipping");
  req.mutable_lead()->set_region("Hamburg");
  v1::Lead hamburg;
  grpc::ClientContext ctx;
  As(ctx, "partner-portal");
  ASSERT_TRUE(stub_->CreateLead(&ctx, req, &hamburg).ok());
  EXPECT_EQ(hamburg.state(), v1::LEAD_STATE_ASSIGNED);
  EXPECT_EQ(hamburg.owner_id(), "north-rep");

  req.set_request_id("partner-2");
  req.mutable_lead()->set_company_name("Munich Motors");
  req.mutable_lead()->set_region("Munich");
  req.mutable_lead()->set_industry("Manufacturing");
  v1::Lead munich;
  grpc::ClientContext ctx2;
  As(ctx2, "partner-portal");
  ASSERT_TRUE(stub_->CreateLead(&ctx2, req, &munich).ok());
  EXPECT_EQ(munich.owner_id(), "east-rep") << "covered by industry";

  req.set_request_id("partner-3");
  req.mutable_lead()->set_company_name("Alpine Tours");
  req.mutable_lead()->set_industry("tourism");
  v1::Lead nobody;
  grpc::ClientContext ctx3;
  As(ctx3, "partner-portal");
  ASSERT_TRUE(stub_->CreateLead(&ctx3, req, &nobody).ok());
  EXPECT_EQ(nobody.state(), v1::LEAD_STATE_QUEUED) << "no rep covers it: it waits";

  // The web channel stays in the tenant's claim mode, also when the
  // scheduler looks for queued leads to assign.
  v1::Lead web = MustCreate("web-1", "Web Co");
  EXPECT_EQ(web.state(), v1::LEAD_STATE_QUEUED);
  Tick();
  EXPECT_EQ(Get(web.name()).state(), v1::LEAD_STATE_QUEUED);
  v1::Lead out;
  EXPECT_TRUE(Claim("rep-1", web, &out).ok());
}

TEST_F(LeadServiceTest, UnworkedLeadsReturnAtTheTimeoutAndGoToTheNextRep) {
  v1::Lead lead = MustCreate("slow", "Slowpoke");
  v1::Lead claimed;
  ASSERT_TRUE(Claim("rep-1", lead, &claimed).ok());
  EXPECT_EQ(claimed.work_deadline().seconds(), absl::ToUnixSeconds(clock_.Now()) + 48 * 3600);
  v1::Lead worked = MustCreate("worked", "Busy Bee");
  ASSERT_TRUE(Claim("rep-1", worked, &worked).ok());
  v1::RecordFollowUpRequest f;
  f.set_request_id("f-1");
  f.set_name(worked.name());
  f.set_note("called; sending a quote");
  ASSERT_TRUE(Call(&v1::LeadService::Stub::RecordFollowUp, std::string("rep-1"), f, &worked).ok());
  EXPECT_EQ(worked.state(), v1::LEAD_STATE_WORKING);

  clock_.Advance(absl::Hours(47));
  EXPECT_EQ(Tick(), 0);
  EXPECT_EQ(Get(lead.name()).state(), v1::LEAD_STATE_ASSIGNED);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(Tick(), 1);
  EXPECT_EQ(Get(lead.name()).state(), v1::LEAD_STATE_QUEUED);
  EXPECT_EQ(Get(worked.name()).state(), v1::LEAD_STATE_WORKING);
  EXPECT_EQ(Tick(), 0) << "returned once";

  // In assign mode a returned lead goes to the next rep, not back.
  ev::LeadSettings s;
  s.set_assign_mode(ev::ASSIGN_MODE_ASSIGN);
  ev::Team* team = s.add_teams();
  team->set_team_id("t");
  for (const char* rep : {"rep-1", "rep-2"}) team->add_members()->set_rep_id(rep);
  Settings(s, {"assign_mode", "teams"});
  EXPECT_EQ(Tick(), 1) << "the queued lead is assigned";
  const std::string first = Get(lead.name()).owner_id();
  clock_.Advance(absl::Hours(49));
  Tick();
  const v1::Lead moved = Get(lead.name());
  EXPECT_EQ(moved.state(), v1::LEAD_STATE_ASSIGNED);
  EXPECT_NE(moved.owner_id(), first);
}

TEST_F(LeadServiceTest, LeadsThatStayQueuedDoNotHideTheOnesBehindThemFromTheScheduler) {
  // Three claim-mode leads queue first, then one of an assign-mode channel
  // while no team is set; the scheduler looks at two queued leads a pass.
  for (const char* company : {"One", "Two", "Three"}) {
    MustCreate(company, company);
    clock_.Advance(absl::Seconds(1));  // ids follow creation
  }
  DefineChannel("auto", ev::ASSIGN_MODE_ASSIGN);
  v1::CreateLeadRequest req;
  req.set_request_id("auto-1");
  req.mutable_lead()->set_channel_id("auto");
  req.mutable_lead()->set_company_name("Four");
  v1::Lead four;
  grpc::ClientContext ctx;
  As(ctx, "web-form");
  ASSERT_TRUE(stub_->CreateLead(&ctx, req, &four).ok());
  ASSERT_EQ(four.state(), v1::LEAD_STATE_QUEUED);
  ev::LeadSettings s;
  ev::Team* team = s.add_teams();
  team->set_team_id("t");
  team->add_members()->set_rep_id("rep-1");
  Settings(s, {"teams"});

  WorkScheduler scheduler(read_.get(), commands_.get(), /*batch=*/2);
  Sync();
  EXPECT_EQ(*scheduler.Tick(), 0);  // One and Two: claim mode
  EXPECT_EQ(*scheduler.Tick(), 1);  // Three, then Four
  EXPECT_EQ(Get(four.name()).state(), v1::LEAD_STATE_ASSIGNED);
  EXPECT_EQ(Get(four.name()).owner_id(), "rep-1");
  Sync();
  EXPECT_EQ(*scheduler.Tick(), 0);  // from the start again: claim mode all
}

TEST_F(LeadServiceTest, QualificationAndEngagementGradeAndOrderByPriority) {
  v1::Lead cold = MustCreate("cold", "Cold Co");
  v1::Lead warm = MustCreate("warm", "Warm Co");
  v1::Lead hot = MustCreate("hot", "Hot Co");
  v1::QualifyLeadRequest q;
  q.set_request_id("q-hot");
  q.set_name(hot.name());
  q.mutable_qualification()->set_budget_confirmed(true);
  q.mutable_qualification()->set_decision_maker(true);
  q.mutable_qualification()->set_need("a CRM the reps use");
  q.mutable_qualification()->set_purchase_within_days(30);
  ASSERT_TRUE(Call(&v1::LeadService::Stub::QualifyLead, std::string("rep-1"), q, &hot).ok());
  // 20 + 15 + 10 + 15, industry 1, region 1.
  EXPECT_EQ(hot.score(), 62);
  EXPECT_EQ(hot.grade(), ev::GRADE_B);

  for (int i = 0; i < 2; ++i) {
    v1::RecordEngagementRequest e;
    e.set_request_id(absl::StrCat("view-", i));
    e.set_name(warm.name());
    e.set_kind(ev::ENGAGEMENT_KIND_CONTENT_VIEWED);
    e.set_content_id("pricing-page");
    e.add_topics("pricing");
    e.set_seconds(150);
    ASSERT_TRUE(
        Call(&v1::LeadService::Stub::RecordEngagement, std::string("tracker"), e, &warm).ok());
  }
  EXPECT_EQ(warm.score(), cold.score() + 10);
  ASSERT_EQ(warm.tags_size(), 1);
  EXPECT_EQ(warm.tags(0), "interest:pricing");

  std::vector<std::string> order;
  for (const auto& l : List("priority")) order.push_back(l.company_name());
  EXPECT_EQ(order, (std::vector<std::string>{"Hot Co", "Warm Co", "Cold Co"}));
  v1::ListLeadsRequest bad;
  bad.set_order_by("random");
  v1::ListLeadsResponse resp;
  grpc::ClientContext ctx;
  As(ctx, "x");
  EXPECT_EQ(Fields(stub_->ListLeads(&ctx, bad, &resp)), std::set<std::string>{"order_by"});
}

TEST_F(LeadServiceTest, LeadsOfExistingCustomersAreRoutedAndDuplicatesMerged) {
  cv1::CreateCustomerRequest creq;
  creq.set_request_id("cust-1");
  creq.mutable_customer()->set_company_name("Globex Corporation");
  creq.mutable_customer()->set_legal_entity_id("GX-1");
  cv1::Customer customer;
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-9");
    ASSERT_TRUE(customers_->CreateCustomer(&ctx, creq, &customer).ok());
  }
  v1::Lead routed;
  ASSERT_TRUE(Create("globex-lead", &routed, "Another name", "", "gx-1").ok());
  EXPECT_EQ(routed.state(), v1::LEAD_STATE_ROUTED);
  EXPECT_EQ(routed.customer_id(), customer.customer_id());
  EXPECT_EQ(routed.owner_id(), "rep-9");
  v1::Lead out;
  EXPECT_EQ(Reason(Claim("rep-1", routed, &out)), "LEAD_CLOSED");
  for (const auto& l : List("", v1::LEAD_STATE_QUEUED)) EXPECT_NE(l.lead_id(), routed.lead_id());

  // A public customer a rep reserved: its inbound lead goes to that rep.
  cv1::CreateCustomerRequest open;
  open.set_request_id("cust-2");
  open.set_into_public_pool(true);
  open.mutable_customer()->set_company_name("Soylent Foods AG");
  cv1::Customer soylent;
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-5");
    ASSERT_TRUE(customers_->CreateCustomer(&ctx, open, &soylent).ok());
  }
  cv1::ReserveCustomerRequest reserve;
  reserve.set_request_id("reserve-1");
  reserve.set_name(soylent.name());
  {
    grpc::ClientContext ctx;
    As(ctx, "rep-5");
    ASSERT_TRUE(customers_->ReserveCustomer(&ctx, reserve, &soylent).ok());
  }
  v1::Lead inbound;
  ASSERT_TRUE(Create("soylent-lead", &inbound, "Soylent Foods").ok());
  EXPECT_EQ(inbound.state(), v1::LEAD_STATE_ROUTED);
  EXPECT_EQ(inbound.customer_id(), soylent.customer_id());
  EXPECT_EQ(inbound.owner_id(), "rep-5");

  v1::Lead first = MustCreate("dup-1", "Initech", "peter@initech.example");
  v1::Lead second = MustCreate("dup-2", "Initech Software", "Peter@Initech.example");
  ASSERT_EQ(second.duplicates_size(), 1);
  EXPECT_EQ(second.duplicates(0).lead_id(), first.lead_id());
  EXPECT_EQ(second.duplicates(0).keys(0), "email");

  v1::MergeLeadsRequest m;
  m.set_request_id("merge-1");
  m.set_name(first.name());
  m.set_merged_lead(second.name());
  v1::Lead survivor;
  ASSERT_TRUE(Call(&v1::LeadService::Stub::MergeLeads, std::string("rep-1"), m, &survivor).ok());
  EXPECT_EQ(survivor.merged_lead_ids_size(), 1);
  const v1::Lead gone = Get(second.name());
  EXPECT_EQ(gone.state(), v1::LEAD_STATE_MERGED);
  EXPECT_EQ(gone.survivor_id(), first.lead_id());
  EXPECT_EQ(gone.etag(), "2") << "its own history kept";
}

TEST_F(LeadServiceTest, ConversionCreatesOneCustomerForItsOwnerHoweverOftenRetried) {
  v1::Lead lead = MustCreate("conv", "Umbrella GmbH", "alice@umbrella.example");
  v1::ConvertLeadRequest c;
  c.set_request_id("convert-1");
  c.set_name(lead.name());
  v1::Lead out;
  EXPECT_EQ(Reason(Call(&v1::LeadService::Stub::ConvertLead, std::string("rep-1"), c, &out)),
            "LEAD_NOT_ASSIGNED");
  EXPECT_EQ(conversions_asked_.load(), 0);
  ASSERT_TRUE(Claim("rep-1", lead, &lead).ok());
  EXPECT_EQ(Reason(Call(&v1::LeadService::Stub::ConvertLead, std::string("rep-2"), c, &out)),
            "NOT_LEAD_OWNER");

  ASSERT_TRUE(Call(&v1::LeadService::Stub::ConvertLead, std::string("rep-1"), c, &out).ok());
  EXPECT_EQ(out.state(), v1::LEAD_STATE_CONVERTED);
  ASSERT_FALSE(out.customer_id().empty());
  c.set_request_id("convert-2");  // a retry by another path
  v1::Lead again;
  ASSERT_TRUE(Call(&v1::LeadService::Stub::ConvertLead, std::string("rep-1"), c, &again).ok());
  EXPECT_EQ(again.customer_id(), out.customer_id());

  // The customer service created it once, in rep-1's private pool.
  cv1::GetCustomerRequest g;
  g.set_name("customers/" + out.customer_id());
  cv1::Customer customer;
  grpc::ClientContext ctx;
  As(ctx, "rep-1");
  ASSERT_TRUE(customers_->GetCustomer(&ctx, g, &customer).ok());
  EXPECT_EQ(customer.owner_id(), "rep-1");
  EXPECT_EQ(customer.company_name(), "Umbrella GmbH");
  ASSERT_EQ(customer.contacts_size(), 1);
  EXPECT_EQ(customer.contacts(0).email(), "alice@umbrella.example");
  // A second customer request with the conversion's id creates nothing new.
  auto retried = client_->Create("acme", "rep-1", "lead-convert:" + lead.lead_id(),
                                 *commands_->Get("acme", lead.lead_id()));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(*retried, out.customer_id());

  // The owner's capacity is freed; a closed lead cannot be disqualified.
  v1::GetRepWorkloadRequest w;
  v1::RepWorkload load;
  grpc::ClientContext wctx;
  As(wctx, "rep-1");
  ASSERT_TRUE(stub_->GetRepWorkload(&wctx, w, &load).ok());
  EXPECT_EQ(load.open_leads(), 0);
  v1::DisqualifyLeadRequest d;
  d.set_request_id("dq");
  d.set_name(lead.name());
  d.set_reason(ev::DISQUALIFY_REASON_NO_NEED);
  EXPECT_EQ(Reason(Call(&v1::LeadService::Stub::DisqualifyLead, std::string("rep-1"), d, &out)),
            "LEAD_CLOSED");
}

TEST_F(LeadServiceTest, DisqualifyNeedsAReasonAndCallsNeedATenantAndUser) {
  v1::Lead lead = MustCreate("dq", "Hooli");
  v1::DisqualifyLeadRequest d;
  d.set_request_id("dq-1");
  d.set_name(lead.name());
  v1::Lead out;
  EXPECT_EQ(Fields(Call(&v1::LeadService::Stub::DisqualifyLead, std::string("rep-1"), d, &out)),
            std::set<std::string>{"reason"});
  d.set_reason(ev::DISQUALIFY_REASON_UNREACHABLE);
  ASSERT_TRUE(Call(&v1::LeadService::Stub::DisqualifyLead, std::string("rep-1"), d, &out).ok());
  EXPECT_EQ(out.state(), v1::LEAD_STATE_DISQUALIFIED);
  EXPECT_EQ(out.disqualify_reason(), ev::DISQUALIFY_REASON_UNREACHABLE);

  v1::ClaimLeadRequest req;
  req.set_request_id("anon");
  req.set_name(lead.name());
  grpc::ClientContext ctx;
  EXPECT_EQ(stub_->ClaimLead(&ctx, req, &out).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  req.set_name("lead/x");
  grpc::ClientContext ctx2;
  As(ctx2, "rep-1");
  EXPECT_EQ(Fields(stub_->ClaimLead(&ctx2, req, &out)), std::set<std::string>{"name"});
}

}  // namespace
}  // namespace crm::lead
