#pragma once

#include <cstdint>

#include "engine/node_list.h"
#include "engine/policy_context.h"

namespace tiercache::engine {

// Evicts the entry closest to expiry; entries without expiry go after all
// that have one, least recently used first. The order by expiry is the
// shard's ExpiryHeap, which also reclaims expired entries, so this policy
// only adds the recency list. The shape every policy has is in
// policy_context.h. Not thread-safe.
class TtlPolicy {
 public:
  struct Config {};

  TtlPolicy(const Config&, const PolicyContext& context)
      : arena_(context.arena), expiry_(context.expiry) {}

  void Insert(Handle h, std::uint64_t) { list_.PushBack(*arena_, h); }
  void Access(Handle h, std::uint64_t) { list_.MoveToBack(*arena_, h); }
  void Remove(Handle h) { list_.Remove(*arena_, h); }
  Handle Victim() {
    const Handle soonest = expiry_->PopValid(~std::uint64_t{0});
    return soonest != kNoHandle ? soonest : list_.front();
  }
  std::size_t size() const { return list_.size(); }

 private:
  const NodeArena* arena_;
  ExpiryHeap* expiry_;
  NodeList list_;  // every entry; front: least recently used
};

}  // namespace tiercache::engine
