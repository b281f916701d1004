#ifndef CRM_SERVICES_CUSTOMER_APP_KEPT_STATES_H_
#define CRM_SERVICES_CUSTOMER_APP_KEPT_STATES_H_

// States of aggregates as last replayed from their streams, kept by key (up
// to `capacity`) so that the next load replays only the events appended
// since. A `State` has an `int64_t version`. Thread-safe.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace crm::customer {

template <typename State>
class KeptStates {
 public:
  explicit KeptStates(size_t capacity) : capacity_(capacity) {}

  // The state kept for `key` (null when none), and the generation to Keep
  // what is replayed from it with.
  std::pair<std::shared_ptr<const State>, uint64_t> Find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(key);
    return {it == states_.end() ? nullptr : it->second, generation_};
  }

  // Keeps `state` for `key` unless a newer one is kept or everything was
  // dropped since `generation` was found.
  void Keep(const std::string& key, State state, uint64_t generation) {
    const int64_t version = state.version;
    auto kept = std::make_shared<const State>(std::move(state));
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != generation_) return;
    if (auto it = states_.find(key); it == states_.end()) {
      // Full: forget some state; it is replayed when next needed.
      if (states_.size() >= capacity_) states_.erase(states_.begin());
      states_.emplace(key, std::move(kept));
    } else if (version > it->second->version) {
      it->second = std::move(kept);
    }
  }

  // Drops every kept state; states replayed before are not kept after.
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    states_.clear();
    ++generation_;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const State>> states_;
  uint64_t generation_ = 0;
};

// A state to decide on, under its key among the kept states, with the
// generation to keep its successor with; `read` when it was read up to its
// stream's head, else it is the kept state as it was.
template <typename State>
struct LoadedState {
  std::string key;
  State state;
  uint64_t generation = 0;
  bool read = true;
};

}  // namespace crm::customer

#endif  // CRM_SERVICES_CUSTOMER_APP_KEPT_STATES_H_
