#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tiercache/clock.h"

namespace tiercache::engine {

// Keys the loader said do not exist, remembered until their time runs out,
// so that repeated Gets of a missing key do not call the loader each time.
// A load marks its key when it begins, and its "not found" is remembered only
// if no write erased the key while the loader ran: a write acknowledged then
// is newer than the loader's answer.
// Bounded: when full, expired keys go first, then everything.
//
// Thread-safety: thread-safe; mu_ guards until_.
class NegativeCache {
 public:
  static constexpr std::size_t kMaxKeys = 100'000;

  bool Contains(const std::string& key, TimePoint now) {
    std::lock_guard lock(mu_);
    auto it = until_.find(key);
    if (it == until_.end() || it->second == kLoading) return false;
    if (it->second > now) return true;
    until_.erase(it);
    return false;
  }

  // A load of the key begins.
  void Begin(const std::string& key, TimePoint now) { Set(key, kLoading, now); }

  // The load that began found nothing: remembered until `until`, unless a
  // write erased the key since.
  void Remember(const std::string& key, TimePoint until) {
    std::lock_guard lock(mu_);
    auto it = until_.find(key);
    if (it != until_.end() && it->second == kLoading) it->second = until;
  }

  // A write of the key, or a load that ended otherwise.
  void Erase(const std::string& key) {
    std::lock_guard lock(mu_);
    until_.erase(key);
  }

 private:
  static constexpr TimePoint kLoading = TimePoint::min();

  void Set(const std::string& key, TimePoint until, TimePoint now) {
    std::lock_guard lock(mu_);
    if (until_.size() >= kMaxKeys) {
      std::erase_if(until_, [&](const auto& item) {
        return item.second != kLoading && item.second <= now;
      });
      if (until_.size() >= kMaxKeys) until_.clear();
    }
    until_[key] = until;
  }

  std::mutex mu_;
  std::unordered_map<std::string, TimePoint> until_;  // GUARDED_BY(mu_)
};

}  // namespace tiercache::engine
