#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tiercache::engine {

// One buffered write: a new version of an entry, or a deletion. The entry
// arrives encoded (storage/record_format.h), by the writer's thread, so that
// the one flusher thread has only RocksDB's work left to do. Views: into the
// writer's strings when it is added (the buffer copies them), into a WriteSet
// when the buffer hands it out.
struct BufferedWrite {
  std::uint32_t ns = 0;
  std::string_view key;
  std::string_view record;  // empty for a deletion
  bool is_delete = false;
};

// Puts the writes in the order of their RocksDB keys (storage/key_layout.h:
// namespace id, then the key's bytes). RocksDB's memtable inserts ascending
// keys much faster than random ones: the nodes it passes are those it just
// passed, and with the data family's insert hint (storage/rocksdb_options.cc)
// each search starts where the last insert ended. For batches of 10,000 random
// 16-byte keys the sort alone took 34 % of the instructions in RocksDB off
// (callgrind) and doubled write-behind's throughput; the hint then added a
// third. Two writes of one key (a WriteSet hands out one) would come out in
// either order.
void SortInKeyOrder(std::vector<BufferedWrite>* writes);

// The writes of one flush, coalesced per key: a key's last write replaces its
// earlier ones. Keys and records are copied into one arena, their slots into
// one array, found through an open-addressing index; all three keep their
// capacity when cleared, so that in steady state a write buffered allocates
// nothing and a flush frees nothing. A record that fits where the key's last
// one was is written over it; a larger one is appended, and the bytes it
// leaves behind count until the set is cleared.
//
// Thread-safety: not thread-safe; WriteBehind guards each set.
class WriteSet {
 public:
  // max_bytes: the arena grows no further than this (or what one write needs).
  explicit WriteSet(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // What Add(write) would add to bytes(); *new_key, when asked, whether it
  // would add a key.
  std::size_t ChargeOf(const BufferedWrite& write, bool* new_key = nullptr) const;
  // Copies the write in, replacing the key's earlier one.
  void Add(const BufferedWrite& write);
  // Whether the set holds a write of the key; *found is then that write, its
  // views lasting until the set changes.
  bool Find(std::uint32_t ns, std::string_view key, BufferedWrite* found) const;
  // Appends the writes not yet marked written to *writes. The views last until
  // the set changes; MarkWritten does not change it.
  void Unwritten(std::vector<BufferedWrite>* writes) const;
  // The store holds the key's write: Unwritten leaves it out from now on.
  // REQUIRES: the key is in the set.
  void MarkWritten(std::uint32_t ns, std::string_view key);
  // Empties the set, keeping its capacity.
  void Clear();

  bool empty() const { return slots_.empty(); }
  std::size_t keys() const { return slots_.size(); }        // written or not
  std::size_t unwritten() const { return unwritten_; }
  std::size_t bytes() const;                                // what the set holds, overhead included

 private:
  struct Slot {
    std::size_t hash;
    std::size_t key_at;     // offsets into arena_
    std::size_t record_at;
    std::uint32_t ns;
    std::uint32_t key_size;
    std::uint32_t record_size;
    std::uint32_t record_room;  // arena bytes at record_at the key's records may use
    bool is_delete;
    bool written;
  };
  // What a key costs beyond its bytes: its slot and its index buckets, four
  // at most while the index grows (it doubles when half full; Clear may keep
  // one up to 16 times larger than the next use needs, then releases it).
  static constexpr std::size_t kSlotCharge = sizeof(Slot) + 4 * sizeof(std::uint32_t);

  static std::size_t Hash(std::uint32_t ns, std::string_view key);
  std::string_view KeyOf(const Slot& slot) const;
  BufferedWrite View(const Slot& slot) const;
  // The index bucket holding the key's slot, or the empty bucket it would go
  // to. REQUIRES: the index is not empty.
  std::size_t BucketOf(std::uint32_t ns, std::string_view key, std::size_t hash) const;
  // The key's slot number + 1, or 0.
  std::uint32_t EntryOf(std::uint32_t ns, std::string_view key) const;
  void GrowIndex();
  // Copies the bytes to the arena's end; their offset.
  std::size_t Append(std::string_view bytes);

  std::size_t max_bytes_;
  std::vector<char> arena_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> index_;  // slot number + 1; 0 marks an empty bucket
  std::size_t unwritten_ = 0;
};

}  // namespace tiercache::engine
