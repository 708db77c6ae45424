#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tiercache::engine {

// The hashes of the last `capacity` keys put in, oldest forgotten first: the
// memory of recently evicted keys that an adaptive policy learns from (ARC's
// ghost lists). Holds hashes only: a ring of them in order of addition and an
// open-addressing index into the ring, 16 bytes a ghost.
//
// Not thread-safe: the owning policy calls it under the shard lock.
class GhostList {
 public:
  explicit GhostList(std::size_t capacity);

  void Add(std::uint64_t hash);
  // True when the hash was there; it is forgotten.
  bool Take(std::uint64_t hash);
  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
  static constexpr std::uint64_t kHole = 0;  // a ring slot whose ghost was taken

  static std::uint64_t Normal(std::uint64_t hash) { return hash == kHole ? 1 : hash; }
  std::size_t Home(std::uint64_t hash) const {
    return static_cast<std::size_t>(((hash & 0xffffffff) * index_.size()) >> 32);
  }
  std::size_t Next(std::size_t i) const { return i + 1 == index_.size() ? 0 : i + 1; }
  std::size_t Find(std::uint64_t hash) const;  // index slot, or kNotFound
  void EraseSlot(std::size_t slot);

  static constexpr std::size_t kNotFound = ~std::size_t{0};

  std::vector<std::uint64_t> ring_;   // hashes by age; next_ is the oldest
  std::vector<std::uint32_t> index_;  // ring positions, at most half full
  std::size_t next_ = 0;              // where the next addition goes
  std::size_t size_ = 0;              // live ghosts
};

}  // namespace tiercache::engine
