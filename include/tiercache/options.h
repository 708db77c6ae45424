#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tiercache/clock.h"
#include "tiercache/events.h"
#include "tiercache/loader.h"
#include "tiercache/policies.h"
#include "tiercache/status.h"

namespace tiercache {
namespace storage {
struct StoreOptions;  // storage/store.h, internal
}  // namespace storage

// The hard limits of the record format (storage/record_format.h enforces them
// on disk; Validate() keeps options inside them).
inline constexpr std::size_t kMaxKeyBytes = 64 * 1024;
inline constexpr std::size_t kMaxValueBytes = 256 * 1024 * 1024;

// How write-behind buffers writes before the flusher batches them to RocksDB.
// Ignored under the other write policies. While one batch is being written
// the next one fills, so the buffer holds at most twice these limits.
struct WriteBufferOptions {
  // Entries held before a flush starts. Range 1 .. 10,000,000.
  std::size_t max_entries = 10'000;

  // Bytes held before a flush starts: keys and entries as stored (values,
  // metadata, times, a header and a checksum: 30 bytes each, more with
  // expiry, access data or metadata).
  // Range: at least max_value_bytes, at most the L1 budget (l1_max_bytes).
  std::size_t max_bytes = 32 * 1024 * 1024;

  // A flush starts when the oldest buffered write is this old.
  // Range 1 ms .. 1 hour.
  std::chrono::milliseconds flush_interval{1000};

  // How long a writer waits for room in a full buffer before Put returns
  // Busy. Range 0 (fail at once) .. 1 minute.
  std::chrono::milliseconds max_wait{1000};
};

// What Get does with a record on disk that fails its checks (its checksum,
// its lengths, its payload; or a damaged RocksDB block holding it). Either
// way the damaged value is never returned, and CacheStats::disk.corrupt counts
// each such read.
enum class CorruptRecordAction {
  kReportCorruption,  // Get answers Corruption naming the key
  kTreatAsMiss,       // Get answers as for a missing key: read-through calls the loader
};

// Everything a cache is opened with. A plain struct: set the fields, call
// Validate() (Open does too), open. Every field has a default that works.
struct Options {
  // The store's directory. Required. Created by a read-write open when it does
  // not exist; a directory that holds something else is refused.
  std::string path;

  WritePolicy write_policy = WritePolicy::kWriteThrough;
  ReadPolicy read_policy = ReadPolicy::kCacheAside;
  EvictionPolicy eviction = EvictionPolicy::kLRU;

  // L1 capacity in entries. Range 1 .. 2^40.
  std::size_t l1_max_entries = 1'000'000;

  // L1 capacity in bytes: keys, values, metadata and the tier's own per-entry
  // overhead, so this is the memory L1 really uses. Range 64 KiB .. 2^50.
  std::size_t l1_max_bytes = 256 * 1024 * 1024;

  // L1 is split into this many independently locked shards. A power of two,
  // 1 .. 1024, and no more than l1_max_entries.
  std::size_t l1_shards = 16;

  // Expiry of an entry written without a TTL of its own. 0: never expires.
  // Range 0 .. 100 years.
  std::chrono::milliseconds default_ttl{0};

  // The largest value Put accepts, in bytes. Range 1 .. kMaxValueBytes.
  std::size_t max_value_bytes = 16 * 1024 * 1024;

  WriteBufferOptions write_buffer;

  // Compression of values, in L1 and on disk.
  Compression compression = Compression::kNone;

  // Values shorter than this many bytes are stored uncompressed; a value is
  // also stored uncompressed when compression would not make it smaller.
  // Range 1 .. max_value_bytes.
  std::size_t compression_threshold = 256;

  Durability durability = Durability::kProcessCrash;

  // What Get does with a damaged record. kTreatAsMiss suits a cache that can
  // always refill from its source; kReportCorruption lets the application see
  // and act on damage to its disk.
  CorruptRecordAction on_corrupt_record = CorruptRecordAction::kReportCorruption;

  // Writes fail with NoSpace while the store's file system has less than this
  // many bytes free, plus RocksDB's working room (flushes and a compaction, see
  // the README), so that RocksDB never meets a full disk.
  // Range 1 MiB .. 1 TiB.
  std::uint64_t free_space_reserve = 64 * 1024 * 1024;

  // Where time comes from. nullptr: the system clock.
  std::shared_ptr<Clock> clock;

  // Read-through's source of values. Required with kReadThrough, unused with
  // kCacheAside.
  Loader loader;

  // Optional under read-through, unused with kCacheAside: GetMany hands the
  // keys neither tier holds to it in one call rather than calling `loader`
  // once per key. Empty: GetMany calls `loader`. Get always calls `loader`.
  BulkLoader bulk_loader;

  // How long "not found" from the loader is remembered, so that repeated Gets
  // of a missing key do not call the loader each time. 0: not remembered.
  // Range 0 .. 1 day.
  std::chrono::milliseconds negative_ttl{0};

  // How long a Get (or a GetMany key) waits for another caller's load of the
  // same key before it gives up with TimedOut, so that a loader that hangs
  // holds up its own caller only; the load goes on, and its result is stored
  // as usual. 0: as long as the load takes. Range 0 .. 1 day.
  std::chrono::milliseconds load_wait_timeout{0};

  // Under read-through: a Get (GetEntry, or a GetMany key) that finds an entry
  // written this long ago or longer returns it as it is and has the loader
  // read the key again in the background. The new value replaces the entry,
  // as a new version even when the value is the same, unless a write replaced
  // it meanwhile; "not found" from the loader deletes it (under the same
  // condition); an error, or a value the cache cannot keep, leaves it, and
  // the key is refreshed again only once a backoff has passed: 1 s after one
  // failure, doubling with each further failure in a row, at most
  // refresh_after_write (the backoffs of up to 10,000 keys are remembered).
  // A key is refreshed once however many Gets find it due. Expiry is apart:
  // an entry past its TTL is a miss, as without refreshing.
  // 0: never refreshed. Range 0 .. 365 days.
  std::chrono::milliseconds refresh_after_write{0};
  // Threads that run refreshes, each calling the loader for one key at a time.
  // Range 1 .. 64.
  std::size_t refresh_threads = 1;

  // Told of removals and of write-behind's failed flushes. nullptr: nobody.
  std::shared_ptr<EventListener> listener;

  // For tiercache's own fault tests only; applications leave it empty. Called
  // with the options of the RocksDB store just before it opens, to change
  // them: a fault-injecting file system, small memtables for a tiny disk.
  std::function<void(storage::StoreOptions*)> adjust_store_for_testing;

  // OK, or InvalidArgument naming the first field out of range or the first
  // inconsistent combination, with its value.
  Status Validate() const;
};

}  // namespace tiercache
