#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/adaptive_policy.h"
#include "engine/fill_check.h"
#include "engine/key_hash.h"
#include "engine/lfu_policy.h"
#include "tiercache/clock.h"
#include "tiercache/entry.h"
#include "tiercache/events.h"
#include "tiercache/options.h"
#include "tiercache/policies.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// Why an entry left the tier is the public tiercache::RemovalCause: Erase()
// reports the cause its caller gives, EraseNamespace() kDeleted.

// What the removal listener is told: a copy, valid only during the call.
struct Removal {
  std::uint32_t ns = 0;
  std::string key;
  std::string value;
  std::uint64_t version = 0;
  RemovalCause cause = RemovalCause::kCapacity;
};
using RemovalListener = std::function<void(const Removal&)>;

// Counters since the tier was made, summed over the shards.
struct TierStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;  // absent or expired
  std::uint64_t inserts = 0;
  std::uint64_t evicted = 0;   // RemovalCause::kCapacity
  std::uint64_t expired = 0;   // RemovalCause::kExpired
  std::uint64_t erased = 0;    // RemovalCause::kDeleted
  std::uint64_t replaced = 0;  // RemovalCause::kReplaced
  std::uint64_t entries = 0;   // resident now
  std::uint64_t bytes = 0;     // charged now: nodes as allocated plus their table slots
  double hit_ratio() const {
    const std::uint64_t lookups = hits + misses;
    return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
  }
};

// One write into the tier. The views are read during Insert() only.
struct TierWrite {
  std::uint32_t ns = 0;
  std::string_view key;
  // HashKey(ns, key), when the caller has it: Insert then does not hash again.
  std::optional<std::uint64_t> hash;
  std::string_view value;
  std::uint64_t version = 0;
  std::optional<TimePoint> created_at;  // absent: now
  // Expiry: expires_at when given, else now + ttl, else now + the default TTL;
  // a ttl of 0 means never.
  std::optional<TimePoint> expires_at;
  std::optional<std::chrono::milliseconds> ttl;
  const std::map<std::string, std::string>* metadata = nullptr;  // nullptr: none
  // Absent: carried over from the entry this one replaces (0 and created_at
  // for a new key), so that a new version keeps its history.
  std::optional<std::uint64_t> access_count;
  std::optional<TimePoint> last_accessed;
  // Pinned until MarkClean(key, version): never evicted or dropped as expired.
  bool dirty = false;
  // A copy read from below L1: when L1 already holds this version of the key
  // or a newer one, that copy stays as it is (with its place in the policy
  // and its access data), and nobody is told of a replacement.
  bool refill = false;
  // A refill read without the key's lock: it goes in only if the check holds
  // (else Insert leaves the tier as it is and returns OK). nullptr: no check.
  const FillCheck* fill_check = nullptr;
};

// How a tier is made. FromOptions() takes what Options says.
struct MemoryTierOptions {
  std::size_t max_entries = 1'000'000;  // over all shards, 1 .. 2^40
  std::size_t max_bytes = 256 * 1024 * 1024;
  std::size_t shards = 16;  // a power of two, 1 .. 1024, at most max_entries
  EvictionPolicy policy = EvictionPolicy::kLRU;
  std::chrono::milliseconds default_ttl{0};  // 0: entries without a TTL never expire
  RemovalListener listener;                  // empty: nobody is told
  LfuPolicy::Config lfu;
  AdaptivePolicy::Config adaptive;
  // Expired entries each write reclaims in its shard, found without a read.
  std::size_t sweep_per_write = 2;

  static MemoryTierOptions FromOptions(const Options& options);
};

// The in-memory tier (L1): a sharded map from (namespace id, key) to entry,
// bounded by entries and by bytes, with one eviction policy.
//
// The tier has no clock: a call that needs the time is given it, as `now`,
// so that a caller doing several things at one moment reads its clock once.
//
// Thread-safe: every method may be called from any thread. Each shard has
// its own lock, held for the duration of one call on that shard; no lock is
// shared by all shards. The removal listener runs on the calling thread after
// the shard's lock is released, so it may call back into the tier.
class MemoryTier {
 public:
  // InvalidArgument when the options are out of range.
  static Status Create(const MemoryTierOptions& options, std::unique_ptr<MemoryTier>* out);

  virtual ~MemoryTier() = default;

  // Copies the entry out and counts a hit (last_accessed, access_count);
  // false on a miss. An expired entry is a miss.
  virtual bool Lookup(const HashedKey& key, TimePoint now, Entry* out) = 0;
  bool Lookup(std::uint32_t ns, std::string_view key, TimePoint now, Entry* out) {
    return Lookup(HashedKey(ns, key), now, out);
  }
  // The fast path: the value (unless `value` is null), and the version and
  // the time since it was written (0 for a time ahead of the clock) when
  // asked, only.
  virtual bool LookupValue(const HashedKey& key, TimePoint now, std::string* value,
                           std::uint64_t* version = nullptr,
                           std::chrono::milliseconds* age = nullptr) = 0;
  bool LookupValue(std::uint32_t ns, std::string_view key, TimePoint now, std::string* value,
                   std::uint64_t* version = nullptr, std::chrono::milliseconds* age = nullptr) {
    return LookupValue(HashedKey(ns, key), now, value, version, age);
  }

  // Adds or replaces an entry, evicting as needed. InvalidArgument when the
  // entry alone exceeds a shard's share of the budget; Busy when the shard is
  // full of dirty entries; NoSpace when memory runs out. After any of these
  // the key is absent from the tier (an older version was already replaced),
  // unless a refill found its version or a newer one there.
  virtual Status Insert(const TierWrite& write, TimePoint now) = 0;

  // True when the key was there (even expired or dirty); the listener is told
  // `cause`.
  virtual bool Erase(const HashedKey& key, RemovalCause cause) = 0;
  bool Erase(std::uint32_t ns, std::string_view key, RemovalCause cause) {
    return Erase(HashedKey(ns, key), cause);
  }
  // Clears the dirty flag if the entry still has this version (else a newer
  // write owns it); true when cleared. The entry becomes evictable.
  virtual bool MarkClean(std::uint32_t ns, std::string_view key, std::uint64_t version,
                         TimePoint now) = 0;
  // Drops every entry of a namespace; returns how many.
  virtual std::size_t EraseNamespace(std::uint32_t ns) = 0;
  // Reclaims up to `max_per_shard` expired entries in each shard; returns how
  // many. Writes sweep a little too, so this is only needed by a tier that
  // is read but not written.
  virtual std::size_t Sweep(std::size_t max_per_shard, TimePoint now) = 0;

  virtual TierStats Stats() const = 0;
};

}  // namespace tiercache::engine
