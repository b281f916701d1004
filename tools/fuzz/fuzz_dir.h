#ifndef CRM_TOOLS_FUZZ_FUZZ_DIR_H_
#define CRM_TOOLS_FUZZ_FUZZ_DIR_H_

// A fresh directory for a fuzz target's RocksDB stores, on /dev/shm when
// there is one (syncs there cost nothing, so the fuzzer runs at its pace).

#include <unistd.h>

#include <filesystem>
#include <string>

namespace crm::fuzz {

inline std::string Dir(const std::string& name) {
  const std::filesystem::path base =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  const std::filesystem::path dir = base / ("crm-fuzz-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace crm::fuzz

#endif  // CRM_TOOLS_FUZZ_FUZZ_DIR_H_
