#include "engine/ghost_list.h"

namespace tiercache::engine {

GhostList::GhostList(std::size_t capacity)
    : ring_(capacity, kHole), index_(capacity == 0 ? 0 : 2 * capacity + 1, kEmpty) {}

std::size_t GhostList::Find(std::uint64_t hash) const {
  if (index_.empty()) return kNotFound;
  for (std::size_t i = Home(hash);; i = Next(i)) {
    if (index_[i] == kEmpty) return kNotFound;
    if (ring_[index_[i]] == hash) return i;
  }
}

void GhostList::Add(std::uint64_t hash) {
  if (ring_.empty()) return;
  hash = Normal(hash);
  Take(hash);  // an old copy goes: the ghost is now the newest
  if (ring_[next_] != kHole) {
    EraseSlot(Find(ring_[next_]));  // the oldest is forgotten
    --size_;
  }
  ring_[next_] = hash;
  std::size_t i = Home(hash);
  while (index_[i] != kEmpty) i = Next(i);
  index_[i] = static_cast<std::uint32_t>(next_);
  ++size_;
  next_ = next_ + 1 == ring_.size() ? 0 : next_ + 1;
}

bool GhostList::Take(std::uint64_t hash) {
  const std::size_t slot = Find(Normal(hash));
  if (slot == kNotFound) return false;
  ring_[index_[slot]] = kHole;
  EraseSlot(slot);
  --size_;
  return true;
}

// Backward-shift deletion, as in HandleTable. Reads the hash of each shifted
// entry from the ring, so the ring slot of the erased one must still hold it
// or be a hole.
void GhostList::EraseSlot(std::size_t slot) {
  std::size_t hole = slot;
  for (std::size_t j = Next(slot);; j = Next(j)) {
    if (index_[j] == kEmpty) break;
    const std::size_t home = Home(ring_[index_[j]]);
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    index_[hole] = index_[j];
    hole = j;
  }
  index_[hole] = kEmpty;
}

}  // namespace tiercache::engine
