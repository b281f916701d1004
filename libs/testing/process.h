#ifndef CRM_LIBS_TESTING_PROCESS_H_
#define CRM_LIBS_TESTING_PROCESS_H_

// Child processes for integration and end-to-end tests: the project's real
// binaries, started with arguments, stopped with a signal.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::test {

class Process {
 public:
  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_path`.
  static absl::StatusOr<Process> Start(std::vector<std::string> argv, const std::string& log_path);
  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  ~Process();  // SIGKILLs a process still running.

  // Sends `signal` and waits for exit; returns the wait status.
  int Stop(int signal);
  // Waits for the process to end by itself; its exit code, -1 if killed.
  int Wait();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago, outside the kernel's
// ephemeral range so that it stays free while its server restarts.
int FreePort();

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout);

// The body of GET http://127.0.0.1:<port><path>, or "" on any failure.
std::string HttpGet(int port, const std::string& path);

// Reads a whole file; empty when it does not exist.
std::string ReadFile(const std::string& path);

// Every byte of every file under `dir`, concatenated (to search a store's
// files for what must not be there).
std::string ReadTree(const std::string& dir);

}  // namespace crm::test

#endif  // CRM_LIBS_TESTING_PROCESS_H_
