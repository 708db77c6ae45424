#pragma once

#include <cstdint>

#include "engine/node_list.h"
#include "engine/policy_context.h"

namespace tiercache::engine {

// Evicts the least recently used entry. The shape every policy has is in
// policy_context.h. Not thread-safe.
class LruPolicy {
 public:
  struct Config {};

  LruPolicy(const Config&, const PolicyContext& context) : arena_(context.arena) {}

  void Insert(Handle h, std::uint64_t) { list_.PushBack(*arena_, h); }
  void Access(Handle h, std::uint64_t) { list_.MoveToBack(*arena_, h); }
  void Remove(Handle h) { list_.Remove(*arena_, h); }
  Handle Victim() { return list_.front(); }
  std::size_t size() const { return list_.size(); }

 private:
  const NodeArena* arena_;
  NodeList list_;  // front: least recently used
};

}  // namespace tiercache::engine
