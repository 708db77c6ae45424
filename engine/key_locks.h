#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/fill_check.h"
#include "engine/key_hash.h"

namespace tiercache::engine {

// One stripe of KeyLocks: a lock and its sequence, odd while it is held.
struct KeyStripe {
  std::mutex mu;
  std::atomic<std::uint32_t> sequence{0};  // written only by the holder of mu

  void Take() {
    mu.lock();
    sequence.store(sequence.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void Release() {
    sequence.store(sequence.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    mu.unlock();
  }
};

// Striped locks over (namespace id, key): a writer of a key holds its stripe
// while it picks the key's next version and updates both tiers, so that the
// tiers see a key's writes in version order and a compare-and-set is atomic.
//
// Each stripe keeps a sequence, as a sequence lock does: odd while held, moved
// on when taken and when released. A read that refills L1 from below without
// the lock watches the sequence instead (fill_check.h says why that suffices).
//
// Thread-safety: thread-safe. Lock order: stripes in ascending index.
class KeyLocks {
 public:
  static constexpr std::size_t kStripes = 4096;

  // A stripe held until this is destroyed.
  class Hold {
   public:
    Hold(Hold&& other) noexcept : stripe_(std::exchange(other.stripe_, nullptr)) {}
    Hold& operator=(Hold&&) = delete;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() {
      if (stripe_ != nullptr) stripe_->Release();
    }

   private:
    friend class KeyLocks;
    explicit Hold(KeyStripe* stripe) : stripe_(stripe) { stripe_->Take(); }
    KeyStripe* stripe_;
  };

  static std::size_t StripeOf(std::uint32_t ns, std::string_view key) {
    return HashKey(ns, key) % kStripes;
  }

  Hold Lock(std::uint32_t ns, std::string_view key) {
    return Hold(&stripes_[StripeOf(ns, key)]);
  }

  // Locks the stripes of every key, in ascending order; unlocks on
  // destruction of the returned holds.
  std::vector<Hold> LockMany(std::uint32_t ns, const std::vector<std::string_view>& keys) {
    std::vector<std::size_t> indices;
    indices.reserve(keys.size());
    for (std::string_view key : keys) indices.push_back(StripeOf(ns, key));
    std::sort(indices.begin(), indices.end());
    indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
    std::vector<Hold> holds;
    holds.reserve(indices.size());
    for (std::size_t i : indices) holds.push_back(Hold(&stripes_[i]));
    return holds;
  }

  // The key's stripe as a read without its lock starts from; nothing while
  // another thread holds it (the read then takes the lock).
  std::optional<FillCheck> Watch(std::uint32_t ns, std::string_view key) const {
    const std::atomic<std::uint32_t>& sequence = stripes_[StripeOf(ns, key)].sequence;
    const std::uint32_t seen = sequence.load(std::memory_order_acquire);
    if (seen % 2 != 0) return std::nullopt;
    return FillCheck{&sequence, seen};
  }

 private:
  std::array<KeyStripe, kStripes> stripes_;
};

}  // namespace tiercache::engine
