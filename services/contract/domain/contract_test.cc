#include "services/contract/domain/contract.h"

#include <set>

#include "gtest/gtest.h"
#include "libs/status/status.h"

namespace crm::contract {
namespace {

ev::ContractLine Line(const std::string& product, int32_t qty, int64_t price, int32_t bp) {
  ev::ContractLine l;
  l.set_product_id(product);
  l.set_quantity(qty);
  l.set_list_price(price);
  l.set_discount_bp(bp);
  l.set_amount(1);  // ignored: amounts are computed
  return l;
}

TEST(ContractTest, CreateComputesAmountsAndDefaultsTheOwner) {
  Create cmd{"k1",
             "c1",
             "",
             "o1",
             {Line("seat", 3, 120000, 1000), Line("setup", 1, 50000, 0)},
             "rep-1",
             absl::FromUnixSeconds(1'800'000'000)};
  auto e = Decide({}, cmd);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->created().lines(0).amount(), 324000);
  EXPECT_EQ(e->created().amount(), 374000);
  EXPECT_EQ(e->created().owner_id(), "rep-1");
  Contract c = Evolve({}, *e);
  EXPECT_EQ(c.state, State::kDraft);
  EXPECT_EQ(Decide(c, cmd).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(ContractTest, CreateNamesEveryBadField) {
  Create cmd{"k1", "", "", "", {Line("", 0, -1, 20000)}, "rep-1", absl::Now()};
  const google::rpc::BadRequest br = BadRequestOf(Decide({}, cmd).status());
  std::set<std::string> fields;
  for (const auto& v : br.field_violations()) fields.insert(v.field());
  EXPECT_EQ(fields,
            (std::set<std::string>{"contract.customer_id", "contract.lines[0].product_id",
                                   "contract.lines[0].quantity", "contract.lines[0].list_price",
                                   "contract.lines[0].discount_bp", "contract.lines[0]"}));
}

}  // namespace
}  // namespace crm::contract
