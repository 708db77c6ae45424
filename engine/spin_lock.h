#pragma once

#include <atomic>
#include <thread>

namespace tiercache::engine {

// A test-and-test-and-set lock for critical sections of a few hundred
// nanoseconds, such as one shard operation: unlocking is a plain store, where
// a mutex pays a second atomic read-modify-write. A waiter yields after a
// short spin so that a preempted holder can run.
//
// Thread-safe. Meets the Lockable requirements (std::lock_guard works).
class SpinLock {
 public:
  void lock() {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    LockSlow();
  }
  bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  static constexpr int kSpinsBeforeYield = 64;

  // Out of line: the uncontended lock() stays one exchange.
  [[gnu::noinline]] void LockSlow() {
    for (int spins = 0;; ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > kSpinsBeforeYield) {
          std::this_thread::yield();
        } else {
          Pause();
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
    }
  }

  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  std::atomic<bool> locked_{false};
};

}  // namespace tiercache::engine
