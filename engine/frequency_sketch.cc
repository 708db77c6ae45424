#include "engine/frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace tiercache::engine {
namespace {

constexpr std::uint64_t kSeeds[4] = {0xc3a5c85c97cb3127ull, 0xb492b66fbe98f273ull,
                                     0x9ae16a3b2f90404full, 0xcbf29ce484222325ull};
constexpr std::uint64_t kResetMask = 0x7777777777777777ull;
constexpr std::uint64_t kOneMask = 0x1111111111111111ull;

}  // namespace

FrequencySketch::FrequencySketch(std::size_t capacity, std::size_t sample_factor)
    : table_(std::bit_ceil(std::max<std::size_t>(capacity, 8)), 0),
      mask_(table_.size() - 1),
      sample_size_(sample_factor * std::max<std::size_t>(capacity, 1)) {}

std::size_t FrequencySketch::IndexOf(std::uint64_t hash, int row) const {
  std::uint64_t h = (hash + kSeeds[row]) * kSeeds[row];
  h += h >> 32;
  return static_cast<std::size_t>(h & mask_);
}

int FrequencySketch::Frequency(std::uint64_t hash) const {
  // Each key uses one group of four counters in each of its four words.
  const int start = static_cast<int>(hash & 3) << 2;
  int frequency = 15;
  for (int row = 0; row < 4; ++row) {
    const std::uint64_t word = table_[IndexOf(hash, row)];
    frequency = std::min(frequency, static_cast<int>((word >> ((start + row) << 2)) & 0xf));
  }
  return frequency;
}

void FrequencySketch::Increment(std::uint64_t hash) {
  const int start = static_cast<int>(hash & 3) << 2;
  bool added = false;
  for (int row = 0; row < 4; ++row) {
    added |= IncrementAt(IndexOf(hash, row), start + row);
  }
  if (added && ++additions_ == sample_size_) Reset();
}

bool FrequencySketch::IncrementAt(std::size_t index, int counter) {
  const int offset = counter << 2;
  const std::uint64_t mask = std::uint64_t{0xf} << offset;
  if ((table_[index] & mask) == mask) return false;
  table_[index] += std::uint64_t{1} << offset;
  return true;
}

void FrequencySketch::Reset() {
  std::size_t odd = 0;
  for (std::uint64_t& word : table_) {
    odd += static_cast<std::size_t>(std::popcount(word & kOneMask));
    word = (word >> 1) & kResetMask;
  }
  additions_ = (additions_ >> 1) - (odd >> 2);
}

}  // namespace tiercache::engine
