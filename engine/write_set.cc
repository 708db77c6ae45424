#include "engine/write_set.h"

#include <algorithm>
#include <functional>

namespace tiercache::engine {
namespace {

constexpr std::size_t kMinIndexBuckets = 16;
constexpr std::size_t kMinArenaBytes = 64 * 1024;
// Clear releases a container this many times larger than its last use: a
// burst's capacity is not kept for good.
constexpr std::size_t kReleaseRatio = 8;

template <typename Vector>
void ClearOrRelease(Vector* v, std::size_t min_capacity) {
  if (v->capacity() > min_capacity && v->capacity() > kReleaseRatio * v->size()) {
    Vector().swap(*v);
  } else {
    v->clear();
  }
}

// A buffered write and the head of its RocksDB key (namespace id, big-endian,
// then the key's bytes): the id and the key's first 16 bytes as two big-endian
// numbers, zero-padded, so that most comparisons while sorting are of integers.
// Sixteen, not eight: a cache's keys often share a longer prefix than eight
// bytes ("session:", "user:0000"), and keys alike in all the head compare
// their bytes.
struct KeyOrder {
  std::uint32_t ns;
  std::uint64_t head;
  std::uint64_t next;
  const BufferedWrite* write;

  bool operator<(const KeyOrder& other) const {
    if (ns != other.ns) return ns < other.ns;
    if (head != other.head) return head < other.head;
    if (next != other.next) return next < other.next;
    return write->key < other.write->key;
  }
};

// Bytes [from, from + 8) of the key as a big-endian number, zero-padded.
std::uint64_t KeyHead(std::string_view key, std::size_t from) {
  std::uint64_t head = 0;
  for (std::size_t i = from; i < from + 8; ++i) {
    head = head << 8 | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0u);
  }
  return head;
}

}  // namespace

// The scratch vectors are the thread's (the flusher sorts every batch): they
// keep their capacity as a WriteSet's containers do, and give a burst's back.
void SortInKeyOrder(std::vector<BufferedWrite>* writes) {
  thread_local std::vector<KeyOrder> order;
  thread_local std::vector<BufferedWrite> sorted;
  ClearOrRelease(&order, kMinIndexBuckets);
  for (const BufferedWrite& write : *writes) {
    order.push_back({write.ns, KeyHead(write.key, 0), KeyHead(write.key, 8), &write});
  }
  std::sort(order.begin(), order.end());
  ClearOrRelease(&sorted, kMinIndexBuckets);
  for (const KeyOrder& o : order) sorted.push_back(*o.write);
  writes->swap(sorted);
}

std::size_t WriteSet::Hash(std::uint32_t ns, std::string_view key) {
  return std::hash<std::string_view>()(key) ^ (std::size_t{ns} * 0x9E3779B97F4A7C15u);
}

std::string_view WriteSet::KeyOf(const Slot& slot) const {
  return {arena_.data() + slot.key_at, slot.key_size};
}

BufferedWrite WriteSet::View(const Slot& slot) const {
  return {slot.ns, KeyOf(slot), {arena_.data() + slot.record_at, slot.record_size},
          slot.is_delete};
}

std::size_t WriteSet::BucketOf(std::uint32_t ns, std::string_view key, std::size_t hash) const {
  const std::size_t mask = index_.size() - 1;
  for (std::size_t bucket = hash & mask;; bucket = (bucket + 1) & mask) {
    const std::uint32_t entry = index_[bucket];
    if (entry == 0) return bucket;
    const Slot& slot = slots_[entry - 1];
    if (slot.hash == hash && slot.ns == ns && KeyOf(slot) == key) return bucket;
  }
}

std::uint32_t WriteSet::EntryOf(std::uint32_t ns, std::string_view key) const {
  if (index_.empty()) return 0;
  return index_[BucketOf(ns, key, Hash(ns, key))];
}

std::size_t WriteSet::ChargeOf(const BufferedWrite& write, bool* new_key) const {
  const std::uint32_t entry = EntryOf(write.ns, write.key);
  if (new_key != nullptr) *new_key = entry == 0;
  if (entry == 0) return kSlotCharge + write.key.size() + write.record.size();
  return write.record.size() <= slots_[entry - 1].record_room ? 0 : write.record.size();
}

void WriteSet::Add(const BufferedWrite& write) {
  if (2 * (slots_.size() + 1) > index_.size()) GrowIndex();
  const std::size_t hash = Hash(write.ns, write.key);
  std::uint32_t& entry = index_[BucketOf(write.ns, write.key, hash)];
  const auto record_size = static_cast<std::uint32_t>(write.record.size());
  if (entry == 0) {
    const std::size_t key_at = Append(write.key);
    slots_.push_back({hash, key_at, Append(write.record), write.ns,
                      static_cast<std::uint32_t>(write.key.size()), record_size, record_size,
                      write.is_delete, /*written=*/false});
    entry = static_cast<std::uint32_t>(slots_.size());
    ++unwritten_;
    return;
  }
  Slot& slot = slots_[entry - 1];
  if (record_size <= slot.record_room) {
    std::copy(write.record.begin(), write.record.end(), arena_.begin() + slot.record_at);
  } else {
    slot.record_at = Append(write.record);
    slot.record_room = record_size;
  }
  slot.record_size = record_size;
  slot.is_delete = write.is_delete;
  if (slot.written) ++unwritten_;
  slot.written = false;
}

bool WriteSet::Find(std::uint32_t ns, std::string_view key, BufferedWrite* found) const {
  const std::uint32_t entry = EntryOf(ns, key);
  if (entry == 0) return false;
  *found = View(slots_[entry - 1]);
  return true;
}

void WriteSet::Unwritten(std::vector<BufferedWrite>* writes) const {
  for (const Slot& slot : slots_) {
    if (!slot.written) writes->push_back(View(slot));
  }
}

void WriteSet::MarkWritten(std::uint32_t ns, std::string_view key) {
  Slot& slot = slots_[EntryOf(ns, key) - 1];
  if (!slot.written) --unwritten_;
  slot.written = true;
}

void WriteSet::Clear() {
  ClearOrRelease(&arena_, kMinArenaBytes);
  const std::size_t keys = slots_.size();
  ClearOrRelease(&slots_, kMinIndexBuckets);
  if (index_.size() > kMinIndexBuckets && index_.size() > 2 * kReleaseRatio * keys) {
    index_.clear();
    index_.shrink_to_fit();
  } else {
    std::fill(index_.begin(), index_.end(), 0);
  }
  unwritten_ = 0;
}

std::size_t WriteSet::bytes() const { return arena_.size() + slots_.size() * kSlotCharge; }

void WriteSet::GrowIndex() {
  index_.assign(std::max(kMinIndexBuckets, 2 * index_.size()), 0);
  const std::size_t mask = index_.size() - 1;
  for (std::size_t n = 0; n < slots_.size(); ++n) {
    std::size_t bucket = slots_[n].hash & mask;
    while (index_[bucket] != 0) bucket = (bucket + 1) & mask;
    index_[bucket] = static_cast<std::uint32_t>(n + 1);
  }
}

// Grows by doubling, from kMinArenaBytes, but not past max_bytes_ unless one
// write needs more: the set's capacity stays near write_buffer.max_bytes.
std::size_t WriteSet::Append(std::string_view bytes) {
  const std::size_t at = arena_.size();
  const std::size_t needed = at + bytes.size();
  if (needed > arena_.capacity()) {
    const std::size_t doubled = std::max(kMinArenaBytes, 2 * arena_.capacity());
    arena_.reserve(std::max(needed, std::min(doubled, max_bytes_)));
  }
  arena_.insert(arena_.end(), bytes.begin(), bytes.end());
  return at;
}

}  // namespace tiercache::engine
