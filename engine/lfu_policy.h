#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/node_list.h"
#include "engine/policy_context.h"

namespace tiercache::engine {

// Evicts the entry with the lowest count, the least recently used among
// equals, in O(1) per operation: entries sit in buckets of equal count, the
// buckets in a list by count (Shah, Mitra and Matani, "An O(1) algorithm for
// implementing the LFU cache eviction scheme", 2010). A node's policy bits hold
// its bucket's index.
//
// Ageing is dynamic ageing (LFU-DA, Arlitt et al. 2000): a count starts at the
// priority of the last victim plus one rather than at one, so newcomers start
// level with what survives and a once-hot entry that is no longer used sinks
// to the bottom as the floor rises past its old count. All new counts are at
// most one above the floor, so the bucket for a newcomer is the first or the
// second bucket: still O(1). Without ageing the floor stays 0: textbook LFU.
// The shape every policy has is in policy_context.h. Not thread-safe.
class LfuPolicy {
 public:
  struct Config {
    bool ageing = true;  // false: counts are never forgotten while resident
  };

  LfuPolicy(const Config& config, const PolicyContext& context);

  void Insert(Handle h, std::uint64_t hash);
  void Access(Handle h, std::uint64_t hash);
  void Remove(Handle h);
  Handle Victim();
  std::size_t size() const { return size_; }

  // The count of a resident, clean entry: for tests.
  std::uint64_t CountOf(Handle h) const;

 private:
  static constexpr std::uint32_t kNoBucket = Node::kPolicyMask;

  struct Bucket {
    std::uint64_t count = 0;
    NodeList entries;  // front: least recently used
    std::uint32_t prev = kNoBucket;
    std::uint32_t next = kNoBucket;
  };

  std::uint32_t BucketAfter(std::uint32_t before, std::uint64_t count);
  std::uint32_t NewBucket(std::uint64_t count, std::uint32_t prev, std::uint32_t next);
  void Join(std::uint32_t bucket, Handle h);
  void Leave(Handle h);

  bool ageing_;
  const NodeArena* arena_;
  std::vector<Bucket> buckets_;
  std::vector<std::uint32_t> free_buckets_;
  std::uint32_t lowest_ = kNoBucket;  // the bucket with the lowest count
  std::uint64_t floor_ = 0;           // the count of the last victim
  std::size_t size_ = 0;
};

}  // namespace tiercache::engine
