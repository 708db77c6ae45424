#pragma once

#include <atomic>
#include <cstdint>

namespace tiercache::engine {

// What a read below L1 without its key's lock saw of the key's stripe
// (KeyLocks::Watch): the stripe's sequence, even when no one held it. The copy
// the read puts into L1 goes in only if the sequence is the same under the
// shard's lock. Why no older copy can then overwrite a newer write:
// - a writer that took the stripe after the read saw it moves the sequence on
//   before its write below, and updates L1 after that write under the same
//   shard lock: either the read's copy went in first and the writer's update
//   comes after it, or the read finds the sequence moved and leaves L1 alone;
// - a writer that released the stripe before the read saw it moved the
//   sequence on (a release store, Watch's load acquires) after its write
//   below was done: the read finds that write;
// - what changes below L1 without the key's lock changes no key's newest
//   version: the write-behind flusher keeps a write in its buffer until
//   RocksDB holds it, and a namespace's drop is checked after the insert
//   (Cache::Impl::StoreInMemory).
struct FillCheck {
  const std::atomic<std::uint32_t>* sequence = nullptr;
  std::uint32_t seen = 0;

  bool Unchanged() const { return sequence->load(std::memory_order_acquire) == seen; }
};

}  // namespace tiercache::engine
