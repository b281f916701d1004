#include "services/contract/domain/contract.h"

#include "absl/strings/str_cat.h"
#include "libs/clock/timestamp.h"
#include "libs/money/money.h"
#include "libs/status/status.h"

namespace crm::contract {

Contract Evolve(Contract c, const ContractEvent& event) {
  ++c.version;
  if (event.has_created()) {
    c.id = event.created().contract_id();
    c.created = event.created();
    c.state = State::kDraft;
  }
  return c;
}

absl::StatusOr<ContractEvent> Decide(const Contract& c, const Create& cmd) {
  if (c.exists()) return absl::AlreadyExistsError("contract " + c.id + " already exists");
  FieldViolations v;
  if (cmd.customer_id.empty() || cmd.customer_id.size() > 64) {
    v.Add("contract.customer_id", "is required, at most 64 bytes");
  }
  if (cmd.lines.empty() || cmd.lines.size() > 200) v.Add("contract.lines", "must be 1-200 lines");
  ContractEvent e;
  ev::ContractCreated* out = e.mutable_created();
  int64_t total = 0;
  for (size_t i = 0; i < cmd.lines.size(); ++i) {
    const ev::ContractLine& in = cmd.lines[i];
    const std::string at = absl::StrCat("contract.lines[", i, "]");
    if (in.product_id().empty()) v.Add(at + ".product_id", "is required");
    if (in.quantity() < 1 || in.quantity() > 1000000) v.Add(at + ".quantity", "must be 1-1000000");
    if (in.list_price() < 0) v.Add(at + ".list_price", "must not be negative");
    if (in.discount_bp() < 0 || in.discount_bp() > kFullDiscountBp) {
      v.Add(at + ".discount_bp", "must be 0-10000 basis points");
    }
    ev::ContractLine* line = out->add_lines();
    *line = in;
    auto amount = LineAmount(in.quantity(), in.list_price(), in.discount_bp());
    auto sum = amount ? AddMoney(total, *amount) : std::nullopt;
    if (!sum) {
      v.Add(at, "amount is out of range");
      continue;
    }
    line->set_amount(*amount);
    total = *sum;
  }
  RETURN_IF_ERROR(v.ToStatus());
  out->set_contract_id(cmd.contract_id);
  out->set_customer_id(cmd.customer_id);
  out->set_owner_id(cmd.owner_id.empty() ? cmd.user : cmd.owner_id);
  out->set_opportunity_id(cmd.opportunity_id);
  out->set_amount(total);
  out->set_created_by(cmd.user);
  *out->mutable_create_time() = ToTimestamp(cmd.now);
  return e;
}

}  // namespace crm::contract
