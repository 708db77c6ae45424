#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace tiercache {

// Wall-clock time at millisecond precision: what an entry's created_at,
// expires_at and last_accessed hold, on disk and in memory.
using TimePoint =
    std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

// Where the cache reads the time. Injected through Options so that expiry and
// write-behind intervals can be tested without sleeping.
//
// Thread-safety: Now() is called from many threads at once and must be safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The system's wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to: for tests of code that uses a cache.
// Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint(std::chrono::hours(24 * 365 * 50)))
      : now_ms_(start.time_since_epoch().count()) {}

  TimePoint Now() const override {
    return TimePoint(std::chrono::milliseconds(now_ms_.load(std::memory_order_acquire)));
  }
  void Advance(std::chrono::milliseconds step) {
    now_ms_.fetch_add(step.count(), std::memory_order_acq_rel);
  }
  void Set(TimePoint now) {
    now_ms_.store(now.time_since_epoch().count(), std::memory_order_release);
  }

 private:
  std::atomic<std::chrono::milliseconds::rep> now_ms_;
};

}  // namespace tiercache
