#ifndef CRM_LIBS_RUNTIME_PERIODIC_H_
#define CRM_LIBS_RUNTIME_PERIODIC_H_

// Periodic runs a task on a background thread every `period` until Stop(),
// logging its failures; Stop() returns within about 100 ms.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::runtime {

class Periodic {
 public:
  explicit Periodic(std::string name) : name_(std::move(name)) {}
  ~Periodic() { Stop(); }
  void Start(absl::Duration period, std::function<absl::Status()> task);
  void Stop();

 private:
  std::string name_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace crm::runtime

#endif  // CRM_LIBS_RUNTIME_PERIODIC_H_
