#include "storage/free_space_guard.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tiercache::storage {

Status StatvfsFreeSpace(const std::string& path, std::uint64_t* free_bytes) {
  struct statvfs info {};
  if (::statvfs(path.c_str(), &info) != 0) {
    return Status::IOError(
        fmt::format("cannot read the free space of {}: {}", path, std::strerror(errno)));
  }
  // f_bavail, not f_bfree: the blocks reserved for root are not ours to
  // count on, even when running as root.
  *free_bytes = static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
  return Status::OK();
}

FreeSpaceGuard::FreeSpaceGuard(Options options) : options_(std::move(options)) {}

Status FreeSpaceGuard::Admit(std::uint64_t bytes) {
  if (options_.reserve == 0) return Status::OK();
  const std::uint64_t cost = bytes * kSpaceAmplification;
  const std::int64_t now_ms = NowMs();
  if (TryCharge(cost, now_ms)) return Status::OK();
  return Reprobe(cost, now_ms);
}

bool FreeSpaceGuard::TryCharge(std::uint64_t cost, std::int64_t now_ms) {
  if (now_ms >= deadline_ms_.load(std::memory_order_acquire)) return false;
  std::uint64_t budget = budget_.load(std::memory_order_relaxed);
  while (budget >= cost) {
    if (budget_.compare_exchange_weak(budget, budget - cost, std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

Status FreeSpaceGuard::RequireRoom(std::uint64_t bytes, std::string_view what) {
  if (options_.reserve == 0) return Status::OK();
  std::uint64_t free_bytes = 0;
  {
    std::lock_guard lock(mu_);
    Status s = Probe(&free_bytes);
    if (!s.ok()) return s;
  }
  if (free_bytes >= options_.reserve && free_bytes - options_.reserve >= bytes) return Status::OK();
  return Status::NoSpace(
      fmt::format("free space on FS of {} is {} bytes; {} needs about {} bytes above the reserve "
                  "of {} bytes",
                  options_.path, free_bytes, what, bytes, options_.reserve));
}

Status FreeSpaceGuard::Probe(std::uint64_t* free_bytes) {
  return options_.probe ? options_.probe(options_.path, free_bytes)
                        : StatvfsFreeSpace(options_.path, free_bytes);
}

Status FreeSpaceGuard::Reprobe(std::uint64_t cost, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  // Another writer may have probed while this one waited for the lock.
  if (TryCharge(cost, now_ms)) return Status::OK();
  std::uint64_t free_bytes = 0;
  const Status probed = Probe(&free_bytes);
  if (!probed.ok()) return probed;
  const std::uint64_t reserve =
      options_.reserve + (options_.extra_reserve ? options_.extra_reserve() : 0);
  const std::uint64_t headroom = free_bytes > reserve ? free_bytes - reserve : 0;
  if (cost > headroom) {
    // Leave the budget empty: the next write probes again, and succeeds as
    // soon as space has been freed.
    budget_.store(0, std::memory_order_relaxed);
    if (free_bytes < reserve) {
      return Status::NoSpace(
          fmt::format("free space on FS of {} is {} bytes, below the reserve of {} bytes",
                      options_.path, free_bytes, reserve));
    }
    return Status::NoSpace(
        fmt::format("free space on FS of {} is {} bytes; a write needing about {} bytes would go "
                    "below the reserve of {} bytes",
                    options_.path, free_bytes, cost, reserve));
  }
  const std::uint64_t half = headroom / 2;
  budget_.store(half > cost ? half - cost : 0, std::memory_order_relaxed);
  deadline_ms_.store(now_ms + options_.recheck_interval.count(), std::memory_order_release);
  return Status::OK();
}

std::int64_t FreeSpaceGuard::NowMs() const {
  const TimePoint now = options_.clock ? options_.clock->Now() : SystemClock().Now();
  return now.time_since_epoch().count();
}

}  // namespace tiercache::storage
