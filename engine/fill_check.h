#pragma once

#include <atomic>
#include <cstdint>

namespace tiercache::engine {

// What a read below L1 without its key's lock saw of the key's stripe
// (KeyLocks::Watch): the count of the stripe's holds, even when it was free.
// The copy the read puts into L1 goes in only if the count is the same under
// the shard's lock. A writer moves the count on when it takes the stripe,
// before its write below, and updates L1 under that same shard lock after it:
// either the read's copy went in first and the writer's update comes after
// it, or the read sees the count moved and leaves L1 alone. No older copy
// can overwrite a newer write.
struct FillCheck {
  const std::atomic<std::uint32_t>* holds = nullptr;
  std::uint32_t seen = 0;

  bool Unchanged() const { return holds->load(std::memory_order_acquire) == seen; }
};

}  // namespace tiercache::engine
