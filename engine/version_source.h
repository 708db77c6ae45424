#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>

#include "storage/record_format.h"
#include "storage/store.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// Hands out entry versions: each greater than every version handed out
// before, by this process or any earlier one that had the store open. The
// store keeps a durable ceiling above every version handed out; it is raised
// a block at a time, so one synced write in the store pays for many versions,
// and a restart continues above the ceiling, never below. Past
// storage::kMaxVersion there are none left: NotSupported.
//
// Thread-safety: thread-safe. Borrows the store, which must outlive it.
class VersionSource {
 public:
  // Versions handed out per write of the ceiling.
  static constexpr std::uint64_t kBlock = 1 << 16;

  // A stored ceiling above the range (an older tiercache's load wrote them)
  // counts as its end, so that next_ never wraps around.
  explicit VersionSource(storage::Store* store)
      : store_(store),
        next_(std::min(store->version_ceiling(), kEnd)),
        ceiling_(std::min(store->version_ceiling(), kEnd)) {}

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
  static constexpr std::uint64_t kEnd = storage::kMaxVersion + 1;

  Status Raise(std::uint64_t v, std::uint64_t* version) {
    if (v >= kEnd) {
      return Status::NotSupported(
          fmt::format("the store at {} has used up its entry versions (the last is {})",
                      store_->path(), storage::kMaxVersion));
    }
    std::lock_guard lock(mu_);
    if (v >= ceiling_.load(std::memory_order_relaxed)) {
      const std::uint64_t ceiling = std::min(v + kBlock, kEnd);
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
