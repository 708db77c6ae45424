#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/node.h"

namespace tiercache::engine {

// One shard's index from key hash to node handle: open addressing with linear
// probing and backward-shift deletion, 8 bytes a slot (32 bits of the hash and
// the handle), at most 7/8 full (3/4 while it grows). The stored hash bits are also the ones that
// place a slot, so growing needs no key. Growth stops at the size that holds
// `max_entries` at that load, so a full shard costs 9.2 bytes an entry here.
//
// Not thread-safe: the owning shard calls it under its lock.
class HandleTable {
 public:
  static constexpr std::size_t kNotFound = ~std::size_t{0};
  // Bytes of table an entry is charged: its share at the maximum load, rounded up.
  static constexpr std::size_t kChargePerEntry = 10;

  explicit HandleTable(std::size_t max_entries);

  // The slot whose hash bits match and for which match(handle) is true.
  template <typename Match>
  [[gnu::always_inline]] std::size_t Find(std::uint64_t hash, Match&& match) const {
    const std::uint32_t tag = Tag(hash);
    for (std::size_t i = Home(tag);; i = Next(i)) {
      const Slot& s = slots_[i];
      if (s.handle == kNoHandle) return kNotFound;
      if (s.tag == tag && match(s.handle)) return i;
    }
  }
  std::size_t FindHandle(std::uint64_t hash, Handle h) const {
    return Find(hash, [h](Handle x) { return x == h; });
  }

  Handle at(std::size_t slot) const { return slots_[slot].handle; }
  void Set(std::size_t slot, Handle h) { slots_[slot].handle = h; }

  // REQUIRES: no slot holds h yet.
  void Insert(std::uint64_t hash, Handle h);
  void EraseAt(std::size_t slot);

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    std::uint32_t tag;
    Handle handle;
  };

  static std::uint32_t Tag(std::uint64_t hash) { return static_cast<std::uint32_t>(hash); }
  std::size_t Home(std::uint32_t tag) const {
    return static_cast<std::size_t>((std::uint64_t{tag} * capacity_) >> 32);
  }
  std::size_t Next(std::size_t i) const { return i + 1 == capacity_ ? 0 : i + 1; }
  void Grow();
  void Place(std::uint32_t tag, Handle h);

  std::size_t max_capacity_;  // holds max_entries at the maximum load
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace tiercache::engine
