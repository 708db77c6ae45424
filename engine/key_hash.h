#pragma once

// Inlined: for the short keys of a cache the call would cost as much as the
// hash itself.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace tiercache::engine {

// The hash of a (namespace, key) pair. Its top bits pick the shard, its low 32
// bits place the key in the shard's table, and the frequency-aware policies
// count it in their sketches, so it must be well mixed in every bit: XXH3 is.
inline std::uint64_t HashKey(std::uint32_t ns, std::string_view key) {
  return XXH3_64bits_withSeed(key.data(), key.size(), ns);
}

// A key in its namespace and its HashKey, hashed once by a call that hands
// the key to each structure placed by the hash: the key locks' stripes, L1's
// shards and their tables, the refresher's queue. A view: the key's bytes
// must outlive it.
struct HashedKey {
  explicit HashedKey(std::uint32_t ns_id, std::string_view key_bytes)
      : ns(ns_id), key(key_bytes), hash(HashKey(ns_id, key_bytes)) {}

  const std::uint32_t ns;
  const std::string_view key;
  const std::uint64_t hash;
};

}  // namespace tiercache::engine
