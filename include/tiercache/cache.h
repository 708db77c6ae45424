#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tiercache/entry.h"
#include "tiercache/options.h"
#include "tiercache/stats.h"
#include "tiercache/status.h"

namespace tiercache {

// Per-call choices of a write.
struct WriteOptions {
  // Absent: Options::default_ttl. Zero: never expires.
  std::optional<std::chrono::milliseconds> ttl;
  std::map<std::string, std::string> metadata;
};

// A key and its value, for PutMany.
struct KeyValue {
  std::string key;
  std::string value;
};

// A key and its namespace, as Close names the writes it could not make.
struct NamespacedKey {
  std::string ns;
  std::string key;

  friend bool operator==(const NamespacedKey& a, const NamespacedKey& b) {
    return a.ns == b.ns && a.key == b.key;
  }
  friend bool operator<(const NamespacedKey& a, const NamespacedKey& b) {
    return a.ns != b.ns ? a.ns < b.ns : a.key < b.key;
  }
};

// A persistent cache: an in-memory tier (L1) in front of a RocksDB store on
// local disk (L2), with the write, read and eviction policies of its Options.
// Entries live in namespaces: the same key in two namespaces are two entries.
// A namespace name is 1 to 255 bytes; every call refuses another with
// InvalidArgument, reads and deletes as well as writes.
//
// A call the system refuses memory for returns NoSpace. A write so refused may
// have reached RocksDB or the write buffer or not, as after an IOError; either
// way L1 keeps no copy of the key older than the one below it, and the cache
// goes on. This covers the cache's own allocations: RocksDB is not built to
// survive an exception thrown through it, and an allocation refused inside
// RocksDB may still end the process or stall the store until it is reopened.
//
// Thread-safety: every method may be called from many threads at once.
// Ownership: Open returns the only owner; destroying a cache closes it (with
// a default deadline of 10 seconds for write-behind's buffer), and must wait
// until every call on it has returned. The string
// views a method takes need to live for the call only.
class Cache {
 public:
  // Opens the store at options.path (creating it when missing) after
  // Options::Validate(); invalid options touch nothing on disk. Busy when
  // another process, or another Cache of this one, has the store open. On
  // failure nothing stays open.
  [[nodiscard]] static Status Open(const Options& options, std::unique_ptr<Cache>* cache);

  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // The value, or NotFound. Under read-through a miss in both tiers calls the
  // loader (once per key, however many callers wait) and stores its value by
  // the write policy; a write of the key acknowledged while the loader ran is
  // newer, and is the answer instead. A loaded value the cache cannot store
  // (write-behind's buffer stayed full, the store failed, the value is past
  // max_value_bytes) is still returned, as version 0, and counted in
  // stats.loads.unstored. A caller that would wait for another's load longer
  // than Options::load_wait_timeout gets TimedOut. *value's buffer is reused
  // (a loop reading into one string allocates little); a failure leaves it
  // empty.
  [[nodiscard]] Status Get(std::string_view ns, std::string_view key, std::string* value);
  // The same, with every field of the entry.
  [[nodiscard]] Status GetEntry(std::string_view ns, std::string_view key, Entry* entry);
  // OK when the key holds a live entry, NotFound when not; never loads.
  [[nodiscard]] Status Contains(std::string_view ns, std::string_view key);
  // One status and value per key, in order, each as Get would answer it. The
  // keys L1 misses are read from RocksDB together (one MultiGet), which costs
  // less per key than as many Gets. Under read-through the keys still missing
  // are then loaded: in one call of Options::bulk_loader when it is set (but
  // for keys another caller is loading: those wait for that load), else one by
  // one. *values keeps its strings' capacity.
  void GetMany(std::string_view ns, const std::vector<std::string>& keys,
               std::vector<Status>* statuses, std::vector<std::string>* values);

  // Writes a new version of the entry by the write policy. *version (when
  // given) receives it: greater than every earlier version of the key, also
  // across restarts.
  [[nodiscard]] Status Put(std::string_view ns, std::string_view key, std::string_view value,
                           const WriteOptions& write = {}, std::uint64_t* version = nullptr);
  // Put, if and only if the key's current version is `expected` (0: the key
  // must be absent); Conflict otherwise. Atomic against every other writer.
  // Only with 0 may the namespace be new (it is then made).
  [[nodiscard]] Status CompareAndPut(std::string_view ns, std::string_view key,
                                     std::uint64_t expected, std::string_view value,
                                     const WriteOptions& write = {},
                                     std::uint64_t* version = nullptr);
  // Writes every pair; under write-through and write-around, all or none.
  [[nodiscard]] Status PutMany(std::string_view ns, const std::vector<KeyValue>& pairs,
                               const WriteOptions& write = {});
  // Removes the key from both tiers (OK also when it was absent).
  [[nodiscard]] Status Delete(std::string_view ns, std::string_view key);
  // Removes a namespace and all its entries; NotFound when there is none.
  [[nodiscard]] Status DropNamespace(std::string_view ns);

  // Write-behind: returns once every write acknowledged before the call is in
  // RocksDB, or TimedOut at the deadline. Other policies: OK at once. With
  // refresh_after_write, first waits (within the same deadline) for the
  // refreshes asked for before the call to end. A negative deadline is
  // InvalidArgument (here and for Close, which then leaves the cache open).
  [[nodiscard]] Status Flush(std::chrono::milliseconds deadline);

  // Drains write-behind's buffer within the deadline and closes the store.
  // TimedOut (or the store's error) when writes could not be written; their
  // keys go to *unwritten when given. Calls made once Close has begun return
  // InvalidArgument; those already under way finish
  // first (a read-through load's loader call is not waited for), so a
  // listener must not call Close: it would wait for the call that told it.
  // Refreshes not yet begun are dropped; a refresh's loader call under way is
  // waited for, whatever the deadline, and what it read is not stored.
  [[nodiscard]] Status Close(std::chrono::milliseconds deadline,
                             std::vector<NamespacedKey>* unwritten = nullptr);

  CacheStats GetStats() const;

 private:
  class Impl;
  explicit Cache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tiercache
