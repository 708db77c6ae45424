#pragma once

#include <cstddef>

#include "engine/expiry_heap.h"
#include "engine/node_arena.h"

namespace tiercache::engine {

// What every eviction policy is built with. Each policy has the same shape
// (STYLE.md rule 9; the model is CacheLib's MMLru / MMTinyLFU):
//
//   struct Config { ... };                      // tuning, with defaults
//   Policy(const Config&, const PolicyContext&);
//   void Insert(Handle h, std::uint64_t hash);  // a new entry joins
//   void Access(Handle h, std::uint64_t hash);  // a hit on an entry
//   void Remove(Handle h);                      // an entry leaves for any reason
//   Handle Victim();                            // the entry to evict next, or kNoHandle
//   std::size_t size() const;
//
// The shard calls them under its lock; Victim() is only called to evict, and
// the shard then Remove()s what it returned. Dirty entries are never in a
// policy. A policy keeps its per-entry state in the node's prev/next links and
// its 20 policy bits. Policies are not thread-safe.
struct PolicyContext {
  const NodeArena* arena = nullptr;  // borrowed; outlives the policy
  ExpiryHeap* expiry = nullptr;      // borrowed; outlives the policy
  std::size_t max_entries = 1;       // the shard's capacity in entries
};

}  // namespace tiercache::engine
