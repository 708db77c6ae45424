#include "engine/handle_table.h"

#include <algorithm>
#include <utility>

namespace tiercache::engine {
namespace {

constexpr std::size_t kMinCapacity = 16;

// Load factors, in integers: 7/8 once the table has the size that holds
// max_entries (the slots then cost 9.1 bytes an entry), 3/4 while it grows,
// so that a tier short of its entry bound probes less.
bool OverLoad(std::size_t entries, std::size_t capacity, bool at_max) {
  return at_max ? entries * 8 > capacity * 7 : entries * 4 > capacity * 3;
}

}  // namespace

HandleTable::HandleTable(std::size_t max_entries)
    : max_capacity_(std::max(kMinCapacity, max_entries / 7 * 8 + 8)),
      capacity_(kMinCapacity),
      slots_(new Slot[kMinCapacity]) {
  std::fill_n(slots_.get(), capacity_, Slot{0, kNoHandle});
}

void HandleTable::Insert(std::uint64_t hash, Handle h) {
  if (OverLoad(size_ + 1, capacity_, capacity_ >= max_capacity_)) Grow();
  Place(Tag(hash), h);
  ++size_;
}

void HandleTable::Place(std::uint32_t tag, Handle h) {
  std::size_t i = Home(tag);
  while (slots_[i].handle != kNoHandle) i = Next(i);
  slots_[i] = Slot{tag, h};
}

void HandleTable::EraseAt(std::size_t slot) {
  std::size_t hole = slot;
  for (std::size_t j = Next(slot);; j = Next(j)) {
    if (slots_[j].handle == kNoHandle) break;
    const std::size_t home = Home(slots_[j].tag);
    // The entry at j may fill the hole unless its home lies cyclically in
    // (hole, j]: then it is already as close to home as it can be.
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole].handle = kNoHandle;
  --size_;
}

void HandleTable::Grow() {
  std::size_t next = capacity_ * 2;
  // Past max_entries the shard is bounded by bytes, not entries: keep doubling.
  if (capacity_ < max_capacity_) next = std::min(next, max_capacity_);
  // Allocated before anything changes: a refused allocation leaves the table
  // as it was.
  std::unique_ptr<Slot[]> grown(new Slot[next]);
  std::unique_ptr<Slot[]> old = std::exchange(slots_, std::move(grown));
  const std::size_t old_capacity = std::exchange(capacity_, next);
  std::fill_n(slots_.get(), capacity_, Slot{0, kNoHandle});
  for (std::size_t i = 0; i < old_capacity; ++i) {
    if (old[i].handle != kNoHandle) Place(old[i].tag, old[i].handle);
  }
}

}  // namespace tiercache::engine
