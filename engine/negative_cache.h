#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tiercache/clock.h"

namespace tiercache::engine {

// Keys the loader said do not exist, remembered until their time runs out,
// so that repeated Gets of a missing key do not call the loader each time.
// Bounded: when full, expired keys go first, then everything.
//
// Thread-safety: thread-safe; mu_ guards until_.
class NegativeCache {
 public:
  static constexpr std::size_t kMaxKeys = 100'000;

  bool Contains(const std::string& key, TimePoint now) {
    std::lock_guard lock(mu_);
    auto it = until_.find(key);
    if (it == until_.end()) return false;
    if (it->second > now) return true;
    until_.erase(it);
    return false;
  }

  void Add(const std::string& key, TimePoint until, TimePoint now) {
    std::lock_guard lock(mu_);
    if (until_.size() >= kMaxKeys) {
      std::erase_if(until_, [&](const auto& item) { return item.second <= now; });
      if (until_.size() >= kMaxKeys) until_.clear();
    }
    until_[key] = until;
  }

  void Erase(const std::string& key) {
    std::lock_guard lock(mu_);
    until_.erase(key);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, TimePoint> until_;  // GUARDED_BY(mu_)
};

}  // namespace tiercache::engine
