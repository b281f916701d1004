#include "libs/normalize/normalize.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace crm {

std::string NormalizeCompanyName(absl::string_view name) {
  static const char* const kSuffixes[] = {
      "inc",         "incorporated", "ltd",     "limited", "llc", "gmbh", "corp",
      "corporation", "co",           "company", "plc",     "ag",  "sa",   "bv"};
  std::string cleaned;
  for (unsigned char c : name) {
    if (c >= 0x80 || absl::ascii_isalnum(c)) {
      cleaned += static_cast<char>(absl::ascii_tolower(c));
    } else {
      cleaned += ' ';
    }
  }
  std::vector<std::string> words = absl::StrSplit(cleaned, ' ', absl::SkipEmpty());
  while (words.size() > 1) {
    bool stripped = false;
    for (const char* s : kSuffixes) {
      if (words.back() == s) {
        words.pop_back();
        stripped = true;
        break;
      }
    }
    if (!stripped) break;
  }
  return absl::StrJoin(words, " ");
}

std::optional<std::string> NormalizePhone(absl::string_view phone) {
  std::string out;
  for (size_t i = 0; i < phone.size(); ++i) {
    const char c = phone[i];
    if (c == '+' && out.empty()) {
      out += c;
    } else if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      out += c;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return std::nullopt;
    }
  }
  const size_t digits = out.size() - (absl::StartsWith(out, "+") ? 1 : 0);
  if (digits < 6 || digits > 15) return std::nullopt;
  return out;
}

std::optional<std::string> NormalizeEmail(absl::string_view email) {
  if (email.size() > 254) return std::nullopt;
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0 ||
      email.find('@', at + 1) != absl::string_view::npos) {
    return std::nullopt;
  }
  const absl::string_view domain = email.substr(at + 1);
  const size_t dot = domain.find('.');
  if (dot == absl::string_view::npos || dot == 0 || dot + 1 >= domain.size() ||
      absl::EndsWith(domain, ".")) {
    return std::nullopt;
  }
  for (unsigned char c : email) {
    if (c <= ' ' || c == 0x7f) return std::nullopt;
  }
  return absl::AsciiStrToLower(email);
}

}  // namespace crm
