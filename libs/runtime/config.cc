#include "libs/runtime/config.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace crm::runtime {

absl::StatusOr<Config> Config::FromArgs(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "': flags look like --name=value"));
    }
    arg = arg.substr(2);
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      c.flags_[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc && !absl::StartsWith(argv[i + 1], "--")) {
      c.flags_[arg] = argv[++i];
    } else {
      c.flags_[arg] = "true";
    }
  }
  return c;
}

std::string Config::EnvName(const std::string& name) {
  std::string env = "CRM_" + absl::AsciiStrToUpper(name);
  for (char& ch : env) {
    if (ch == '-' || ch == '.') ch = '_';
  }
  return env;
}

std::string Config::Get(const std::string& name, const std::string& default_value) const {
  if (auto it = flags_.find(name); it != flags_.end()) return it->second;
  if (const char* env = std::getenv(EnvName(name).c_str())) return env;
  return default_value;
}

absl::StatusOr<int64_t> Config::GetInt(const std::string& name, int64_t default_value) const {
  const std::string v = Get(name, "");
  if (v.empty()) return default_value;
  int64_t out;
  if (!absl::SimpleAtoi(v, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer, got '", v, "'"));
  }
  return out;
}

}  // namespace crm::runtime
