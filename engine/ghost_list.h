#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>

namespace tiercache::engine {

// The hashes of the last `capacity` keys put in, oldest forgotten first: the
// memory of recently evicted keys that an adaptive policy learns from (ARC's
// ghost lists). Holds hashes only, no keys or values.
//
// Not thread-safe: the owning policy calls it under the shard lock.
class GhostList {
 public:
  explicit GhostList(std::size_t capacity) : capacity_(capacity) {}

  void Add(std::uint64_t hash);
  // True when the hash was there; it is forgotten.
  bool Take(std::uint64_t hash) { return live_.erase(hash) != 0; }
  std::size_t size() const { return live_.size(); }

 private:
  void Compact();

  std::size_t capacity_;
  std::uint64_t next_seq_ = 0;
  // In order of addition; a record is stale once live_ has another sequence
  // number for its hash, or none.
  std::deque<std::pair<std::uint64_t, std::uint64_t>> order_;
  std::unordered_map<std::uint64_t, std::uint64_t> live_;  // hash -> sequence number
};

}  // namespace tiercache::engine
