#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/handle_table.h"
#include "engine/node_arena.h"

namespace tiercache::engine {

// The shard's entries that have an expiry, soonest first: what reclaims
// expired entries without a read, and what the TTL policy evicts from.
//
// Removal is lazy: an entry that is erased, replaced or pinned leaves its item
// behind, and an item counts only while the table still maps its hash to its
// handle, the node is clean and its expiry is the item's. That check never
// reads a freed node, because a handle the table holds is always live. The
// heap is rebuilt without stale items once they outnumber the live ones.
//
// Not thread-safe: the owning shard calls it under its lock. Borrows the table
// and the arena, which must outlive it.
class ExpiryHeap {
 public:
  ExpiryHeap(const HandleTable* table, const NodeArena* arena) : table_(table), arena_(arena) {}

  // REQUIRES: the node at h is in the table under `hash`, with this expiry.
  void Push(std::uint64_t expires_ms, std::uint64_t hash, Handle h);

  // Takes the soonest valid entry expiring at or before `limit_ms` out of the
  // heap and returns it; kNoHandle when there is none.
  Handle PopValid(std::uint64_t limit_ms);

  std::size_t size() const { return heap_.size(); }

 private:
  struct Item {
    std::uint64_t expires_ms;
    std::uint64_t hash;
    Handle handle;
  };

  bool Valid(const Item& item) const;
  void Compact();

  const HandleTable* table_;
  const NodeArena* arena_;
  std::vector<Item> heap_;
};

}  // namespace tiercache::engine
