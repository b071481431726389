// What must finish before /readyz may say ready, beyond the listener being
// up: the first attempt to subscribe to the invalidation bus (until then an
// event could be missed unnoticed) and the warming of `warm:` paths. Each
// task is named when registered and reported done once; /readyz lists the
// ones still pending. Thread-safe; rarely touched, so a mutex is fine.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

namespace cachecar::proxy {

class StartupGate {
 public:
  void add(std::string task) {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(task));
  }
  void done(const std::string& task) {
    std::lock_guard lock(mutex_);
    auto it = std::find(pending_.begin(), pending_.end(), task);
    if (it != pending_.end()) pending_.erase(it);
  }
  std::vector<std::string> pending() const {
    std::lock_guard lock(mutex_);
    return pending_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> pending_;
};

}  // namespace cachecar::proxy
