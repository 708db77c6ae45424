#pragma once

// The RocksDB store: opaque record bytes by (namespace, key) on local disk.
// Storage-internal; the RocksDB types are only forward-declared here so that
// engine/ compiles without RocksDB's headers.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "storage/free_space_guard.h"
#include "storage/key_layout.h"
#include "tiercache/clock.h"
#include "tiercache/policies.h"
#include "tiercache/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class CompactionFilter;
class DB;
class FileSystem;
class Iterator;
class Statistics;
class WriteBatch;
}  // namespace rocksdb

namespace tiercache::storage {

// How a store is opened. A plain struct: every field has a default that works
// except path.
struct StoreOptions {
  enum class Mode {
    kReadWrite,  // takes the store's lock; creates the store when missing
    kSecondary,  // reads a store another process may be writing; never writes
  };

  // The store's directory. Required.
  std::string path;

  Mode mode = Mode::kReadWrite;

  // kProcessCrash: WAL written, not synced; kPowerLoss: WAL synced per write.
  Durability durability = Durability::kProcessCrash;

  // Writes fail with NoSpace while the file system of `path` has fewer free
  // bytes than this plus room for RocksDB's own flushes (see
  // EffectiveFreeSpaceReserve) and compactions (Store::CompactionRoom). 0
  // disables the check. Read-write only.
  std::uint64_t free_space_reserve = 64 * 1024 * 1024;

  // The longest a free-space reading is trusted. Range 1 ms .. 1 hour.
  std::chrono::milliseconds free_space_recheck_interval{1000};

  // Where free space is read. Empty: statvfs(2). Tests inject a nearly full disk.
  FreeSpaceProbe free_space_probe;

  // Where time comes from: expiry in the compaction filter, the free-space
  // recheck interval. nullptr: the system clock.
  std::shared_ptr<Clock> clock;

  // The file system RocksDB reads and writes through. nullptr: the local one.
  // Tests inject faults here (storage/fault_file_system.h).
  std::shared_ptr<rocksdb::FileSystem> file_system;

  // Where RocksDB counts what it does (rocksdb::CreateDBStatistics()), for a
  // caller that reads its tickers; tests count RocksDB's writes with it.
  // nullptr: nothing is counted.
  std::shared_ptr<rocksdb::Statistics> statistics;

  // RocksDB's block cache, in bytes. Small: this store is the L2 behind the
  // in-memory tier, which already holds the hot entries. Range 0 .. 2^40.
  std::size_t block_cache_bytes = 32 * 1024 * 1024;

  // One memtable of the data column family, in bytes. Range 64 KiB .. 1 GiB.
  std::size_t write_buffer_bytes = 16 * 1024 * 1024;

  // Secondary only: the directory under which a private directory for the
  // secondary instance's own files (its info log) is created, and removed on
  // close. Empty: $TMPDIR, else /tmp.
  std::string secondary_path;

  // OK, or InvalidArgument naming the first field out of range.
  [[nodiscard]] Status Validate() const;

  // The free bytes below which writes fail: free_space_reserve plus
  // 3 x write_buffer_bytes, because RocksDB flushes memtables without a write
  // of ours to charge: a flush writes an SST file as large as the memtable and
  // starts a WAL preallocated to 1.1 x its size. 0 when the check is off.
  std::uint64_t EffectiveFreeSpaceReserve() const;
};

// A namespace of an open store. A value; valid for the store that returned it
// as long as the namespace is not dropped. Writes through the handle of a
// dropped namespace fail with NotFound.
struct Namespace {
  std::uint32_t id = 0;
  std::string name;
};

// InvalidArgument naming the problem for a name no namespace can have: empty,
// or longer than kMaxNamespaceNameBytes.
[[nodiscard]] Status CheckNamespaceName(std::string_view name);

// InvalidArgument naming the length for a key longer than kMaxKeyBytes.
[[nodiscard]] Status CheckKey(std::string_view key);

// Approximate figures of the data column family, as RocksDB estimates them.
struct StoreStats {
  std::uint64_t estimated_keys = 0;  // counts overwrites and deletes until compacted
  std::uint64_t sst_files = 0;
  std::uint64_t sst_bytes = 0;  // all SST files, including obsolete ones still open
  std::uint64_t estimated_live_bytes = 0;
  std::uint64_t memtable_bytes = 0;
  std::uint64_t pending_compaction_bytes = 0;
};

class Store;

// Writes that reach the store all or none (one RocksDB WriteBatch).
// Thread-safety: not thread-safe. Made by Store::NewBatch; borrows the store,
// which must outlive it.
class StoreBatch {
 public:
  StoreBatch(StoreBatch&&) noexcept;
  StoreBatch& operator=(StoreBatch&&) noexcept;
  ~StoreBatch();

  // InvalidArgument for a key longer than kMaxKeyBytes; the batch is then
  // unchanged.
  [[nodiscard]] Status Put(const Namespace& ns, std::string_view key, std::string_view record);
  [[nodiscard]] Status Delete(const Namespace& ns, std::string_view key);

  std::size_t Count() const;
  std::size_t ApproximateBytes() const;
  // Empties the batch for its next use, keeping its buffer up to 8 MiB, so
  // that a batch filled again to its last size allocates nothing; a larger
  // buffer (a burst's) is given back.
  void Clear();

 private:
  friend class Store;
  explicit StoreBatch(rocksdb::ColumnFamilyHandle* data);
  // Whether the last write noted is in namespace `id`.
  bool Noted(std::uint32_t id) const {
    return !namespace_ids_.empty() && namespace_ids_.back() == id;
  }
  // REQUIRES: MakeRoom for the write first. Allocates nothing.
  void NoteNamespace(std::uint32_t id);
  // Room for a write of `bytes` in namespace `ns`, so that adding it to the
  // batch and noting its namespace allocate nothing.
  void MakeRoom(std::uint32_t ns, std::size_t bytes);
  // Replaces *kept with this batch's writes but those of the namespaces
  // `left_out`.
  [[nodiscard]] Status CopyWithout(const std::vector<std::uint32_t>& left_out,
                                   rocksdb::WriteBatch* kept) const;

  rocksdb::ColumnFamilyHandle* data_;  // borrowed from the store
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  std::vector<std::uint32_t> namespace_ids_;  // checked live by Store::Write
  std::string key_buffer_;
};

// Walks the keys of a namespace that start with a prefix, in byte order.
// Sees the store as it was when the iterator was made.
// Thread-safety: not thread-safe. Must not outlive its store.
class StoreIterator {
 public:
  ~StoreIterator();

  bool Valid() const;
  void Next();
  // Backward: to the last key of the walk, then each key before it.
  void SeekToLast();
  void Prev();
  // The entry's key (without namespace) and its record; valid until Next.
  // REQUIRES: Valid().
  std::string_view key() const;
  std::string_view record() const;
  // OK unless the walk stopped at an error; check once Valid() is false.
  [[nodiscard]] Status status() const;

 private:
  friend class Store;
  struct Impl;
  explicit StoreIterator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Records by (namespace, key) in RocksDB. The store does not decode records,
// except in its compaction filter, which drops expired ones (ExpiredAndIntact).
//
// Thread-safety: thread-safe; every method may be called from many threads
// at once. Ownership: the Store owns the RocksDB instance; batches and
// iterators borrow it.
class Store {
 public:
  // Opens the store at options.path (DESIGN.md lists what is refused).
  // Read-write: Busy when another process, or another Store in this process,
  // has it open. Secondary: NotFound when there is no store at the path.
  [[nodiscard]] static Status Open(const StoreOptions& options, std::unique_ptr<Store>* store);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The namespace called `name`. Read-write: created on first use.
  // Secondary: NotFound when the primary has not created it (yet: CatchUp).
  [[nodiscard]] Status OpenNamespace(std::string_view name, Namespace* ns);
  // The live namespaces, by name.
  [[nodiscard]] Status ListNamespaces(std::vector<Namespace>* namespaces) const;
  // Removes a namespace and all its entries, in time independent of its size;
  // the space is reclaimed by later compactions. NotFound when there is none.
  [[nodiscard]] Status DropNamespace(std::string_view name);

  // NotFound when the key has no record.
  [[nodiscard]] Status Get(const Namespace& ns, std::string_view key, std::string* record) const;
  // Get of each key, in one RocksDB MultiGet: (*statuses)[i] and (*records)[i]
  // for keys[i]. Cheaper per key than as many Gets (RocksDB looks the keys up
  // together, block by block).
  void GetMany(const Namespace& ns, const std::vector<std::string_view>& keys,
               std::vector<std::string>* records, std::vector<Status>* statuses) const;
  [[nodiscard]] Status Put(const Namespace& ns, std::string_view key, std::string_view record);
  [[nodiscard]] Status Delete(const Namespace& ns, std::string_view key);
  StoreBatch NewBatch() const;
  // What Write does with the writes of a namespace dropped since they were
  // added to the batch.
  enum class DroppedNamespaces {
    kRefuse,    // writes nothing: NotFound naming the namespace
    kLeaveOut,  // writes the others: the drop removed the namespace's records, and these with them
  };
  // Writes all of `batch` or nothing (but for the writes `dropped` leaves
  // out); *written, when given, is how many of its writes the store took. The
  // batch keeps its contents.
  [[nodiscard]] Status Write(StoreBatch* batch,
                             DroppedNamespaces dropped = DroppedNamespaces::kRefuse,
                             std::size_t* written = nullptr);
  // Makes every write that returned OK so far survive a power cut, whatever
  // the durability: for work that reports its writes done all at once, such
  // as an import, under kProcessCrash. Read-write only.
  [[nodiscard]] Status SyncWal();

  // Keys of `ns` starting with `prefix` (empty: all of them).
  [[nodiscard]] Status NewIterator(const Namespace& ns, std::string_view prefix,
                                   std::unique_ptr<StoreIterator>* iterator) const;
  // Calls fn for each key of `ns` starting with `prefix`, in order, until fn
  // returns false. The views are valid during the call only.
  using Visitor = std::function<bool(std::string_view key, std::string_view record)>;
  [[nodiscard]] Status ForEach(const Namespace& ns, std::string_view prefix,
                               const Visitor& fn) const;
  // The same from the last key to the first.
  [[nodiscard]] Status ForEachBackward(const Namespace& ns, std::string_view prefix,
                                       const Visitor& fn) const;

  // Secondary: replays what the primary wrote since open or the last CatchUp.
  // Read-write: nothing to do.
  [[nodiscard]] Status CatchUp();

  // Entry versions: every version handed out so far, by any process that had
  // the store open, is below the ceiling; read at open. Raising it is durable
  // (synced) before it returns, so versions below the new ceiling may then be
  // handed out without another write. The ceiling is written at most
  // kMaxVersion + 1 (storage/record_format.h): a higher one is refused with
  // NotSupported. One found at open (an older tiercache's load wrote it)
  // leaves the cache no versions to hand out. Read-write only.
  std::uint64_t version_ceiling() const;
  [[nodiscard]] Status RaiseVersionCeiling(std::uint64_t ceiling);

  [[nodiscard]] Status GetStats(StoreStats* stats) const;
  // The paths of the SST files the store's current version reads. Leftovers
  // RocksDB no longer uses, such as a table a flush was writing when the
  // power went, are not among them.
  [[nodiscard]] Status LiveTableFiles(std::vector<std::string>* paths) const;
  // Compacts all data, running the expiry filter over every record. NoSpace,
  // before anything is written, when the file system lacks room for the
  // compaction's output (CompactionRoom) above the free-space reserve.
  [[nodiscard]] Status Compact();

  const std::string& path() const { return options_.path; }
  StoreOptions::Mode mode() const { return options_.mode; }

 private:
  struct Handles;
  Store(const StoreOptions& options, std::unique_ptr<rocksdb::CompactionFilter> filter);

  Status OpenRocksDb(bool create);
  Status CheckFormat(bool may_initialise);
  Status LoadNamespaces();
  Status LoadVersionCeiling();
  Status LookupNamespace(std::string_view name, Namespace* ns) const;
  Status CreateNamespace(std::string_view name, Namespace* ns);
  Status CheckWritable(std::string_view what) const;
  std::uint64_t CompactionRoom() const;
  Status CheckLive(const Namespace& ns) const;
  Status CommitMeta(rocksdb::WriteBatch* batch, std::string_view what);
  Status WriteOne(const Namespace& ns, std::string_view key, std::string_view record, bool is_put);
  std::string Describe(std::string_view what, const Namespace& ns) const;

  const StoreOptions options_;
  // Declared before handles_: RocksDB uses them until the DB is closed.
  const std::unique_ptr<rocksdb::CompactionFilter> expiry_filter_;
  std::unique_ptr<FreeSpaceGuard> guard_;
  std::unique_ptr<Handles> handles_;
  std::string secondary_dir_;  // the private directory of a secondary; removed on close

  // Guards live_ids_ and next_id_ (read-write only). Writes to data hold it
  // shared from their liveness check until RocksDB has them, so that a drop
  // (exclusive) never leaves a late write behind in a removed range. Namespace
  // creation holds it exclusively.
  mutable std::shared_mutex namespaces_mu_;
  std::unordered_set<std::uint32_t> live_ids_;
  std::uint32_t next_id_ = kFirstNamespaceId;

  // Serialises RaiseVersionCeiling from its comparison to the update of
  // version_ceiling_, so that a lower ceiling is never written, nor kept,
  // after a higher one. Taken before the free-space guard's lock (CommitMeta
  // takes that one); never together with namespaces_mu_.
  std::mutex version_ceiling_mu_;
  // Set at open, then only under version_ceiling_mu_; read without it.
  std::atomic<std::uint64_t> version_ceiling_{1};
};

}  // namespace tiercache::storage
