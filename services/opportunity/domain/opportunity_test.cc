// Opportunity rules as given events / when command / then events or error.

#include "services/opportunity/domain/opportunity.h"

#include <set>

#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::opportunity {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

std::map<std::string, ev::ProductSaved> Catalog() {
  std::map<std::string, ev::ProductSaved> c;
  ev::ProductSaved seat;
  seat.set_product_id("seat");
  seat.set_name("CRM seat, 1 year");
  seat.set_list_price(120000);
  c["seat"] = seat;
  ev::ProductSaved suite;
  suite.set_product_id("suite");
  suite.set_name("Starter suite");
  suite.set_list_price(999900);
  auto* item = suite.add_bundle_items();
  item->set_product_id("seat");
  item->set_quantity(10);
  c["suite"] = suite;
  ev::ProductSaved old;
  old.set_product_id("old");
  old.set_name("Retired plan");
  old.set_list_price(100);
  old.set_retired(true);
  c["old"] = old;
  return c;
}

std::set<std::string> Fields(const absl::Status& s) {
  const google::rpc::BadRequest br = BadRequestOf(s);
  std::set<std::string> out;
  for (const auto& v : br.field_violations()) out.insert(v.field());
  return out;
}

Opportunity Given(const std::vector<OpportunityEvent>& events, Opportunity o = {}) {
  for (const auto& e : events) o = Evolve(std::move(o), e);
  return o;
}

CustomerFacts Owned(const std::string& owner = "rep-1") {
  CustomerFacts f;
  f.known = true;
  f.owner = owner;
  return f;
}

Opportunity Open(std::vector<ev::Line> lines = {}) {
  Create cmd;
  cmd.opportunity_id = "o1";
  cmd.customer_id = "c1";
  cmd.name = "Acme rollout";
  cmd.lines = std::move(lines);
  cmd.user = "rep-1";
  cmd.now = kT0;
  auto e = Decide({}, cmd, Owned(), Settings::From({}));
  EXPECT_TRUE(e.ok()) << e.status();
  return Given({*e});
}

TEST(CatalogTest, LinesArePricedFromTheBookAndAmountsComputed) {
  auto lines = PriceLines({{"seat", 3, 1000}, {"suite", 1, 0}}, Catalog(), 1000);
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_EQ((*lines)[0].list_price(), 120000);
  EXPECT_EQ((*lines)[0].amount(), 324000);  // 3 x 1,200.00 less 10%
  EXPECT_TRUE((*lines)[1].bundle());
  EXPECT_EQ(*Total(*lines), 324000 + 999900);

  auto bad = PriceLines({{"nope", 0, -1}, {"old", 1, 0}}, Catalog(), 1000);
  EXPECT_EQ(Fields(bad.status()),
            (std::set<std::string>{"lines[0].product_id", "lines[0].quantity",
                                   "lines[0].discount_bp", "lines[1].product_id"}));
  auto over = PriceLines({{"seat", 1, 1500}}, Catalog(), 1000);
  EXPECT_EQ(ErrorReason(over.status()), "DISCOUNT_OVER_LIMIT");
  Settings s = Settings::From({});
  EXPECT_TRUE(PriceLines({{"seat", 1, 1500}}, Catalog(), MaxDiscountBp(s, Role::kManager)).ok());
}

TEST(CatalogTest, SettingsAndProductsAreValidated) {
  ev::OpportunitySettings s;
  auto* p = s.add_pipelines();
  p->set_pipeline_id("fast lane");
  auto* st = p->add_stages();
  st->set_stage_id("a");
  st->set_probability(50);
  auto* st2 = p->add_stages();
  st2->set_stage_id("a");
  st2->set_probability(30);
  s.set_rep_max_discount_bp(20000);
  EXPECT_EQ(Fields(ValidateSettings(s)),
            (std::set<std::string>{
                "settings.pipelines[0].pipeline_id", "settings.pipelines[0].stages[1].stage_id",
                "settings.pipelines[0].stages[1].probability", "settings.rep_max_discount_bp"}));
  EXPECT_EQ(Settings::From({}).pipelines[0].stages_size(), 5);
  EXPECT_EQ(Settings::From({}).pipelines[0].stages(3).probability(), 60);

  ev::ProductSaved bundle;
  bundle.set_product_id("mega");
  bundle.set_name("Mega bundle");
  bundle.add_bundle_items()->set_product_id("suite");
  EXPECT_EQ(Fields(ValidateProduct(bundle, Catalog())),
            (std::set<std::string>{"product.bundle_items[0].product_id",
                                   "product.bundle_items[0].quantity"}));
}

TEST(CatalogTest, ProbabilityIsRecalibratedOnlyWithEnoughHistory) {
  EXPECT_EQ(Calibrate(40, 19, 19, 20).probability, 40);
  EXPECT_FALSE(Calibrate(40, 19, 19, 20).calibrated);
  const Calibration c = Calibrate(40, 20, 13, 20);
  EXPECT_TRUE(c.calibrated);
  EXPECT_EQ(c.probability, 65);
}

TEST(OpportunityTest, CreateNeedsAKnownCustomerTheCallerOwns) {
  Create cmd;
  cmd.opportunity_id = "o1";
  cmd.customer_id = "c1";
  cmd.name = " ";
  cmd.pipeline_id = "nope";
  cmd.user = "rep-1";
  cmd.now = kT0;
  EXPECT_EQ(Fields(Decide({}, cmd, Owned(), Settings::From({})).status()),
            (std::set<std::string>{"opportunity.display_name", "opportunity.pipeline_id"}));
  cmd.name = "Deal";
  cmd.pipeline_id = "";
  EXPECT_EQ(Decide({}, cmd, CustomerFacts{}, Settings::From({})).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorReason(Decide({}, cmd, Owned("rep-2"), Settings::From({})).status()),
            "CUSTOMER_NOT_OWNED");
  auto e = Decide({}, cmd, Owned(), Settings::From({}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->created().stage_id(), "qualify");
  EXPECT_EQ(e->created().probability(), 10);
}

TEST(OpportunityTest, ABlockedAdvanceNamesEveryUnmetCondition) {
  Opportunity o = Open();
  const Settings s = Settings::From({});
  auto blocked = Advance(o, "quote-sent", Owned(), s, "rep-1", kT0);
  ASSERT_EQ(ErrorReason(blocked.status()), "STAGE_CONDITIONS_UNMET");
  std::set<std::string> unmet;
  const google::rpc::PreconditionFailure pf = PreconditionFailureOf(blocked.status());
  for (const auto& v : pf.violations()) unmet.insert(v.type());
  EXPECT_EQ(unmet, (std::set<std::string>{"NEED_RECORDED", "KP_IDENTIFIED", "DEMO_TOUCH_LOGGED",
                                          "LINES_PRESENT", "QUOTE_SENT"}));

  // Meet them one by one; the move then succeeds with the stage history.
  o = Given({*RecordNeed(o, "one view of the customer", "rep-1", kT0)}, o);
  o = Given({*SetLines(o, *PriceLines({{"seat", 5, 0}}, Catalog(), 0), "rep-1", kT0)}, o);
  o = Given({*SendQuote(o, "q1", "rep-1", kT0)}, o);
  CustomerFacts facts = Owned();
  facts.key_person = true;
  auto still = Advance(o, "quote-sent", facts, s, "rep-1", kT0);
  const google::rpc::PreconditionFailure pf2 = PreconditionFailureOf(still.status());
  ASSERT_EQ(pf2.violations_size(), 1);
  EXPECT_EQ(pf2.violations(0).type(), "DEMO_TOUCH_LOGGED");
  EXPECT_EQ(pf2.violations(0).subject(), "stages/demo-done");
  facts.demo_touch = true;
  auto moved = Advance(o, "quote-sent", facts, s, "rep-1", kT0 + absl::Hours(30));
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ((*moved)[0].stage_changed().from_stage_id(), "qualify");
  EXPECT_EQ((*moved)[0].stage_changed().probability(), 60);
  EXPECT_EQ((*moved)[0].stage_changed().entered_from_time().seconds(), absl::ToUnixSeconds(kT0));
  o = Given(*moved, o);
  EXPECT_EQ(o.history.size(), 2u);

  // Changing the lines voids the quote: negotiation needs a new one.
  o = Given({*SetLines(o, *PriceLines({{"seat", 6, 0}}, Catalog(), 0), "rep-1", kT0)}, o);
  EXPECT_EQ(ErrorReason(Advance(o, "negotiation", facts, s, "rep-1", kT0).status()),
            "STAGE_CONDITIONS_UNMET");
  // Moving back checks nothing; an unknown stage is a bad argument.
  EXPECT_TRUE(Advance(o, "qualify", CustomerFacts{}, s, "rep-1", kT0).ok());
  EXPECT_EQ(Fields(Advance(o, "won", facts, s, "rep-1", kT0).status()),
            std::set<std::string>{"stage_id"});
  EXPECT_EQ(ErrorReason(Advance(o, "qualify", facts, s, "rep-2", kT0).status()),
            "NOT_OPPORTUNITY_OWNER");
}

TEST(OpportunityTest, CloseLostNeedsAReasonAndAManagersApproval) {
  Opportunity o = Open();
  EXPECT_EQ(Fields(RequestCloseLost(o, ev::LOSS_REASON_OTHER, "", "rep-1", kT0).status()),
            std::set<std::string>{"note"});
  auto req = RequestCloseLost(o, ev::LOSS_REASON_PRICE, "", "rep-1", kT0);
  ASSERT_TRUE(req.ok());
  o = Given({*req}, o);
  EXPECT_EQ(o.state, State::kLossPending);
  EXPECT_EQ(ErrorReason(RecordNeed(o, "x", "rep-1", kT0).status()), "CLOSE_LOST_PENDING");
  EXPECT_EQ(DecideCloseLost(o, true, "", false, "rep-1", kT0).status().code(),
            absl::StatusCode::kPermissionDenied);

  Opportunity rejected = Given({*DecideCloseLost(o, false, "try again", true, "boss", kT0)}, o);
  EXPECT_EQ(rejected.state, State::kOpen);
  EXPECT_EQ(ErrorReason(DecideCloseLost(rejected, true, "", true, "boss", kT0).status()),
            "NO_CLOSE_LOST_REQUEST");

  auto approved = DecideCloseLost(o, true, "ok", true, "boss", kT0);
  ASSERT_TRUE(approved.ok());
  EXPECT_EQ(approved->close_lost_approved().reason(), ev::LOSS_REASON_PRICE);
  EXPECT_EQ(approved->close_lost_approved().stages_reached_size(), 1);
  Opportunity lost = Given({*approved}, o);
  EXPECT_EQ(lost.state, State::kLost);
  EXPECT_EQ(ErrorReason(CheckWinnable(lost, "rep-1")), "OPPORTUNITY_CLOSED");
}

TEST(OpportunityTest, WinNeedsLinesAndRecordsTheContract) {
  Opportunity empty = Open();
  EXPECT_EQ(ErrorReason(CheckWinnable(empty, "rep-1")), "NO_LINES");
  Opportunity o = Open(*PriceLines({{"suite", 2, 500}}, Catalog(), 1000));
  EXPECT_EQ(o.amount, 1899810);
  EXPECT_EQ(ErrorReason(CheckWinnable(o, "rep-2")), "NOT_OPPORTUNITY_OWNER");
  auto won = Win(o, "k-1", "rep-1", kT0);
  ASSERT_TRUE(won.ok());
  EXPECT_EQ(won->won().amount(), 1899810);
  Opportunity closed = Given({*won}, o);
  EXPECT_EQ(closed.state, State::kWon);
  EXPECT_EQ(CategoryOf(closed, 100), ev::FORECAST_CATEGORY_CLOSED);
}

TEST(OpportunityTest, ForecastCategoryFollowsProbabilityUnlessSetByHand) {
  Opportunity o = Open();
  EXPECT_EQ(CategoryOf(o, 10), ev::FORECAST_CATEGORY_PIPELINE);
  EXPECT_EQ(CategoryOf(o, 40), ev::FORECAST_CATEGORY_BEST_CASE);
  EXPECT_EQ(CategoryOf(o, 80), ev::FORECAST_CATEGORY_COMMIT);
  auto set =
      UpdateForecast(o, kT0 + absl::Hours(24 * 40), ev::FORECAST_CATEGORY_COMMIT, "rep-1", kT0);
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->size(), 2u);
  o = Given(*set, o);
  EXPECT_EQ(CategoryOf(o, 10), ev::FORECAST_CATEGORY_COMMIT);
  EXPECT_EQ(o.expected_close, kT0 + absl::Hours(24 * 40));
  EXPECT_EQ(
      Fields(UpdateForecast(o, absl::InfinitePast(), ev::FORECAST_CATEGORY_CLOSED, "rep-1", kT0)
                 .status()),
      std::set<std::string>{"forecast_category"});
}

}  // namespace
}  // namespace crm::opportunity
