#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace tiercache::engine {

// Lets calls in until Close, then waits for the calls inside to leave: what a
// call uses while it holds a Pass stays alive, though another thread closes
// the cache meanwhile. A Pass costs one atomic increment and one decrement
// and may be taken again by a thread that holds one (a removal listener that
// calls back into the cache).
//
// Thread-safety: thread-safe.
class CallGate {
 public:
  class Pass {
   public:
    Pass() = default;
    explicit Pass(CallGate* gate) : gate_(gate) {}
    Pass(Pass&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Pass& operator=(Pass&& other) noexcept {
      std::swap(gate_, other.gate_);
      return *this;
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() {
      if (gate_ != nullptr) gate_->Leave();
    }

    // False once the gate is closed: the call must not go on.
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    CallGate* gate_ = nullptr;
  };

  // A pass, or an empty one once Close has begun.
  Pass Enter() {
    // Sequentially consistent, with Close's store and load: either this call
    // sees the gate closed or Close sees the call inside.
    inside_.fetch_add(1);
    if (!closed_.load()) return Pass(this);
    Leave();
    return Pass();
  }

  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // Shuts the gate; false when it was shut already.
  bool Close() { return !closed_.exchange(true); }

  // REQUIRES: Close() called. Returns once no call holds a pass.
  void WaitUntilEmpty() {
    for (std::uint64_t n = inside_.load(); n != 0; n = inside_.load()) inside_.wait(n);
  }

 private:
  void Leave() {
    if (inside_.fetch_sub(1) == 1 && closed_.load()) inside_.notify_all();
  }

  std::atomic<std::uint64_t> inside_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace tiercache::engine
