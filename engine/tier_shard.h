#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expiry_heap.h"
#include "engine/handle_table.h"
#include "engine/key_hash.h"
#include "engine/memory_tier.h"
#include "engine/metadata_codec.h"
#include "engine/node_arena.h"
#include "engine/policy_context.h"
#include "engine/spin_lock.h"

namespace tiercache::engine {

// A shard's share of the tier's budget.
struct ShardLimits {
  std::size_t max_entries = 1;
  std::size_t max_bytes = 1;
  std::size_t sweep_per_write = 2;
};

// Where a shard puts copies of removed entries for the removal listener;
// nullptr when there is no listener, so that nothing is copied.
using Removals = std::vector<Removal>*;

// One shard of the in-memory tier: its nodes, its hash table, its expiry heap
// and its eviction policy, all behind one lock. Times are milliseconds since
// the epoch, read by the caller once per call.
//
// Thread-safe: every public method takes the shard's lock for its whole run.
// Owns its nodes; copies out of them before the lock is released.
template <typename Policy>
class alignas(64) TierShard {
 public:
  TierShard(const ShardLimits& limits, const typename Policy::Config& config)
      : limits_(limits),
        table_(limits.max_entries),
        expiry_(&table_, &arena_),
        policy_(config, PolicyContext{&arena_, &expiry_, limits.max_entries}) {}

  bool Lookup(std::uint32_t ns, std::string_view key, std::uint64_t hash, std::uint64_t now,
              Entry* out, Removals removed) {
    return Hit(ns, key, hash, now, removed, [out](const Node& n) { CopyEntry(n, out); });
  }

  bool LookupValue(std::uint32_t ns, std::string_view key, std::uint64_t hash, std::uint64_t now,
                   std::string* value, std::uint64_t* version, std::chrono::milliseconds* age,
                   Removals removed) {
    return Hit(ns, key, hash, now, removed, [value, version, age, now](const Node& n) {
      if (value != nullptr) CopyValue(n.value(), value);
      if (version != nullptr) *version = n.version();
      if (age != nullptr) {
        const std::uint64_t created = n.created_ms();
        *age = std::chrono::milliseconds(now > created ? now - created : 0);
      }
    });
  }

  Status Insert(const TierWrite& w, std::uint64_t hash, std::uint64_t now, std::uint64_t expires_ms,
                Removals removed);

  bool Erase(std::uint32_t ns, std::string_view key, std::uint64_t hash, RemovalCause cause,
             Removals removed) {
    std::lock_guard lock(mu_);
    const std::size_t slot = FindSlot(ns, key, hash);
    if (slot == HandleTable::kNotFound) return false;
    RemoveAt(slot, table_.at(slot), cause, removed);
    return true;
  }

  bool MarkClean(std::uint32_t ns, std::string_view key, std::uint64_t hash, std::uint64_t version,
                 std::uint64_t now, Removals removed);
  std::size_t EraseNamespace(std::uint32_t ns, Removals removed);

  std::size_t Sweep(std::uint64_t now, std::size_t max, Removals removed) {
    std::lock_guard lock(mu_);
    return ReclaimExpired(now, max, removed);
  }

  void AddStats(TierStats* stats) const;

  // The charge of a node of this many bytes: its slot and its table share.
  static std::size_t Charge(std::size_t node_bytes) {
    return NodeArena::SlotBytes(node_bytes) + HandleTable::kChargePerEntry;
  }

 private:
  struct Counters {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t inserts = 0;
    std::uint64_t removed[4] = {0, 0, 0, 0};  // by RemovalCause
  };

  static void CopyEntry(const Node& n, Entry* out);
  // Keys of a cache are short: compare them 8 bytes at a time, inline.
  static bool SameKey(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    if (n < 8) return a == b;
    std::uint64_t x;
    std::uint64_t y;
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&x, a.data() + i, 8);
      std::memcpy(&y, b.data() + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a.data() + n - 8, 8);  // the last 8, overlapping if need be
    std::memcpy(&y, b.data() + n - 8, 8);
    return x == y;
  }
  // string::assign takes a general path; a reader that reuses its buffer for
  // values of one size needs only the copy.
  static void CopyValue(std::string_view from, std::string* to) {
    if (to->size() != from.size()) to->resize(from.size());
    if (!from.empty()) std::memcpy(to->data(), from.data(), from.size());
  }

  template <typename CopyOut>
  bool Hit(std::uint32_t ns, std::string_view key, std::uint64_t hash, std::uint64_t now,
           Removals removed, CopyOut&& copy) {
    std::lock_guard lock(mu_);
    const std::size_t slot = FindSlot(ns, key, hash);
    if (slot == HandleTable::kNotFound) {
      ++counters_.misses;
      return false;
    }
    const Handle h = table_.at(slot);
    Node* n = arena_.Get(h);
    if (n->ExpiredAt(now)) {
      ++counters_.misses;
      if (!n->dirty()) RemoveAt(slot, h, RemovalCause::kExpired, removed);
      return false;
    }
    // The policy's list neighbours are likely cache misses: start loading
    // them now, and copy the value out while they arrive.
    PrefetchNeighbours(*n);
    n->Touch(now);
    copy(*n);
    if (!n->dirty()) policy_.Access(h, hash);
    ++counters_.hits;
    return true;
  }

  void PrefetchNeighbours(const Node& n) const {
    if (n.prev() != kNoHandle) __builtin_prefetch(arena_.Get(n.prev()), 1);
    if (n.next() != kNoHandle) __builtin_prefetch(arena_.Get(n.next()), 1);
  }

  // Inlined, as the helpers of Insert below are: a Get that misses L1 runs
  // each once, and their calls showed among its costs (about a hundred
  // instructions of the Get's nineteen thousand, under callgrind).
  [[gnu::always_inline]] std::size_t FindSlot(std::uint32_t ns, std::string_view key,
                                              std::uint64_t hash) const {
    return table_.Find(hash, [&](Handle h) {
      const Node* n = arena_.Get(h);
      // A node spans about three cache lines: ask for the later ones now
      // rather than one after the other as the key compare and copy reach them.
      __builtin_prefetch(reinterpret_cast<const char*>(n) + 64);
      __builtin_prefetch(reinterpret_cast<const char*>(n) + 128);
      return n->ns() == ns && SameKey(n->key(), key);
    });
  }
  std::size_t SlotOf(Handle h) const {
    const Node* n = arena_.Get(h);
    return table_.FindHandle(HashKey(n->ns(), n->key()), h);
  }

  // A node for the write in `spare` (a victim's slot of its size) or, when
  // that is kNoHandle, in a new slot.
  Handle NewNode(const TierWrite& w, std::size_t node_bytes, std::size_t metadata_bytes,
                 Handle spare);
  [[gnu::always_inline]] bool Track(std::uint64_t hash, Handle h);
  [[gnu::always_inline]] Status MakeRoom(std::size_t charge, std::size_t node_bytes,
                                         std::uint64_t now, Removals removed, Handle* spare);
  // Takes the node out of the tier and, unless `keep`, frees its slot.
  void RemoveAt(std::size_t slot, Handle h, RemovalCause cause, Removals removed,
                bool keep = false);
  [[gnu::always_inline]] std::size_t ReclaimExpired(std::uint64_t now, std::size_t max,
                                                     Removals removed);

  const ShardLimits limits_;
  mutable SpinLock mu_;
  NodeArena arena_;        // GUARDED_BY(mu_)
  HandleTable table_;      // GUARDED_BY(mu_)
  ExpiryHeap expiry_;      // GUARDED_BY(mu_)
  Policy policy_;          // GUARDED_BY(mu_)
  std::size_t bytes_ = 0;  // GUARDED_BY(mu_)
  Counters counters_;      // GUARDED_BY(mu_)
};

}  // namespace tiercache::engine

#include "engine/tier_shard_inl.h"
