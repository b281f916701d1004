#include "services/opportunity/domain/catalog.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/money/money.h"
#include "libs/status/status.h"

namespace crm::opportunity {
namespace {

bool ValidId(absl::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

ev::Stage MakeStage(const char* id, const char* name, int32_t probability,
                    std::vector<ev::Condition> conditions) {
  ev::Stage s;
  s.set_stage_id(id);
  s.set_name(name);
  s.set_probability(probability);
  for (auto c : conditions) s.add_entry_conditions(c);
  return s;
}

}  // namespace

ev::Pipeline DefaultPipeline() {
  ev::Pipeline p;
  p.set_pipeline_id("default");
  p.set_name("Default");
  *p.add_stages() = MakeStage("qualify", "Qualify", 10, {});
  *p.add_stages() =
      MakeStage("needs-confirmed", "Needs confirmed", 25, {ev::CONDITION_NEED_RECORDED});
  *p.add_stages() = MakeStage("demo-done", "Demo done", 40,
                              {ev::CONDITION_KP_IDENTIFIED, ev::CONDITION_DEMO_TOUCH_LOGGED});
  *p.add_stages() = MakeStage("quote-sent", "Quote sent", 60,
                              {ev::CONDITION_LINES_PRESENT, ev::CONDITION_QUOTE_SENT});
  *p.add_stages() = MakeStage("negotiation", "Negotiation", 80, {ev::CONDITION_QUOTE_SENT});
  return p;
}

Settings Settings::From(const ev::OpportunitySettings& s) {
  Settings out;
  out.pipelines.assign(s.pipelines().begin(), s.pipelines().end());
  if (out.pipelines.empty()) out.pipelines.push_back(DefaultPipeline());
  if (s.rep_max_discount_bp() > 0) out.rep_max_discount_bp = s.rep_max_discount_bp();
  if (s.manager_max_discount_bp() > 0) out.manager_max_discount_bp = s.manager_max_discount_bp();
  if (s.calibration_min_closed() > 0) out.calibration_min_closed = s.calibration_min_closed();
  return out;
}

const ev::Pipeline* Settings::FindPipeline(const std::string& id) const {
  for (const auto& p : pipelines) {
    if (id.empty() || p.pipeline_id() == id) return &p;
  }
  return nullptr;
}

absl::Status ValidateSettings(const ev::OpportunitySettings& s) {
  FieldViolations v;
  std::set<std::string> pipeline_ids;
  for (int i = 0; i < s.pipelines_size(); ++i) {
    const ev::Pipeline& p = s.pipelines(i);
    const std::string at = absl::StrCat("settings.pipelines[", i, "]");
    if (!ValidId(p.pipeline_id())) v.Add(at + ".pipeline_id", "must be 1-64 of [A-Za-z0-9_-]");
    if (!pipeline_ids.insert(p.pipeline_id()).second) v.Add(at + ".pipeline_id", "is used twice");
    if (p.stages().empty()) v.Add(at + ".stages", "must name at least one stage");
    std::set<std::string> stage_ids;
    int32_t previous = -1;
    for (int j = 0; j < p.stages_size(); ++j) {
      const ev::Stage& st = p.stages(j);
      const std::string sat = absl::StrCat(at, ".stages[", j, "]");
      if (!ValidId(st.stage_id())) v.Add(sat + ".stage_id", "must be 1-64 of [A-Za-z0-9_-]");
      if (!stage_ids.insert(st.stage_id()).second) v.Add(sat + ".stage_id", "is used twice");
      if (st.probability() < 0 || st.probability() > 99) {
        v.Add(sat + ".probability", "must be 0-99: 100 is reached by winning");
      } else if (st.probability() < previous) {
        v.Add(sat + ".probability", "must not fall from the stage before");
      }
      previous = st.probability();
      for (int c : st.entry_conditions()) {
        if (c == ev::CONDITION_UNSPECIFIED || !ev::Condition_IsValid(c)) {
          v.Add(sat + ".entry_conditions", "names an unknown condition");
        }
      }
    }
  }
  auto bp = [&](const char* field, int32_t value) {
    if (value < 0 || value > kFullDiscountBp) {
      v.Add(absl::StrCat("settings.", field), "must be 0-10000 basis points");
    }
  };
  bp("rep_max_discount_bp", s.rep_max_discount_bp());
  bp("manager_max_discount_bp", s.manager_max_discount_bp());
  if (s.calibration_min_closed() < 0) {
    v.Add("settings.calibration_min_closed", "must not be negative");
  }
  return v.ToStatus();
}

absl::Status ValidateProduct(const ev::ProductSaved& p,
                             const std::map<std::string, ev::ProductSaved>& catalog) {
  FieldViolations v;
  if (!ValidId(p.product_id())) v.Add("product.product_id", "must be 1-64 of [A-Za-z0-9_-]");
  if (absl::StripAsciiWhitespace(p.name()).empty() || p.name().size() > 200) {
    v.Add("product.display_name", "is required, at most 200 bytes");
  }
  if (p.list_price() < 0) v.Add("product.list_price", "must not be negative");
  for (int i = 0; i < p.bundle_items_size(); ++i) {
    const auto& item = p.bundle_items(i);
    const std::string at = absl::StrCat("product.bundle_items[", i, "]");
    auto it = catalog.find(item.product_id());
    if (item.product_id() == p.product_id() || it == catalog.end() || it->second.retired()) {
      v.Add(at + ".product_id", "must name another product of the price book");
    } else if (!it->second.bundle_items().empty()) {
      v.Add(at + ".product_id", "must not be a bundle itself");
    }
    if (item.quantity() < 1) v.Add(at + ".quantity", "must be at least 1");
  }
  return v.ToStatus();
}

int32_t MaxDiscountBp(const Settings& s, Role role) {
  switch (role) {
    case Role::kAdmin:
      return kFullDiscountBp;
    case Role::kManager:
      return s.manager_max_discount_bp;
    case Role::kRep:
      break;
  }
  return s.rep_max_discount_bp;
}

absl::StatusOr<std::vector<ev::Line>> PriceLines(
    const std::vector<LineInput>& lines, const std::map<std::string, ev::ProductSaved>& catalog,
    int32_t max_discount_bp) {
  FieldViolations v;
  std::vector<ev::Line> out;
  std::vector<std::string> over_limit;
  if (lines.size() > 200) v.Add("lines", "at most 200 lines");
  for (size_t i = 0; i < lines.size(); ++i) {
    const LineInput& in = lines[i];
    const std::string at = absl::StrCat("lines[", i, "]");
    auto it = catalog.find(in.product_id);
    if (it == catalog.end() || it->second.retired()) {
      v.Add(at + ".product_id", "must name a product of the price book");
    }
    if (in.quantity < 1 || in.quantity > 1000000) v.Add(at + ".quantity", "must be 1-1000000");
    if (in.discount_bp < 0 || in.discount_bp > kFullDiscountBp) {
      v.Add(at + ".discount_bp", "must be 0-10000 basis points");
    } else if (in.discount_bp > max_discount_bp) {
      over_limit.push_back(at);
    }
    if (it == catalog.end()) continue;
    ev::Line line;
    line.set_product_id(in.product_id);
    line.set_product_name(it->second.name());
    line.set_quantity(in.quantity);
    line.set_list_price(it->second.list_price());
    line.set_discount_bp(in.discount_bp);
    line.set_bundle(!it->second.bundle_items().empty());
    auto amount = LineAmount(in.quantity, it->second.list_price(), in.discount_bp);
    if (!amount) {
      v.Add(at, "amount is out of range");
    } else {
      line.set_amount(*amount);
    }
    out.push_back(std::move(line));
  }
  RETURN_IF_ERROR(v.ToStatus());
  if (!over_limit.empty()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition, "DISCOUNT_OVER_LIMIT",
        absl::StrCat(over_limit.front(), " discounts more than the ", max_discount_bp,
                     " basis points the caller's role may give; a manager may give more"));
  }
  return out;
}

absl::StatusOr<int64_t> Total(const std::vector<ev::Line>& lines) {
  int64_t total = 0;
  for (const auto& l : lines) {
    auto sum = AddMoney(total, l.amount());
    if (!sum) return absl::InvalidArgumentError("lines: the total amount is out of range");
    total = *sum;
  }
  return total;
}

Calibration Calibrate(int32_t stage_default, int64_t reached_closed, int64_t reached_won,
                      int32_t min_closed) {
  if (reached_closed < min_closed || reached_closed <= 0) return {stage_default, false};
  return {static_cast<int32_t>((reached_won * 100 + reached_closed / 2) / reached_closed), true};
}

}  // namespace crm::opportunity
