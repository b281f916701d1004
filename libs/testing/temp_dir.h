#ifndef CRM_LIBS_TESTING_TEMP_DIR_H_
#define CRM_LIBS_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace crm::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction unless CRM_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base ? base : "/tmp") + "/crm-test-XXXXXX";
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() {
    if (!std::getenv("CRM_KEEP_TEST_DIRS")) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace crm::test

#endif  // CRM_LIBS_TESTING_TEMP_DIR_H_
