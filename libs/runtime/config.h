#ifndef CRM_LIBS_RUNTIME_CONFIG_H_
#define CRM_LIBS_RUNTIME_CONFIG_H_

// Process configuration from flags and the environment. `--data-dir=/x` (or
// `--data-dir /x`) wins over CRM_DATA_DIR, which wins over the default.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::runtime {

class Config {
 public:
  // INVALID_ARGUMENT for an argument that is not a --flag.
  static absl::StatusOr<Config> FromArgs(int argc, char** argv);
  Config() = default;

  std::string Get(const std::string& name, const std::string& default_value) const;
  // INVALID_ARGUMENT naming the flag when the value is not an integer.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t default_value) const;
  void Set(const std::string& name, std::string value) { flags_[name] = std::move(value); }

  // CRM_DATA_DIR for "data-dir".
  static std::string EnvName(const std::string& name);

 private:
  std::map<std::string, std::string> flags_;
};

}  // namespace crm::runtime

#endif  // CRM_LIBS_RUNTIME_CONFIG_H_
