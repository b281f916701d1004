// Every mutating RPC retried: one sales story (channels, leads through
// conversion, customers through pools, reservations, conflicts and erasure,
// opportunities to a loss and a win, contracts through approval, payment,
// milestones and their end) walks every method of the four command services
// whose request carries a request_id. Each call is made the way a client
// that timed out makes it: first with a deadline too short to see the
// answer, then the same request twice at once, then once more. The retries
// must all succeed with the same answer, and at the end the platform must
// hold exactly as many events in each service's log as a platform that
// heard each call once.

#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "crm/contract/v1/contract_service.grpc.pb.h"
#include "crm/customer/v1/customer_service.grpc.pb.h"
#include "crm/lead/v1/lead_service.grpc.pb.h"
#include "crm/opportunity/v1/opportunity_service.grpc.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"
#include "tests/platform.h"

namespace crm::test {
namespace {

namespace pb = google::protobuf;

const char kTenant[] = "walk";
const char* const kServices[] = {"lead", "customer", "opportunity", "contract"};

// "crm.lead.v1.LeadService" for "lead".
const pb::ServiceDescriptor* ServiceOf(const std::string& service) {
  // Referencing a message of each file links its descriptors in.
  static const bool linked = crm::lead::v1::CreateLeadRequest::descriptor() &&
                             crm::customer::v1::CreateCustomerRequest::descriptor() &&
                             crm::opportunity::v1::CreateOpportunityRequest::descriptor() &&
                             crm::contract::v1::CreateContractRequest::descriptor();
  (void)linked;
  std::string type = service;
  type[0] = static_cast<char>(std::toupper(type[0]));
  return pb::DescriptorPool::generated_pool()->FindServiceByName(
      absl::StrCat("crm.", service, ".v1.", type, "Service"));
}

// One call of the story: `request` in text format, with ${var}s filled
// from earlier answers; `captures` names answer fields (paths like
// "contacts.0.contact_id") to remember as vars.
struct Step {
  std::string service, method, user, roles, request;
  std::vector<std::pair<std::string, std::string>> captures = {};
  // It needs what another service published first: tried again (the same
  // request) while NOT_FOUND or FAILED_PRECONDITION, up to a minute.
  bool waits = false;
};

// The value of the (string, integer or enum) field at `path` in `m`.
std::string FieldAt(const pb::Message& m, const std::string& path) {
  const pb::Message* at = &m;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const pb::FieldDescriptor* f = at->GetDescriptor()->FindFieldByName(parts[i]);
    if (f == nullptr) return "";
    const pb::Reflection* r = at->GetReflection();
    int index = -1;
    if (f->is_repeated()) {
      if (++i >= parts.size() || !absl::SimpleAtoi(parts[i], &index) ||
          index >= r->FieldSize(*at, f)) {
        return "";
      }
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      at = index >= 0 ? &r->GetRepeatedMessage(*at, f, index) : &r->GetMessage(*at, f);
      continue;
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      return index >= 0 ? r->GetRepeatedString(*at, f, index) : r->GetString(*at, f);
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64)
      return absl::StrCat(r->GetInt64(*at, f));
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT32)
      return absl::StrCat(r->GetInt32(*at, f));
    return "";
  }
  return "";
}

class Walk {
 public:
  Walk(Platform& p, bool retried) : p_(p), retried_(retried) {
    for (const char* s : kServices) channels_[s] = p.Channel(s);
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    vars_["${in7d}"] = absl::StrCat(now + 7 * 86400);
    vars_["${in30d}"] = absl::StrCat(now + 30 * 86400);
  }

  void Run(const std::vector<Step>& steps) {
    for (const Step& step : steps) {
      SCOPED_TRACE(step.service + "." + step.method + " " + step.request);
      Do(step);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  // The methods walked, as "crm.lead.v1.LeadService/CreateLead".
  const std::set<std::string>& walked() const { return walked_; }

  // Each service's log length once nothing moves any more: every relay
  // drained and no log grew for two seconds.
  std::map<std::string, double> SettledPositions() {
    std::map<std::string, double> last;
    absl::Time stable_since = absl::Now();
    const absl::Time give_up = absl::Now() + absl::Seconds(90);
    while (absl::Now() < give_up) {
      std::map<std::string, double> now;
      bool drained = true;
      for (const char* s : kServices) {
        now[s] = p_.Gauge(s, "crm_eventstore_last_position");
        drained = drained && p_.Gauge(s, "crm_relay_lag_events") == 0;
      }
      if (now != last || !drained) {
        last = now;
        stable_since = absl::Now();
      } else if (absl::Now() - stable_since > absl::Seconds(2)) {
        return last;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "the platform did not settle";
    return last;
  }

 private:
  void Do(const Step& step) {
    const pb::MethodDescriptor* method = ServiceOf(step.service)->FindMethodByName(step.method);
    ASSERT_NE(method, nullptr) << step.method;
    pb::DynamicMessageFactory factory;
    std::unique_ptr<pb::Message> request(factory.GetPrototype(method->input_type())->New());
    const std::string text = absl::StrCat("request_id: \"", step.method, "-", ++counter_, "\" ",
                                          absl::StrReplaceAll(step.request, vars_));
    ASSERT_TRUE(pb::TextFormat::ParseFromString(text, request.get())) << text;
    const std::string bytes = request->SerializeAsString();
    const std::string path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
    walked_.insert(path.substr(1));

    std::string answer;
    if (!retried_) {
      const grpc::Status s = Until(step, [&] { return Call(step, path, bytes, 30'000, &answer); });
      ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    } else {
      // The client gives up before the answer...
      std::string ignored;
      (void)Call(step, path, bytes, 1, &ignored);
      // ... and retries, twice at once ...
      std::string first, second;
      const grpc::Status s = Until(step, [&] {
        first.clear();
        second.clear();
        auto other = std::async(std::launch::async,
                                [&] { return Call(step, path, bytes, 30'000, &second); });
        const grpc::Status mine = Call(step, path, bytes, 30'000, &first);
        const grpc::Status theirs = other.get();
        return mine.ok() ? theirs : mine;
      });
      ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
      // ... and once more.
      const grpc::Status again = Call(step, path, bytes, 30'000, &answer);
      ASSERT_TRUE(again.ok()) << again.error_code() << " " << again.error_message();
      // The retries name the same thing (their other fields may show what
      // happened since, such as a tier recomputed).
      EXPECT_EQ(Identity(*method, first, factory), Identity(*method, second, factory))
          << "two retries at once answered differently";
      EXPECT_EQ(Identity(*method, first, factory), Identity(*method, answer, factory))
          << "a later retry answered differently";
    }
    std::unique_ptr<pb::Message> response(factory.GetPrototype(method->output_type())->New());
    ASSERT_TRUE(response->ParseFromString(answer));
    for (const auto& [var, field] : step.captures) {
      vars_["${" + var + "}"] = FieldAt(*response, field);
      ASSERT_FALSE(vars_["${" + var + "}"].empty()) << field << " of " << response->DebugString();
    }
  }

  // What an answer names: its `name` (or `touch_id`), else all of it.
  static std::string Identity(const pb::MethodDescriptor& method, const std::string& answer,
                              pb::DynamicMessageFactory& factory) {
    std::unique_ptr<pb::Message> m(factory.GetPrototype(method.output_type())->New());
    if (!m->ParseFromString(answer)) return "unparsable: " + answer;
    for (const char* field : {"name", "touch_id"}) {
      if (m->GetDescriptor()->FindFieldByName(field) != nullptr) return FieldAt(*m, field);
    }
    return answer;
  }

  template <typename Attempt>
  grpc::Status Until(const Step& step, Attempt attempt) {
    grpc::Status s = attempt();
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (step.waits && absl::Now() < give_up &&
           (s.error_code() == grpc::StatusCode::NOT_FOUND ||
            s.error_code() == grpc::StatusCode::FAILED_PRECONDITION)) {
      absl::SleepFor(absl::Milliseconds(100));
      s = attempt();
    }
    return s;
  }

  grpc::Status Call(const Step& step, const std::string& path, const std::string& bytes,
                    int deadline_ms, std::string* answer) {
    return RawCall(channels_[step.service], path, bytes, TestToken(step.user, kTenant, step.roles),
                   answer, absl::Milliseconds(deadline_ms));
  }

  Platform& p_;
  bool retried_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<std::string, std::string> vars_;
  std::set<std::string> walked_;
  int counter_ = 0;
};

// The story. Users: rep-1 and rep-2 (reps), manager-1, boss (admin), tl-1
// (team lead), legal-1 (legal).
std::vector<Step> Story() {
  return {
      // Lead service: a channel, settings, four leads.
      {"lead", "CreateChannel", "boss", "admin",
       R"(channel { channel_id: "web" display_name: "Web" kind: CHANNEL_KIND_SELF_BUILT
                    monthly_cost: 100000 })"},
      {"lead", "UpdateChannel", "boss", "admin",
       R"(channel { channel_id: "web" display_name: "Web form" kind: CHANNEL_KIND_SELF_BUILT
                    monthly_cost: 120000 })"},
      {"lead", "UpdateLeadSettings", "boss", "admin",
       R"(settings { rep_capacity: 40 } update_mask { paths: "rep_capacity" })"},
      {"lead",
       "CreateLead",
       "rep-1",
       "",
       R"(lead { channel_id: "web" company_name: "Alpha Tools" contact_name: "Ann Alpha"
                 email: "ann@alpha.example" })",
       {{"leadA", "name"}}},
      {"lead",
       "CreateLead",
       "rep-1",
       "",
       R"(lead { channel_id: "web" company_name: "Bravo Mills" contact_name: "Bob Bravo"
                 email: "bob@bravo.example" })",
       {{"leadB", "name"}}},
      {"lead",
       "CreateLead",
       "rep-1",
       "",
       R"(lead { channel_id: "web" company_name: "Alpha Tools" contact_name: "Ann Alpha"
                 phone: "+49 30 5550100" })",
       {{"leadC", "name"}}},
      {"lead",
       "CreateLead",
       "rep-1",
       "",
       R"(lead { channel_id: "web" company_name: "Delta Foods" contact_name: "Dee Delta"
                 email: "dee@delta.example" })",
       {{"leadD", "name"}}},
      {"lead", "ClaimLead", "rep-1", "", R"(name: "${leadA}")"},
      {"lead", "ClaimLead", "rep-1", "", R"(name: "${leadB}")"},
      {"lead", "QualifyLead", "rep-1", "",
       R"(name: "${leadA}" qualification { budget_confirmed: true decision_maker: true
          need: "a CRM for 20 seats" purchase_within_days: 30 })"},
      {"lead", "RecordEngagement", "rep-1", "",
       R"(name: "${leadA}" kind: ENGAGEMENT_KIND_CONTENT_VIEWED content_id: "pricing"
          topics: "pricing" seconds: 120)"},
      {"lead", "RecordFollowUp", "rep-1", "",
       R"(name: "${leadA}" note: "called: wants a demo next week" next_step: "demo")"},
      {"lead", "MergeLeads", "rep-1", "", R"(name: "${leadA}" merged_lead: "${leadC}")"},
      {"lead", "ReturnLead", "rep-1", "", R"(name: "${leadB}")"},
      {"lead", "DisqualifyLead", "manager-1", "manager",
       R"(name: "${leadB}" reason: DISQUALIFY_REASON_NO_BUDGET note: "no budget this year")"},
      {"lead", "EraseLeadContact", "boss", "admin", R"(name: "${leadD}")"},
      {"lead", "ConvertLead", "rep-1", "", R"(name: "${leadA}")", {{"customerA", "customer_id"}}},

      // Customer service: policy, capacity, customers through the pools.
      {"customer", "UpdateTenantPolicy", "boss", "admin",
       R"(settings { cool_down_days: 3 } update_mask { paths: "cool_down_days" })"},
      {"customer", "SetRepCapacity", "manager-1", "manager",
       R"(rep_id: "rep-2" capacity: 30 reason: "ramping up")"},
      {"customer",
       "CreateCustomer",
       "rep-1",
       "",
       R"(customer { company_name: "Echo Works" legal_entity_id: "DE811000001" region: "north"
                     segment: SEGMENT_SMB
                     contacts { name: "Eve Echo" title: "Buyer" phone: "+49 30 5550199"
                                key_person: true } })",
       {{"custX", "name"}, {"custXid", "customer_id"}, {"contactX", "contacts.0.contact_id"}}},
      {"customer",
       "CreateCustomer",
       "rep-1",
       "",
       R"(customer { company_name: "Foxtrot Labs" region: "south" } into_public_pool: true)",
       {{"custP", "name"}}},
      {"customer", "UpdateCustomer", "rep-1", "",
       R"(customer { name: "${custX}" industry: "machinery" } update_mask { paths: "industry" })"},
      {"customer", "RecordTouch", "rep-1", "",
       R"(customer: "${custX}" touch { channel: TOUCH_CHANNEL_MEETING outcome: "demo given"
          note: "walked the buyer through the proposal and the rollout plan"
          next_step: "quote" })"},
      {"customer", "RecordEngagement", "rep-1", "",
       R"(customer: "${custX}" kind: ENGAGEMENT_KIND_EMAIL_OPENED topic: "pricing")"},
      {"customer", "RecordAnnualSales", "rep-1", "",
       R"(customer: "${custX}" sales { year: 2025 amount: 1000000 })"},
      {"customer", "CreateSegment", "manager-1", "manager",
       R"(segment { display_name: "North" rule { region: "north" } })"},
      {"customer", "ClaimCustomer", "rep-2", "", R"(name: "${custP}")"},
      {"customer", "ReleaseCustomer", "rep-2", "",
       R"(name: "${custP}" note: "outside our market")"},
      {"customer", "ReserveCustomer", "rep-1", "", R"(name: "${custP}")"},
      {"customer", "CancelReservation", "rep-1", "", R"(name: "${custP}")"},
      {"customer",
       "CreateCustomer",
       "rep-2",
       "",
       R"(customer { company_name: "Echo Works GmbH" legal_entity_id: "DE811000001" })",
       {{"custY", "name"}}},
      {"customer", "FileConflict", "rep-2", "",
       R"(customer: "${custX}" claimant_customer: "${custY}" note: "we met them first")"},

      // Opportunity service: settings, a product, two deals.
      {"opportunity", "UpdateOpportunitySettings", "boss", "admin",
       R"(settings { rep_max_discount_bp: 1500 manager_max_discount_bp: 3000 })"},
      {"opportunity", "SaveProduct", "boss", "admin",
       R"(product { product_id: "seat" display_name: "CRM seat" list_price: 120000 })"},
      {"contract", "UpdateApprovalRules", "boss", "admin",
       R"(rules { team_lead_above_amount: 1 director_above_amount: 1000000000000
                  team_leads: "tl-1" legal: "legal-1" })"},
      {"contract", "SaveTemplate", "boss", "admin",
       R"(template { template_id: "std" name: "Standard" payment_terms_days: 30
                     duration_months: 12
                     lines { product_id: "seat" list_price: 120000 max_discount_bp: 1000 } })"},
      {"opportunity",
       "CreateOpportunity",
       "rep-1",
       "",
       R"(opportunity { customer_id: "${custXid}" display_name: "Echo seats" }
          lines { product_id: "seat" quantity: 10 })",
       {{"oppA", "name"}},
       true},
      {"opportunity",
       "CreateOpportunity",
       "rep-1",
       "",
       R"(opportunity { customer_id: "${custXid}" display_name: "Echo add-on" }
          lines { product_id: "seat" quantity: 2 })",
       {{"oppB", "name"}},
       true},
      {"opportunity", "SetLines", "rep-1", "",
       R"(name: "${oppA}" lines { product_id: "seat" quantity: 12 discount_bp: 500 })"},
      {"opportunity", "RecordNeed", "rep-1", "",
       R"(name: "${oppA}" need: "seats for the whole sales team")"},
      {"opportunity", "SendQuote", "rep-1", "", R"(name: "${oppA}")"},
      {"opportunity", "UpdateForecast", "rep-1", "",
       R"(name: "${oppA}" expected_close_time { seconds: ${in30d} }
          forecast_category: FORECAST_CATEGORY_COMMIT)"},
      {"opportunity",
       "AdvanceStage",
       "rep-1",
       "",
       R"(name: "${oppA}" stage_id: "demo-done")",
       {},
       true},
      {"opportunity", "RequestCloseLost", "rep-1", "",
       R"(name: "${oppB}" reason: LOSS_REASON_NO_BUDGET note: "budget went elsewhere")"},
      {"opportunity", "DecideCloseLost", "manager-1", "manager",
       R"(name: "${oppB}" approve: true comment: "agreed")"},
      {"opportunity",
       "CloseWon",
       "rep-1",
       "",
       R"(name: "${oppA}")",
       {{"contractA", "contract_id"}, {"amountA", "amount"}}},

      // Contract service: the won deal's contract through approval to its
      // end; a second contract rejected.
      {"contract", "SubmitContract", "rep-1", "", R"(name: "contracts/${contractA}")"},
      {"contract", "ApproveContract", "tl-1", "team-lead",
       R"(name: "contracts/${contractA}" comment: "fine")"},
      {"contract", "ApproveContract", "legal-1", "legal",
       R"(name: "contracts/${contractA}" comment: "standard terms")"},
      {"contract", "SendContract", "rep-1", "", R"(name: "contracts/${contractA}")"},
      {"contract", "ConfirmContract", "rep-1", "", R"(name: "contracts/${contractA}")"},
      {"contract", "SetPaymentPlan", "rep-1", "",
       R"(name: "contracts/${contractA}"
          installments { amount: ${amountA} due_time { seconds: ${in30d} } })"},
      {"contract", "RecordPayment", "rep-1", "",
       R"(name: "contracts/${contractA}" amount: 100000)"},
      {"contract",
       "AddMilestone",
       "rep-1",
       "",
       R"(name: "contracts/${contractA}"
          milestone { title: "Kick-off" owner_id: "rep-1" due_time { seconds: ${in7d} } })",
       {{"milestoneA", "milestones.0.milestone_id"}}},
      {"contract", "CompleteMilestone", "rep-1", "",
       R"(name: "contracts/${contractA}" milestone_id: "${milestoneA}" note: "done")"},
      {"contract",
       "CreateContract",
       "rep-1",
       "",
       R"(contract { customer_id: "${custXid}" template_id: "std"
                     lines { product_id: "seat" quantity: 1 list_price: 120000 amount: 120000 }
                     amount: 120000 })",
       {{"contractB", "name"}},
       true},
      {"contract", "ChangeContract", "rep-1", "",
       R"(contract { name: "${contractB}" customer_id: "${custXid}" template_id: "std"
                     lines { product_id: "seat" quantity: 2 list_price: 120000 amount: 240000 }
                     amount: 240000 })"},
      {"contract", "SubmitContract", "rep-1", "", R"(name: "${contractB}")"},
      {"contract", "RejectContract", "tl-1", "team-lead",
       R"(name: "${contractB}" comment: "price too low")"},
      {"contract", "EndContract", "rep-1", "",
       R"(name: "contracts/${contractA}" reason: END_REASON_TERMINATED note: "merged")"},
      {"customer", "EraseContact", "boss", "admin",
       R"(name: "${custX}" contact_id: "${contactX}")"},
  };
}

TEST(RetryE2eTest, EveryMutatingRpcRetriedAfterATimeoutHasOneEffect) {
  const Platform::Binaries bins = {CRM_LEAD_BIN, CRM_CUSTOMER_BIN, CRM_OPPORTUNITY_BIN,
                                   CRM_CONTRACT_BIN, CRM_ANALYTICS_BIN};
  std::map<std::string, double> once, retried;
  std::set<std::string> walked;
  {
    Platform p;
    p.StartAll(bins);
    Walk walk(p, /*retried=*/false);
    walk.Run(Story());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    once = walk.SettledPositions();
  }
  {
    Platform p;
    p.StartAll(bins);
    Walk walk(p, /*retried=*/true);
    walk.Run(Story());
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    retried = walk.SettledPositions();
    walked = walk.walked();
  }
  EXPECT_EQ(once, retried) << "events in each service's log";
  for (const auto& [service, events] : once) EXPECT_GT(events, 0) << service;

  // Every method whose request carries a request_id was walked.
  for (const char* service : kServices) {
    const pb::ServiceDescriptor* d = ServiceOf(service);
    for (int i = 0; i < d->method_count(); ++i) {
      const pb::MethodDescriptor* m = d->method(i);
      if (m->input_type()->FindFieldByName("request_id") == nullptr) continue;
      EXPECT_TRUE(walked.count(absl::StrCat(d->full_name(), "/", m->name())))
          << m->full_name() << " is not in the walk";
    }
  }
}

}  // namespace
}  // namespace crm::test
