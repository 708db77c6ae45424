#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "storage/store.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// Hands out entry versions: each greater than every version handed out
// before, by this process or any earlier one that had the store open. The
// store keeps a durable ceiling above every version handed out; it is raised
// a block at a time, so one synced write in the store pays for many versions,
// and a restart continues above the ceiling, never below.
//
// Thread-safety: thread-safe. Borrows the store, which must outlive it.
class VersionSource {
 public:
  // Versions handed out per write of the ceiling.
  static constexpr std::uint64_t kBlock = 1 << 16;

  explicit VersionSource(storage::Store* store)
      : store_(store), next_(store->version_ceiling()), ceiling_(store->version_ceiling()) {}

  // The next version; an error only when the ceiling could not be raised.
  [[nodiscard]] Status Next(std::uint64_t* version) {
    const std::uint64_t v = next_.fetch_add(1, std::memory_order_relaxed);
    if (v < ceiling_.load(std::memory_order_acquire)) {
      *version = v;
      return Status::OK();
    }
    return Raise(v, version);
  }

 private:
  Status Raise(std::uint64_t v, std::uint64_t* version) {
    std::lock_guard lock(mu_);
    if (v >= ceiling_.load(std::memory_order_relaxed)) {
      const std::uint64_t ceiling = v + kBlock;
      Status s = store_->RaiseVersionCeiling(ceiling);
      if (!s.ok()) return s;
      ceiling_.store(ceiling, std::memory_order_release);
    }
    *version = v;
    return Status::OK();
  }

  storage::Store* const store_;
  std::atomic<std::uint64_t> next_;
  std::atomic<std::uint64_t> ceiling_;
  std::mutex mu_;  // serialises raising the ceiling
};

}  // namespace tiercache::engine
