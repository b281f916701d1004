#ifndef CRM_SERVICES_OPPORTUNITY_DOMAIN_CATALOG_H_
#define CRM_SERVICES_OPPORTUNITY_DOMAIN_CATALOG_H_

// A tenant's price book and opportunity rules (pipelines, discount limits,
// calibration), and pricing lines from them. Pure functions, no I/O.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crm/opportunity/events/v1/opportunity_events.pb.h"

namespace crm::opportunity {

namespace ev = crm::opportunity::events::v1;

// The default pipeline (DOMAIN.md): qualify 10%, needs confirmed 25% (need
// recorded), demo done 40% (key person identified, demo logged), quote sent
// 60% (lines, quote sent), negotiation 80% (quote sent); won 100% and lost
// 0% by closing.
ev::Pipeline DefaultPipeline();

struct Settings {
  std::vector<ev::Pipeline> pipelines;
  int32_t rep_max_discount_bp = 1000;
  int32_t manager_max_discount_bp = 2500;
  int32_t calibration_min_closed = 20;

  // The defaults with `s`' non-empty values over them.
  static Settings From(const ev::OpportunitySettings& s);
  // The pipeline `id` names; the first for ""; nullptr when none.
  const ev::Pipeline* FindPipeline(const std::string& id) const;
};

// INVALID_ARGUMENT naming each bad field as `settings.<field>`.
absl::Status ValidateSettings(const ev::OpportunitySettings& s);
// INVALID_ARGUMENT naming each bad field as `product.<field>`; bundles may
// only contain known, unretired products that are not bundles themselves.
absl::Status ValidateProduct(const ev::ProductSaved& p,
                             const std::map<std::string, ev::ProductSaved>& catalog);

enum class Role { kRep, kManager, kAdmin };
int32_t MaxDiscountBp(const Settings& s, Role role);

struct LineInput {
  std::string product_id;
  int32_t quantity = 0;
  int32_t discount_bp = 0;
};

// Lines priced from the price book; amounts are computed. INVALID_ARGUMENT
// names `lines[i].<field>` (unknown or retired product, quantity 1-1000000,
// discount 0-10000); DISCOUNT_OVER_LIMIT when a discount exceeds
// `max_discount_bp`.
absl::StatusOr<std::vector<ev::Line>> PriceLines(
    const std::vector<LineInput>& lines, const std::map<std::string, ev::ProductSaved>& catalog,
    int32_t max_discount_bp);

// Sum of the lines' amounts (INVALID_ARGUMENT on overflow).
absl::StatusOr<int64_t> Total(const std::vector<ev::Line>& lines);

// The win probability of a stage: the share of the tenant's closed
// opportunities that reached it and were won, once at least `min_closed`
// closed opportunities reached it; else the stage default.
struct Calibration {
  int32_t probability = 0;
  bool calibrated = false;
};
Calibration Calibrate(int32_t stage_default, int64_t reached_closed, int64_t reached_won,
                      int32_t min_closed);

}  // namespace crm::opportunity

#endif  // CRM_SERVICES_OPPORTUNITY_DOMAIN_CATALOG_H_
