#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "engine/key_hash.h"

namespace tiercache::engine {

// Striped locks over (namespace id, key): a writer of a key holds its stripe
// while it picks the key's next version and updates both tiers, so that the
// tiers see a key's writes in version order, a compare-and-set is atomic, and
// a read that refills L1 from disk cannot overwrite a newer write.
//
// Thread-safety: thread-safe. Lock order: stripes in ascending index.
class KeyLocks {
 public:
  static constexpr std::size_t kStripes = 4096;

  static std::size_t StripeOf(std::uint32_t ns, std::string_view key) {
    return HashKey(ns, key) % kStripes;
  }

  // *waited, when given: whether another thread held the stripe first.
  std::unique_lock<std::mutex> Lock(std::uint32_t ns, std::string_view key,
                                    bool* waited = nullptr) {
    std::unique_lock lock(stripes_[StripeOf(ns, key)], std::try_to_lock);
    const bool held = !lock.owns_lock();
    if (held) lock.lock();
    if (waited != nullptr) *waited = held;
    return lock;
  }

  // Locks the stripes of every key, in ascending order; unlocks on
  // destruction of the returned guards.
  std::vector<std::unique_lock<std::mutex>> LockMany(std::uint32_t ns,
                                                     const std::vector<std::string_view>& keys) {
    std::vector<std::size_t> indices;
    indices.reserve(keys.size());
    for (std::string_view key : keys) indices.push_back(StripeOf(ns, key));
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(indices.size());
    for (std::size_t i : indices) locks.emplace_back(stripes_[i]);
    return locks;
  }

 private:
  std::array<std::mutex, kStripes> stripes_;
};

}  // namespace tiercache::engine
