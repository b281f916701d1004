#ifndef CRM_LIBS_MONEY_MONEY_H_
#define CRM_LIBS_MONEY_MONEY_H_

// Money is an int64 count of minor currency units (cents); discounts are
// basis points (1% = 100). Shared by every service that prices lines.

#include <cstdint>
#include <optional>
#include <string>

namespace crm {

inline constexpr int32_t kFullDiscountBp = 10000;

// quantity * unit_price * (1 - discount_bp / 10000), rounded half up to a
// minor unit; nullopt when the result does not fit in an int64 or an input
// is negative (or the discount above 100%).
inline std::optional<int64_t> LineAmount(int32_t quantity, int64_t unit_price,
                                         int32_t discount_bp) {
  if (quantity < 0 || unit_price < 0 || discount_bp < 0 || discount_bp > kFullDiscountBp) {
    return std::nullopt;
  }
  const __int128 gross = static_cast<__int128>(quantity) * unit_price;
  const __int128 scaled = gross * (kFullDiscountBp - discount_bp);
  const __int128 amount = (scaled + kFullDiscountBp / 2) / kFullDiscountBp;
  if (amount > INT64_MAX) return std::nullopt;
  return static_cast<int64_t>(amount);
}

// a + b, or nullopt on overflow.
inline std::optional<int64_t> AddMoney(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// "1234.50" for 123450 minor units; "-0.05" for -5.
inline std::string FormatMinorUnits(int64_t amount) {
  const bool negative = amount < 0;
  const uint64_t abs = negative ? 0 - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
  std::string cents = std::to_string(abs % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(abs / 100) + "." + cents;
}

}  // namespace crm

#endif  // CRM_LIBS_MONEY_MONEY_H_
