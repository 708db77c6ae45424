#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/call_gate.h"
#include "engine/key_hash.h"
#include "engine/key_locks.h"
#include "engine/memory_tier.h"
#include "engine/memory_value.h"
#include "engine/namespace_table.h"
#include "engine/negative_cache.h"
#include "engine/refresher.h"
#include "engine/removal_hold.h"
#include "engine/single_flight.h"
#include "engine/version_source.h"
#include "engine/write_behind.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "storage/value_compressor.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace engine {

// A thread's record encoder, value compressor and their buffers, remade when
// a cache with other compression settings uses the thread.
struct ThreadCodec {
  Compression compression = Compression::kNone;
  std::size_t threshold = 0;
  std::unique_ptr<storage::RecordEncoder> encoder;
  std::unique_ptr<storage::ValueCompressor> compressor;  // for records stored as they are
  std::string record;        // the last record encoded
  std::string memory_value;  // the last value put in L1 form
};
ThreadCodec& CodecFor(const Options& options);

// The key of a (namespace, key) pair in maps that know namespaces by name.
std::string FlightKey(std::string_view ns, std::string_view key);

}  // namespace engine

// The tiered cache behind the public Cache (DESIGN.md, "How data flows").
//
// Thread-safety: thread-safe. A call holds a pass of gate_ while it reads or
// writes below L1 (Flush and GetStats need none: the write buffer outlives
// Close), and Close drains the buffer and closes the store only once no call
// holds one. Writers of a key hold its stripe of locks_ while they pick its
// next version and update both tiers; a Get that refills L1 from below takes
// it only while a writer holds it, and otherwise watches its sequence
// (fill_check.h). Lock order: a key stripe, then the locks inside the tiers, the
// write buffer, the namespace table, the read-through flights and the refresh
// queue (none of which is held while taking another).
// The listener is told of removals with none of these held (LockKey).
class Cache::Impl {
 public:
  static Status Open(const Options& options, std::unique_ptr<Impl>* impl);
  ~Impl();

  // Whether a read below L1 counts in the statistics (L1 lookups, disk hits
  // and misses, damaged records): a load's own looks do not, so that one Get
  // counts once.
  enum class Counting { kCounted, kQuiet };

  Status Get(std::string_view ns, std::string_view key, std::string* value);
  Status GetEntry(std::string_view ns, std::string_view key, Entry* entry);
  void GetMany(std::string_view ns, const std::vector<std::string>& keys,
               std::vector<Status>* statuses, std::vector<std::string>* values);
  Status Contains(std::string_view ns, std::string_view key);
  Status Write(std::string_view ns, std::string_view key, std::string_view value,
               const WriteOptions& write, std::optional<std::uint64_t> expected,
               std::uint64_t* version, Counting counting = Counting::kCounted);
  Status PutMany(std::string_view ns, const std::vector<KeyValue>& pairs,
                 const WriteOptions& write);
  Status Delete(std::string_view ns, std::string_view key);
  Status DropNamespace(std::string_view ns);
  Status Flush(std::chrono::milliseconds deadline);
  Status Close(std::chrono::milliseconds deadline, std::vector<NamespacedKey>* unwritten);
  CacheStats GetStats() const;

 private:
  explicit Impl(const Options& options);
  Status OpenParts();
  Status CheckOpen() const;
  // The id of namespace `ns`, nullopt when it does not exist (yet); or the
  // error of a name no namespace can have, so that a read or a delete
  // through a mistaken name is refused as a write through it is.
  Status FindNamespace(std::string_view ns, std::optional<std::uint32_t>* id) const;
  // A pass of gate_, or the error of a closed cache.
  Status Enter(engine::CallGate::Pass* pass);
  Status CheckWrite(std::string_view ns, std::string_view key, std::string_view value,
                    const WriteOptions& write) const;

  // Reads.
  // L1 missed: the write buffer, RocksDB, then (read-through) the loader.
  // `hashed`: the key in its namespace, absent when the namespace does not
  // exist (yet). `asked`: the time the caller read for its lookup in L1.
  Status GetBelow(std::string_view ns, const std::optional<engine::HashedKey>& hashed,
                  std::string_view key, TimePoint asked, Entry* entry);
  // The record below L1, read without the key's lock and judged at `asked`;
  // while a writer holds the lock, read under it and judged once let in.
  Status ReadBelow(const storage::Namespace& ns, const engine::HashedKey& key, TimePoint asked,
                   Entry* entry);
  // ReadBelow of keys[i] for each i in `missed`, under the keys' locks,
  // RocksDB's part in one MultiGet; sets (*statuses)[i] and, found,
  // (*values)[i].
  void ReadManyBelow(const storage::Namespace& ns, const std::vector<std::string>& keys,
                     const std::vector<std::size_t>& missed, std::vector<Status>* statuses,
                     std::vector<std::string>* values);
  // FindRecord, then Promote. REQUIRES: the key's lock held, or `check` given
  // (a read without it, whose copy goes into L1 only if the check holds).
  Status ReadAndPromote(const storage::Namespace& ns, const engine::HashedKey& key, TimePoint now,
                        const engine::FillCheck* check, Entry* entry, Counting counting);
  // The newest record of the key below L1, the write buffer's or RocksDB's
  // (*from_disk); NotFound when there is none or the buffer holds a delete.
  // The buffer holds a write until RocksDB does: a read between the two finds
  // it in one or the other.
  Status FindRecord(const storage::Namespace& ns, std::string_view key, std::string* record,
                    bool* from_disk);
  // FindRecord of each key: (*records)[i], (*found)[i] and (*from_disk)[i] for
  // keys[i], RocksDB's part in one MultiGet.
  void FindRecords(const storage::Namespace& ns, const std::vector<std::string_view>& keys,
                   std::vector<std::string>* records, std::vector<Status>* found,
                   std::vector<bool>* from_disk);
  // `s`, or for Corruption what Options::on_corrupt_record asks, naming the key.
  Status Undamaged(const storage::Namespace& ns, std::string_view key, Status s) const;
  void CountRead(const Status& s, bool from_disk);
  // Decodes a record found below L1 and, unless it has expired at `now`,
  // puts it in L1 as read then (subject to `check`, as for StoreInMemory).
  // NotFound when expired, Corruption when it fails its checks.
  Status Promote(const storage::Namespace& ns, const engine::HashedKey& key,
                 std::string_view record, TimePoint now, const engine::FillCheck* check,
                 Entry* entry);
  // REQUIRES: the key's lock held, or for a refill `check` given (a read
  // without the lock: the copy goes in only if it holds, TierWrite says how;
  // nullptr: no check). Puts the entry under `key` in L1 (its own
  // key field is not read); with compression on, its value as `stored` (how
  // its record holds it) says. refill: a copy read from below, which keeps
  // the entry's access count and time and leaves an L1 copy of the same
  // version or a newer one as it is (else a new write: L1 carries over the
  // access data of the version it replaces).
  // An entry L1 cannot take must not leave an older version behind, and one of
  // a namespace dropped meanwhile must not stay where no call can reach it.
  void StoreInMemory(const engine::HashedKey& key, const Entry& entry,
                     const storage::StoredValue& stored, bool refill, TimePoint now,
                     const engine::FillCheck* check);
  bool InsertInMemory(const engine::HashedKey& key, const Entry& entry,
                      const storage::StoredValue& stored, bool refill, TimePoint now,
                      const engine::FillCheck* check);
  // What a Get saw of the entry it returns, for refresh_after_write.
  struct Seen {
    std::uint64_t version = 0;
    std::chrono::milliseconds age{0};  // since the entry was written
  };
  // The Seen of an entry a Get returns: its age when the read that found it
  // (in L1, below it, or by a load) took the time, which is last_accessed.
  static Seen SeenOf(const Entry& entry);
  // L1 lookups that undo L1's compression; `seen`, when given, is set on a hit.
  bool LookupMemory(const engine::HashedKey& key, TimePoint now, Entry* entry);
  bool LookupMemoryValue(const engine::HashedKey& key, TimePoint now,
                         std::string* value, Seen* seen = nullptr);
  // Asks the refresher for a refresh of the key, in namespace `ns`, when the
  // entry a Get found is due for one. REQUIRES: refresher_ set.
  // Inline: most Gets find their entry not due, and should pay no call.
  void RefreshIfDue(const engine::HashedKey& key, std::string_view ns, const Seen& seen) {
    // Version 0: a loaded value the cache could not keep, so nothing to refresh.
    if (seen.version != 0 && seen.age >= options_.refresh_after_write) {
      AskRefresh(key, ns, seen.version);
    }
  }
  void AskRefresh(const engine::HashedKey& key, std::string_view ns, std::uint64_t version);
  // The refresher's work: the loader reads the key again, and its answer is
  // settled as a load's is, against the version the Get found. kFailed when
  // the loader answered an error or a value the cache could not keep.
  engine::Refresher::Outcome Refresh(const engine::Refresher::Job& job);
  // When a caller waiting for other callers' loads gives up: the moment
  // Options::load_wait_timeout from now, or never.
  std::optional<engine::SingleFlight::Deadline> LoadWaitDeadline() const;
  Status Load(std::string_view ns, std::string_view key,
              std::optional<engine::SingleFlight::Deadline> wait_deadline, Entry* entry);
  void LoadMany(std::string_view ns, const std::vector<std::string>& keys,
                const std::vector<std::size_t>& indexes, std::vector<Status>* statuses,
                std::vector<std::string>* values);
  std::vector<std::size_t> LoadInBulk(std::string_view ns, const std::vector<std::string>& keys,
                                      const std::vector<std::size_t>& indexes,
                                      std::vector<Status>* statuses,
                                      std::vector<std::string>* values);
  bool RememberedAbsent(std::string_view ns, std::string_view key, const std::string& flight,
                        Status* status);
  // The leader's part of a load; seals the flight once its result is settled.
  Status LoadAndStore(std::string_view ns, std::string_view key, const std::string& flight,
                      Entry* entry);
  bool FoundBeforeLoading(std::string_view ns, std::string_view key, const std::string& flight,
                          Entry* entry);
  // `expected`: the version the load replaces, 0 when the key was absent (a
  // refresh replaces the version its Get found).
  Status SettleLoad(std::string_view ns, std::string_view key, const std::string& flight,
                    std::uint64_t expected, Status s, LoadedValue loaded, Entry* entry);
  Status CallLoader(std::string_view ns, std::string_view key, LoadedValue* loaded);
  Status CallBulkLoader(std::string_view ns, const std::vector<std::string_view>& keys,
                        std::vector<LoadedKey>* answers);
  bool FoundBelow(std::string_view ns, std::string_view key, const std::string* seal,
                  Entry* entry);
  Status StoreLoaded(std::string_view ns, std::string_view key, const std::string& flight,
                     std::uint64_t expected, LoadedValue loaded, Entry* entry);
  Status CurrentVersion(const storage::Namespace& ns, const engine::HashedKey& key,
                        Counting counting, std::uint64_t* version);

  // Writes.
  Status MakeEntry(std::string_view key, std::string_view value, const WriteOptions& write,
                   TimePoint now, Entry* entry);
  Status WriteKey(const storage::Namespace& ns, std::string_view key, std::string_view value,
                  const WriteOptions& write, std::optional<std::uint64_t> expected,
                  std::uint64_t* version, Counting counting);
  Status WriteLocked(const storage::Namespace& ns, const engine::HashedKey& key,
                     const Entry& entry, TimePoint now);
  void Written(const storage::Namespace& ns, const engine::HashedKey& key, const Entry& entry,
               const storage::StoredValue& stored, TimePoint now);
  Status WriteBatch(std::vector<engine::BufferedWrite>* batch, std::size_t* written);
  Status WriteInParts(const std::vector<engine::BufferedWrite>& sorted,
                      std::size_t part_bytes, std::size_t* written);
  Status WritePart(storage::StoreBatch* batch);
  // REQUIRES: the key's lock held.
  Status DeleteLocked(const storage::Namespace& ns, const engine::HashedKey& key);
  // Deletes the key if it is still at `version`.
  void DeleteIfAt(std::string_view ns, std::string_view key, std::uint64_t version);
  Status PutManyAtomically(const storage::Namespace& ns, const std::vector<KeyValue>& pairs,
                           const WriteOptions& write);

  // A key's lock (or several keys') as the cache takes it: removal events
  // raised while it is held reach the listener once it is released.
  template <typename Locks>
  struct Held {
    engine::RemovalHold hold;  // declared first: ends after the locks
    Locks locks;
  };
  Held<engine::KeyLocks::Hold> LockKey(const engine::HashedKey& key) {
    return {engine::RemovalHold(options_.listener != nullptr), locks_.Lock(key)};
  }
  Held<std::vector<engine::KeyLocks::Hold>> LockKeys(std::uint32_t ns,
                                                     const std::vector<std::string_view>& keys) {
    return {engine::RemovalHold(options_.listener != nullptr), locks_.LockMany(ns, keys)};
  }

  void OnRemoval(const engine::Removal& removal);
  std::string Describe(std::string_view ns, std::string_view key) const;

  // The time, read once for each moment of a call and given to all it does
  // then: a Get reads it for its lookup in L1 and, missing there, again only
  // if it has to wait for a writer of the key (ReadBelow).
  TimePoint Now() const {
    return system_clock_ != nullptr ? system_clock_->Now() : clock_->Now();
  }

  const Options options_;
  const std::shared_ptr<Clock> clock_;
  // clock_ when it is the system's, called directly (SystemClock is final):
  // a Get that hits L1 takes tens of nanoseconds, a virtual call among them.
  const SystemClock* const system_clock_;
  const bool compress_in_memory_;
  std::unique_ptr<storage::Store> store_;
  // The flusher's batch, kept from one flush to the next: its buffer keeps
  // the capacity a flush grew it to (up to StoreBatch::Clear's 8 MiB), where
  // a new batch each flush copied itself at each doubling. Used by the
  // flusher thread alone (WriteInParts); reset by Close before the store.
  std::optional<storage::StoreBatch> flush_batch_;
  std::unique_ptr<engine::MemoryTier> memory_;
  std::unique_ptr<engine::NamespaceTable> namespaces_;
  std::unique_ptr<engine::VersionSource> versions_;
  std::unique_ptr<engine::WriteBehind> write_behind_;  // only under write-behind
  engine::KeyLocks locks_;
  engine::SingleFlight loads_;
  engine::NegativeCache negatives_;
  engine::CallGate gate_;

  struct Counters {
    std::atomic<std::uint64_t> disk_hits{0};
    std::atomic<std::uint64_t> disk_misses{0};
    std::atomic<std::uint64_t> disk_writes{0};
    std::atomic<std::uint64_t> corrupt{0};
    std::atomic<std::uint64_t> loads{0};
    std::atomic<std::uint64_t> bulk_loads{0};
    std::atomic<std::uint64_t> load_wait_timeouts{0};
    std::atomic<std::uint64_t> loads_shared{0};
    std::atomic<std::uint64_t> load_errors{0};
    std::atomic<std::uint64_t> loads_unstored{0};
    std::atomic<std::uint64_t> negative_hits{0};
    std::atomic<std::uint64_t> refreshes{0};
    std::atomic<std::uint64_t> memory_value_bytes{0};   // values put in L1, uncompressed
    std::atomic<std::uint64_t> memory_stored_bytes{0};  // the same, as L1 holds them
  };
  mutable Counters counters_;
  // Only with refresh_after_write. Last: its threads use everything above,
  // and end before any of it is destroyed.
  std::unique_ptr<engine::Refresher> refresher_;
};

}  // namespace tiercache
