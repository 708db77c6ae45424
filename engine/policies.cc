#include "tiercache/policies.h"

#include "tiercache/events.h"

#include <array>
#include <utility>

namespace tiercache {
namespace {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<WritePolicy, 3> kWritePolicyNames{{
    {WritePolicy::kWriteThrough, "write-through"},
    {WritePolicy::kWriteBehind, "write-behind"},
    {WritePolicy::kWriteAround, "write-around"},
}};
constexpr NameTable<ReadPolicy, 2> kReadPolicyNames{{
    {ReadPolicy::kReadThrough, "read-through"},
    {ReadPolicy::kCacheAside, "cache-aside"},
}};
constexpr NameTable<EvictionPolicy, 5> kEvictionPolicyNames{{
    {EvictionPolicy::kLRU, "lru"},
    {EvictionPolicy::kLFU, "lfu"},
    {EvictionPolicy::kFIFO, "fifo"},
    {EvictionPolicy::kTTL, "ttl"},
    {EvictionPolicy::kAdaptive, "adaptive"},
}};
constexpr NameTable<Durability, 2> kDurabilityNames{{
    {Durability::kProcessCrash, "process-crash"},
    {Durability::kPowerLoss, "power-loss"},
}};
constexpr NameTable<RemovalCause, 4> kRemovalCauseNames{{
    {RemovalCause::kCapacity, "capacity"},
    {RemovalCause::kExpired, "expired"},
    {RemovalCause::kDeleted, "deleted"},
    {RemovalCause::kReplaced, "replaced"},
}};
constexpr NameTable<Compression, 2> kCompressionNames{{
    {Compression::kNone, "none"},
    {Compression::kLz4, "lz4"},
}};

template <typename E, std::size_t N>
std::string_view Lookup(const NameTable<E, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> Parse(const NameTable<E, N>& table, std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view Name(WritePolicy policy) { return Lookup(kWritePolicyNames, policy); }
std::string_view Name(ReadPolicy policy) { return Lookup(kReadPolicyNames, policy); }
std::string_view Name(EvictionPolicy policy) { return Lookup(kEvictionPolicyNames, policy); }
std::string_view Name(Durability durability) { return Lookup(kDurabilityNames, durability); }
std::string_view Name(Compression compression) { return Lookup(kCompressionNames, compression); }
std::string_view Name(RemovalCause cause) { return Lookup(kRemovalCauseNames, cause); }

std::optional<WritePolicy> ParseWritePolicy(std::string_view name) {
  return Parse(kWritePolicyNames, name);
}
std::optional<ReadPolicy> ParseReadPolicy(std::string_view name) {
  return Parse(kReadPolicyNames, name);
}
std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name) {
  return Parse(kEvictionPolicyNames, name);
}
std::optional<Durability> ParseDurability(std::string_view name) {
  return Parse(kDurabilityNames, name);
}
std::optional<Compression> ParseCompression(std::string_view name) {
  return Parse(kCompressionNames, name);
}

}  // namespace tiercache
