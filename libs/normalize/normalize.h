#ifndef CRM_LIBS_NORMALIZE_NORMALIZE_H_
#define CRM_LIBS_NORMALIZE_NORMALIZE_H_

// Normalised forms of contact data, shared by every service that matches
// leads, customers and key persons against each other.

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace crm {

// Lower case, punctuation and legal-form suffixes (inc, ltd, llc, gmbh, ...)
// removed, single spaces: "ACME, Inc." -> "acme".
std::string NormalizeCompanyName(absl::string_view name);

// Digits with an optional leading '+', separators removed; nullopt when the
// result is not 6-15 digits.
std::optional<std::string> NormalizePhone(absl::string_view phone);

// Lower-cased address when it has one '@', a non-empty local part and a
// dotted domain, no spaces, at most 254 characters; else nullopt.
std::optional<std::string> NormalizeEmail(absl::string_view email);

}  // namespace crm

#endif  // CRM_LIBS_NORMALIZE_NORMALIZE_H_
