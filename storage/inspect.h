#pragma once

// Storage-internal: the logic of the tiercache command's inspection
// subcommands (stats, namespaces, ls, get, dump, load, verify, purge-expired,
// compact) as functions over an open Store, which tests call directly. The
// command itself (tools/) parses flags, opens the store, prints and picks the
// exit code.
//
// None of these functions creates a namespace, so that reading a store never
// changes it. Scans visit namespaces by name and keys in byte order.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"
#include "tiercache/clock.h"
#include "tiercache/entry.h"
#include "tiercache/policies.h"
#include "tiercache/status.h"

namespace tiercache::storage {

// How far a long operation got.
struct Progress {
  std::uint64_t items = 0;        // records scanned, or lines loaded
  std::uint64_t input_bytes = 0;  // Load: bytes of input consumed
};
// Called every kProgressInterval items; an empty function is not called.
using ProgressFn = std::function<void(const Progress&)>;
inline constexpr std::uint64_t kProgressInterval = 1024;

// Calls `progress` when `items` is a multiple of kProgressInterval.
inline void ReportProgress(const ProgressFn& progress, std::uint64_t items,
                           std::uint64_t input_bytes = 0) {
  if (progress && items % kProgressInterval == 0) progress(Progress{items, input_bytes});
}

// Ends a run of writes that stopped at `stopped` (OK: at its end) once
// `flushed`, the write of its last batch, is done: the WAL is synced, so that
// what the run reports done survives a power cut, also under the store's
// default durability, which does not sync data writes. A failure here
// outranks `stopped`: what the run would report done is not all on disk.
[[nodiscard]] Status FinishWrites(Store* store, const Status& stopped, const Status& flushed);

// A record that cannot be read, or another problem a scan found: where and
// what. A problem that belongs to no single record has no key (a namespace
// whose scan failed) or neither namespace nor key (an SST file).
struct BadRecord {
  std::string ns;  // empty: none (a namespace's name never is)
  std::optional<std::string> key;
  std::string problem;
};
using BadRecordFn = std::function<void(const BadRecord&)>;

// *namespaces = the live namespace called `name`, or every live namespace
// when `name` is empty. NotFound naming it when there is none such.
[[nodiscard]] Status SelectNamespaces(const Store& store, std::string_view name,
                                      std::vector<Namespace>* namespaces);

// Calls fn for each record of `namespaces` whose key starts with `prefix`,
// until fn returns false. The views are valid during the call only. Stops at
// the first failed iteration, returning its status.
using RecordFn =
    std::function<bool(const Namespace& ns, std::string_view key, std::string_view record)>;
[[nodiscard]] Status ForEachRecord(const Store& store, const std::vector<Namespace>& namespaces,
                                   std::string_view prefix, const RecordFn& fn);

// ---------------------------------------------------------------------------
// stats

// What `tiercache stats` shows. The counts come from a scan of every record
// (DecodeRecord on each), so they take time in proportion to the store; the
// RocksDB figures are RocksDB's own estimates.
struct StoreFigures {
  std::uint32_t format_version = 0;         // the store format this build reads and writes
  std::uint32_t record_format_version = 0;  // the record format this build writes
  std::uint64_t namespaces = 0;
  std::uint64_t entries = 0;          // records, corrupt ones included
  std::uint64_t expired_entries = 0;  // expired but still stored: not yet purged
  std::uint64_t corrupt_records = 0;  // records that do not decode
  std::uint64_t key_bytes = 0;
  std::uint64_t value_bytes = 0;                // values as the application wrote them
  std::uint64_t record_bytes = 0;               // records as stored, headers included
  std::uint64_t uncompressed_record_bytes = 0;  // the same records without lz4
  std::uint64_t disk_bytes = 0;                 // every file in the store's directory
  StoreStats rocksdb;

  // How much smaller lz4 made the records: 1 without compression.
  double compression_ratio() const {
    return record_bytes == 0
               ? 1.0
               : static_cast<double>(uncompressed_record_bytes) / static_cast<double>(record_bytes);
  }
};

// Fills *figures; entries expired at clock.Now() count as expired.
[[nodiscard]] Status CollectFigures(const Store& store, const Clock& clock,
                                    const ProgressFn& progress, StoreFigures* figures);

// ---------------------------------------------------------------------------
// ls, get

struct ListOptions {
  std::string ns;           // empty: every namespace
  std::string prefix;       // keys that start with it; empty: all
  std::uint64_t limit = 0;  // at most this many entries; 0: no limit
};

// Calls fn for each entry selected by `options` (its key filled in) until fn
// returns false; each record that does not decode goes to `bad` instead, and
// the walk goes on. NotFound when options.ns names no namespace.
using EntryFn = std::function<bool(std::string_view ns, const Entry& entry)>;
[[nodiscard]] Status ListEntries(const Store& store, const ListOptions& options, const EntryFn& fn,
                                 const BadRecordFn& bad);

// The entry at (`ns`, `key`), key included. NotFound or Corruption naming the
// namespace and the key; InvalidArgument when `ns` is empty.
[[nodiscard]] Status GetEntry(const Store& store, std::string_view ns, std::string_view key,
                              Entry* entry);

// ---------------------------------------------------------------------------
// dump, load

struct DumpResult {
  std::uint64_t entries = 0;  // lines written
  std::uint64_t bad = 0;      // records that did not decode, left out and sent to `bad`
};

// Writes one JSON line per entry of namespace `ns` (empty: every namespace) to
// *out (storage/entry_json.h). IOError when *out fails.
[[nodiscard]] Status Dump(const Store& store, std::string_view ns, std::ostream* out,
                          const ProgressFn& progress, const BadRecordFn& bad, DumpResult* result);

struct LoadOptions {
  // How the loaded values are stored; as the cache's Options say.
  Compression compression = Compression::kNone;
  std::size_t compression_threshold = 256;
  // A batch is written to the store once it holds this many entries, or this
  // many bytes (keys and records, as StoreBatch::ApproximateBytes counts
  // them), whichever comes first: the batch is held in memory until then, and
  // values can be large.
  std::size_t batch_entries = 1000;
  std::size_t batch_bytes = 32 * 1024 * 1024;
};

struct LoadResult {
  std::uint64_t entries = 0;  // lines written to the store (a key on two lines may count twice)
  std::uint64_t kept = 0;     // lines left out: the store held their keys at a version as new
  std::uint64_t lines = 0;    // lines read, blank ones included
};

// Reads the JSON lines Dump wrote and writes each entry as it was dumped
// (version, times, access data and metadata kept), creating namespaces as
// needed; expired entries too. An entry replaces one with the same key only
// if its version is newer, or the stored record fails its checks: a key's
// version never goes backwards, so an entry the store (or an earlier line)
// holds at the same or a newer version stays, and the line counts as kept.
// The store's version ceiling is raised above every loaded version first.
// At a malformed line, InvalidArgument "line N: ..." once every line before it
// is written. What was written survives a power cut once Load returns (the
// WAL is synced). REQUIRES: the store is open read-write.
[[nodiscard]] Status Load(Store* store, std::istream* in, const LoadOptions& options,
                          const ProgressFn& progress, LoadResult* result);

// ---------------------------------------------------------------------------
// verify

struct VerifyResult {
  std::uint64_t checked = 0;    // records checked
  std::uint64_t sst_files = 0;  // SST files whose block checksums were checked
  std::uint64_t bad = 0;        // problems sent to `bad`
};

// Checks RocksDB's block checksums in every SST file of the store, then every
// record of every namespace in full (header, lengths, checksum, payload),
// sending each problem to `bad` and going on. A damaged SST block is reported
// with its file, and hides about its own records only: a namespace is walked
// from both ends up to it. A non-OK status only when the check itself could not run
// (the namespaces cannot be listed).
[[nodiscard]] Status Verify(const Store& store, const ProgressFn& progress, const BadRecordFn& bad,
                            VerifyResult* result);

// ---------------------------------------------------------------------------
// purge-expired, compact

struct PurgeResult {
  std::uint64_t scanned = 0;  // records looked at
  std::uint64_t purged = 0;   // expired records deleted
};

// Deletes every record expired at clock.Now(), as ExpiredAndIntact tells
// them: damaged records are left for `verify` to report. The
// deletes survive a power cut once PurgeExpired returns (the WAL is synced).
// REQUIRES: the store is open read-write.
[[nodiscard]] Status PurgeExpired(Store* store, const Clock& clock, const ProgressFn& progress,
                                  PurgeResult* result);

struct CompactResult {
  StoreStats before;
  StoreStats after;
};

// Store::Compact, with the figures before and after.
[[nodiscard]] Status CompactStore(Store* store, CompactResult* result);

}  // namespace tiercache::storage
