#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tiercache::engine {

// How often keys were seen lately, approximately: a count-min sketch of 4-bit
// counters, four per key, sixteen to a 64-bit word (Einziger, Friedman and
// Manes, "TinyLFU", 2017; the layout is Caffeine's). After 10 x capacity
// increments (by default) every counter is halved, so the history ages. About 8 bytes per
// key of capacity.
//
// Not thread-safe: the owning policy calls it under the shard lock.
class FrequencySketch {
 public:
  // Counters for about `capacity` keys, halved every sample_factor x capacity
  // increments.
  explicit FrequencySketch(std::size_t capacity, std::size_t sample_factor = 10);

  void Increment(std::uint64_t hash);
  // 0 .. 15.
  int Frequency(std::uint64_t hash) const;

 private:
  std::size_t IndexOf(std::uint64_t hash, int row) const;
  bool IncrementAt(std::size_t index, int counter);
  void Reset();

  std::vector<std::uint64_t> table_;
  std::uint64_t mask_;
  std::size_t sample_size_;
  std::size_t additions_ = 0;
};

}  // namespace tiercache::engine
