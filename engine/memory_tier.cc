#include "engine/memory_tier.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <new>
#include <vector>

#include "engine/fifo_policy.h"
#include "engine/lru_policy.h"
#include "engine/tier_shard.h"
#include "engine/ttl_policy.h"

namespace tiercache::engine {
namespace {

constexpr std::size_t kMaxShards = 1024;
// The adaptive policy's ghost lists index their rings with 32-bit positions,
// and it sizes them and its frequency sketch by a shard's entry bound up front
// (about 25 bytes per entry of the bound).
constexpr std::size_t kMaxAdaptiveShardEntries = std::size_t{1} << 31;

// The tier for one policy: routes each call to the shard its hash picks, and
// calls the listener once the shard's lock is released.
template <typename Policy>
class ShardedTier final : public MemoryTier {
 public:
  // The first max_entries % shards shards hold one entry more, so that the
  // shards' bounds add up to the tier's and no more. Nor is a shard bound to
  // more entries than its bytes hold at the smallest charge: the policies
  // size their sketches and ghost lists by the bound up front, and a bound up
  // to 2^40 that leaves the bytes to limit the tier must not cost memory.
  static ShardLimits LimitsOf(const MemoryTierOptions& o, std::size_t shard) {
    const std::size_t bytes = o.max_bytes / o.shards;
    const std::size_t share = o.max_entries / o.shards + (shard < o.max_entries % o.shards ? 1 : 0);
    const std::size_t fit = bytes / TierShard<Policy>::Charge(Node::Bytes(0, 0, 0));
    return ShardLimits{std::min(share, fit), bytes, o.sweep_per_write};
  }

  ShardedTier(const MemoryTierOptions& o, const typename Policy::Config& config)
      : listener_(o.listener),
        default_ttl_ms_(static_cast<std::uint64_t>(o.default_ttl.count())),
        shard_bits_(std::countr_zero(o.shards)) {
    shards_.reserve(o.shards);
    for (std::size_t i = 0; i < o.shards; ++i) {
      shards_.push_back(std::make_unique<TierShard<Policy>>(LimitsOf(o, i), config));
    }
  }

  bool Lookup(const HashedKey& key, TimePoint now, Entry* out) override {
    return Call(key, [&](TierShard<Policy>& s, Removals r) {
      return s.Lookup(key.ns, key.key, key.hash, ToMillis(now), out, r);
    });
  }

  bool LookupValue(const HashedKey& key, TimePoint now, std::string* value,
                   std::uint64_t* version, std::chrono::milliseconds* age) override {
    return Call(key, [&](TierShard<Policy>& s, Removals r) {
      return s.LookupValue(key.ns, key.key, key.hash, ToMillis(now), value, version, age, r);
    });
  }

  Status Insert(const TierWrite& w, TimePoint now) override;

  bool Erase(const HashedKey& key, RemovalCause cause) override {
    return Call(key, [&](TierShard<Policy>& s, Removals r) {
      return s.Erase(key.ns, key.key, key.hash, cause, r);
    });
  }

  bool MarkClean(std::uint32_t ns, std::string_view key, std::uint64_t version,
                 TimePoint now) override {
    const HashedKey hashed(ns, key);
    return Call(hashed, [&](TierShard<Policy>& s, Removals r) {
      return s.MarkClean(ns, key, hashed.hash, version, ToMillis(now), r);
    });
  }

  std::size_t EraseNamespace(std::uint32_t ns) override {
    std::size_t n = 0;
    for (auto& shard : shards_) {
      n += Notify([&](Removals r) { return shard->EraseNamespace(ns, r); });
    }
    return n;
  }

  std::size_t Sweep(std::size_t max_per_shard, TimePoint now) override {
    std::size_t n = 0;
    const std::uint64_t now_ms = ToMillis(now);
    for (auto& shard : shards_) {
      n += Notify([&](Removals r) { return shard->Sweep(now_ms, max_per_shard, r); });
    }
    return n;
  }

  TierStats Stats() const override {
    TierStats stats;
    for (const auto& shard : shards_) shard->AddStats(&stats);
    return stats;
  }

 private:
  TierShard<Policy>& ShardOf(std::uint64_t hash) {
    // The top bits: the low ones place the key inside the shard's table.
    return *shards_[shard_bits_ == 0 ? 0 : hash >> (64 - shard_bits_)];
  }

  // Runs op(the key's shard, removals) and then tells the listener.
  template <typename Op>
  auto Call(const HashedKey& key, Op&& op) {
    TierShard<Policy>& shard = ShardOf(key.hash);
    return Notify([&](Removals r) { return op(shard, r); });
  }

  // Runs op(removals) and then tells the listener. An event the system has no
  // memory for on the way is lost; the call's work stands.
  template <typename Op>
  auto Notify(Op&& op) {
    if (!listener_) return op(nullptr);
    std::vector<Removal> removed;
    auto result = op(&removed);
    for (const Removal& r : removed) {
      try {
        listener_(r);
      } catch (const std::bad_alloc&) {
      }
    }
    return result;
  }

  std::uint64_t ExpiryOf(const TierWrite& w, std::uint64_t now) const {
    if (w.expires_at) return std::max<std::uint64_t>(ToMillis(*w.expires_at), 1);
    const std::uint64_t ttl =
        w.ttl ? static_cast<std::uint64_t>(std::max<std::int64_t>(w.ttl->count(), 0))
              : default_ttl_ms_;
    return ttl == 0 ? 0 : std::min(now + ttl, kTimeMask);
  }

  const RemovalListener listener_;
  const std::uint64_t default_ttl_ms_;
  const int shard_bits_;
  std::vector<std::unique_ptr<TierShard<Policy>>> shards_;
};

template <typename Policy>
Status ShardedTier<Policy>::Insert(const TierWrite& w, TimePoint now) {
  if (w.key.size() > kMaxKeyLength) {
    return Status::InvalidArgument(fmt::format("a key of {} bytes is too long", w.key.size()));
  }
  const std::uint64_t hash = w.hash ? *w.hash : HashKey(w.ns, w.key);
  TierShard<Policy>& shard = ShardOf(hash);
  const std::uint64_t now_ms = ToMillis(now);
  const std::uint64_t expires = ExpiryOf(w, now_ms);
  return Notify([&](Removals r) { return shard.Insert(w, hash, now_ms, expires, r); });
}

Status ValidateTierOptions(const MemoryTierOptions& o) {
  if (o.shards < 1 || o.shards > kMaxShards || !std::has_single_bit(o.shards)) {
    return Status::InvalidArgument(
        fmt::format("shards = {}: must be a power of two, 1 .. 1024", o.shards));
  }
  if (o.max_entries < o.shards) {
    return Status::InvalidArgument(
        fmt::format("max_entries = {}: must be at least shards ({})", o.max_entries, o.shards));
  }
  if (o.max_bytes / o.shards < 1024) {
    return Status::InvalidArgument(
        fmt::format("max_bytes = {}: under 1 KiB per shard", o.max_bytes));
  }
  if (o.default_ttl.count() < 0) return Status::InvalidArgument("default_ttl is negative");
  return Status::OK();
}

}  // namespace

MemoryTierOptions MemoryTierOptions::FromOptions(const Options& options) {
  MemoryTierOptions o;
  o.max_entries = options.l1_max_entries;
  o.max_bytes = options.l1_max_bytes;
  o.shards = options.l1_shards;
  o.policy = options.eviction;
  o.default_ttl = options.default_ttl;
  return o;
}

// The adaptive policy's structures for the largest shard (shard 0 has the
// most entries): within their index range, and then allocated (the system may
// refuse an allocation of this size: a Status, not an exception).
Status CreateAdaptive(const MemoryTierOptions& o, std::unique_ptr<MemoryTier>* out) {
  const std::size_t bound = ShardedTier<AdaptivePolicy>::LimitsOf(o, 0).max_entries;
  if (bound > kMaxAdaptiveShardEntries) {
    return Status::InvalidArgument(fmt::format(
        "the adaptive policy cannot track {} entries in a shard (at most 2^31): lower "
        "l1_max_entries or l1_max_bytes, or raise l1_shards",
        bound));
  }
  // Only an allocation the system refuses outright is caught: the structures
  // are filled as they are made, so under Linux's overcommit a size near the
  // memory there is can still end the process.
  try {
    *out = std::make_unique<ShardedTier<AdaptivePolicy>>(o, o.adaptive);
  } catch (const std::bad_alloc&) {
    return Status::NoSpace(fmt::format(
        "the adaptive policy could not allocate its frequency sketch and ghost lists for {} "
        "shards of {} entries: lower l1_max_entries or l1_max_bytes",
        o.shards, bound));
  }
  return Status::OK();
}

Status MemoryTier::Create(const MemoryTierOptions& o, std::unique_ptr<MemoryTier>* out) {
  if (Status s = ValidateTierOptions(o); !s.ok()) return s;
  switch (o.policy) {
    case EvictionPolicy::kLRU:
      *out = std::make_unique<ShardedTier<LruPolicy>>(o, LruPolicy::Config{});
      return Status::OK();
    case EvictionPolicy::kFIFO:
      *out = std::make_unique<ShardedTier<FifoPolicy>>(o, FifoPolicy::Config{});
      return Status::OK();
    case EvictionPolicy::kLFU:
      *out = std::make_unique<ShardedTier<LfuPolicy>>(o, o.lfu);
      return Status::OK();
    case EvictionPolicy::kTTL:
      *out = std::make_unique<ShardedTier<TtlPolicy>>(o, TtlPolicy::Config{});
      return Status::OK();
    case EvictionPolicy::kAdaptive:
      return CreateAdaptive(o, out);
  }
  return Status::InvalidArgument("unknown eviction policy");
}

}  // namespace tiercache::engine
