// The write side of the tiered cache: Put by the write policy, Delete,
// namespaces, flushing, closing and statistics.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/cache_impl.h"
#include "engine/key_hash.h"
#include "engine/write_set.h"
#include "storage/record_format.h"

namespace tiercache {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kMaxTtl = std::chrono::hours(24 * 365 * 100);
// A thread keeps its last value's buffer for the next write up to this size.
constexpr std::size_t kKeptValueCapacity = 64 * 1024;

// Write-behind's batch when the whole is refused for want of space: small
// against any free-space reserve (at least 1 MiB), large enough that a part
// still costs RocksDB little per entry.
constexpr std::size_t kPartBytes = 64 * 1024;

// The longest Flush waits for refreshes, whatever its deadline.
constexpr milliseconds kMaxWait = std::chrono::hours(24 * 365 * 100);

// Flush's and Close's deadline: 0 (do not wait) or more.
Status CheckDeadline(std::string_view call, milliseconds deadline) {
  if (deadline >= milliseconds(0)) return Status::OK();
  return Status::InvalidArgument(
      fmt::format("the deadline of {} is {}: must be 0 ms or more", call, deadline));
}

}  // namespace

Status Cache::Impl::CheckWrite(std::string_view ns, std::string_view key,
                               std::string_view value, const WriteOptions& write) const {
  if (Status s = storage::CheckKey(key); !s.ok()) return s;
  if (value.size() > options_.max_value_bytes) {
    return Status::InvalidArgument(
        fmt::format("the value of {} is {} bytes, more than Options::max_value_bytes ({})",
                    Describe(ns, key), value.size(), options_.max_value_bytes));
  }
  if (write.ttl && (*write.ttl < milliseconds(0) || *write.ttl > kMaxTtl)) {
    return Status::InvalidArgument(fmt::format(
        "WriteOptions::ttl = {} for {} is out of range: must be 0 (never expires) .. 100 years",
        *write.ttl, Describe(ns, key)));
  }
  return Status::OK();
}

Status Cache::Impl::MakeEntry(std::string_view key, std::string_view value,
                              const WriteOptions& write, TimePoint now, Entry* entry) {
  entry->key = key;
  entry->value = value;
  entry->created_at = entry->last_accessed = now;
  const milliseconds ttl = write.ttl.value_or(options_.default_ttl);
  entry->expires_at.reset();
  if (ttl.count() > 0) entry->expires_at = entry->created_at + ttl;
  entry->metadata = write.metadata;
  entry->access_count = 0;
  return versions_->Next(&entry->version);
}

Status Cache::Impl::Write(std::string_view ns, std::string_view key, std::string_view value,
                          const WriteOptions& write, std::optional<std::uint64_t> expected,
                          std::uint64_t* version, Counting counting) {
  engine::CallGate::Pass pass;
  Status s = Enter(&pass);
  if (s.ok()) s = CheckWrite(ns, key, value, write);
  storage::Namespace n;
  if (s.ok() && expected.value_or(0) != 0) {
    // Only an existing entry can be at that version: no namespace is created.
    std::optional<std::uint32_t> id;
    s = FindNamespace(ns, &id);
    if (s.ok() && !id) {
      return Status::Conflict(fmt::format("{}: no such namespace, so not at expected version {}",
                                          Describe(ns, key), *expected));
    }
    if (id) n = {*id, std::string(ns)};
  } else if (s.ok()) {
    s = namespaces_->Open(ns, &n);
  }
  if (!s.ok()) return s;
  return WriteKey(n, key, value, write, expected, version, counting);
}

// REQUIRES: a pass held, and the write checked.
Status Cache::Impl::WriteKey(const storage::Namespace& ns, std::string_view key,
                             std::string_view value, const WriteOptions& write,
                             std::optional<std::uint64_t> expected, std::uint64_t* version,
                             Counting counting) {
  const engine::HashedKey hashed(ns.id, key);
  auto lock = LockKey(hashed);
  Status s;
  if (expected) {
    std::uint64_t current = 0;
    s = CurrentVersion(ns, hashed, counting, &current);
    if (!s.ok()) return s;
    if (current != *expected) {
      return Status::Conflict(fmt::format("{} is at version {}, not the expected {}",
                                          Describe(ns.name, key), current, *expected));
    }
  }
  // Reused by the thread's writes: its strings keep their capacity. Of the
  // application's code only its Clock runs until this write is done with it
  // (removal events wait for the lock's release), so a write from a listener
  // cannot reach it while it is in use.
  thread_local Entry entry;
  TimePoint now = Now();
  s = MakeEntry(key, value, write, now, &entry);
  if (s.ok()) s = WriteLocked(ns, hashed, entry, now);
  if (s.ok() && version != nullptr) *version = entry.version;
  if (entry.value.capacity() > kKeptValueCapacity) entry.value = std::string();
  return s;
}

// REQUIRES: the key's lock held, and `key` the entry's. RocksDB (or the write
// buffer) first, then L1, so that L1 is never newer than what is acknowledged
// below it. `now`: the time the entry was made at. A write-behind Put reads
// the clock once unless it waits for room (a reading costs 45 ns on the
// machine measured, the whole Put about 1.5 us); write-through reads it again
// after the disk's write.
Status Cache::Impl::WriteLocked(const storage::Namespace& ns, const engine::HashedKey& key,
                                const Entry& entry, TimePoint now) {
  engine::ThreadCodec& codec = engine::CodecFor(options_);
  storage::StoredValue stored;
  Status s = codec.encoder->Encode(entry, &codec.record, &stored);
  if (s.ok() && write_behind_) {
    s = write_behind_->Add(engine::BufferedWrite{ns.id, entry.key, codec.record, false}, &now);
  } else if (s.ok()) {
    s = store_->Put(ns, entry.key, codec.record);
    if (s.ok()) counters_.disk_writes.fetch_add(1, std::memory_order_relaxed);
    // RocksDB may have taken the write before failing (an allocation refused
    // on the way back): no older copy stays in L1 above it.
    if (!s.ok()) memory_->Erase(key, RemovalCause::kDeleted);
  }
  if (!s.ok()) return s;
  if (options_.write_policy == WritePolicy::kWriteThrough) now = Now();  // for L1's insert
  Written(ns, key, entry, stored, now);
  return Status::OK();
}

// REQUIRES: the key's lock held, `key` the entry's, and the entry
// acknowledged below L1; `now` a reading of the clock no earlier than the
// entry's making. L1 takes it (or, under write-around, drops the key); the
// loader's "not found" for the key is forgotten.
void Cache::Impl::Written(const storage::Namespace& ns, const engine::HashedKey& key,
                          const Entry& entry, const storage::StoredValue& stored, TimePoint now) {
  if (options_.write_policy == WritePolicy::kWriteAround) {
    memory_->Erase(key, RemovalCause::kReplaced);  // by a version L1 does not take
  } else {
    StoreInMemory(key, entry, stored, /*refill=*/false, now, nullptr);
  }
  if (options_.negative_ttl.count() > 0) negatives_.Erase(engine::FlightKey(ns.name, entry.key));
}

Status Cache::Impl::PutMany(std::string_view ns, const std::vector<KeyValue>& pairs,
                            const WriteOptions& write) {
  engine::CallGate::Pass pass;
  Status s = Enter(&pass);
  for (std::size_t i = 0; s.ok() && i < pairs.size(); ++i) {
    s = CheckWrite(ns, pairs[i].key, pairs[i].value, write);
  }
  storage::Namespace n;
  if (s.ok()) s = namespaces_->Open(ns, &n);
  if (!s.ok()) return s;
  if (!write_behind_) return PutManyAtomically(n, pairs, write);
  for (const KeyValue& pair : pairs) {
    s = WriteKey(n, pair.key, pair.value, write, std::nullopt, nullptr, Counting::kCounted);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// One RocksDB batch under the locks of every key: all or none.
Status Cache::Impl::PutManyAtomically(const storage::Namespace& ns,
                                      const std::vector<KeyValue>& pairs,
                                      const WriteOptions& write) {
  std::vector<std::string_view> keys;
  keys.reserve(pairs.size());
  for (const KeyValue& pair : pairs) keys.push_back(pair.key);
  auto locks = LockKeys(ns.id, keys);

  std::vector<Entry> entries(pairs.size());
  // How each record stores its value, for L1; an lz4 block is copied out of
  // the encoder, which reuses its buffer for the next entry.
  std::vector<storage::StoredValue> stored(pairs.size());
  std::vector<std::string> blocks(pairs.size());
  storage::StoreBatch batch = store_->NewBatch();
  engine::ThreadCodec& codec = engine::CodecFor(options_);
  const TimePoint now = Now();
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    Status s = MakeEntry(pairs[i].key, pairs[i].value, write, now, &entries[i]);
    if (s.ok()) s = codec.encoder->Encode(entries[i], &codec.record, &stored[i]);
    if (s.ok()) s = batch.Put(ns, pairs[i].key, codec.record);
    if (!s.ok()) return s;
    if (stored[i].codec == storage::kCodecLz4) {
      blocks[i] = stored[i].bytes;
      stored[i].bytes = blocks[i];
    }
  }
  Status s = store_->Write(&batch);
  if (!s.ok()) {
    // As for one Put: RocksDB may have taken the batch before failing.
    for (std::string_view key : keys) memory_->Erase(ns.id, key, RemovalCause::kDeleted);
    return s;
  }
  counters_.disk_writes.fetch_add(entries.size(), std::memory_order_relaxed);
  const TimePoint written = Now();
  std::size_t i = 0;
  try {
    for (; i < entries.size(); ++i) {
      Written(ns, engine::HashedKey(ns.id, keys[i]), entries[i], stored[i], written);
    }
  } catch (...) {
    // The keys not yet written to L1 leave it rather than keep older copies.
    for (; i < entries.size(); ++i) memory_->Erase(ns.id, keys[i], RemovalCause::kDeleted);
    throw;
  }
  return Status::OK();
}

Status Cache::Impl::Delete(std::string_view ns, std::string_view key) {
  engine::CallGate::Pass pass;
  Status s = Enter(&pass);
  std::optional<std::uint32_t> id;
  if (s.ok()) s = storage::CheckKey(key);
  if (s.ok()) s = FindNamespace(ns, &id);
  if (!s.ok()) return s;
  if (options_.negative_ttl.count() > 0) negatives_.Erase(engine::FlightKey(ns, key));
  if (!id) return Status::OK();
  const storage::Namespace n{*id, std::string(ns)};
  const engine::HashedKey hashed(n.id, key);
  auto lock = LockKey(hashed);
  return DeleteLocked(n, hashed);
}

Status Cache::Impl::DeleteLocked(const storage::Namespace& ns, const engine::HashedKey& key) {
  Status s;
  if (write_behind_) {
    TimePoint now = Now();
    s = write_behind_->Add(engine::BufferedWrite{key.ns, key.key, {}, true}, &now);
  } else {
    s = store_->Delete(ns, key.key);
    if (s.ok()) counters_.disk_writes.fetch_add(1, std::memory_order_relaxed);
  }
  // A store that failed may have taken the delete first.
  if (s.ok() || !write_behind_) memory_->Erase(key, RemovalCause::kDeleted);
  return s;
}

// A refresh's: a failure leaves the entry, as a failed refresh does.
void Cache::Impl::DeleteIfAt(std::string_view ns, std::string_view key, std::uint64_t version) {
  engine::CallGate::Pass pass;
  std::uint32_t id = 0;
  if (!Enter(&pass).ok() || !namespaces_->Find(ns, &id)) return;
  const storage::Namespace n{id, std::string(ns)};
  const engine::HashedKey hashed(id, key);
  auto lock = LockKey(hashed);
  std::uint64_t current = 0;
  if (CurrentVersion(n, hashed, Counting::kQuiet, &current).ok() && current == version) {
    static_cast<void>(DeleteLocked(n, hashed));
  }
}

Status Cache::Impl::DropNamespace(std::string_view ns) {
  engine::CallGate::Pass pass;
  Status s = Enter(&pass);
  storage::Namespace dropped;
  if (s.ok()) s = namespaces_->Drop(ns, &dropped);
  if (s.ok()) memory_->EraseNamespace(dropped.id);
  return s;
}

// The flusher's batch, put in key order, as one store batch. Near the
// free-space reserve the store may refuse a whole batch whose parts still fit:
// it is then written in parts of kPartBytes, so that a buffer larger than half
// the headroom does not stall until far more space is freed; so is a batch the
// system has no memory to build whole (NoSpace from the batch). *written: how
// many of the sorted writes the store holds, so that a retry after a failed
// part starts where it failed.
Status Cache::Impl::WriteBatch(std::vector<engine::BufferedWrite>* writes,
                               std::size_t* written) {
  engine::SortInKeyOrder(writes);
  Status s = WriteInParts(*writes, std::numeric_limits<std::size_t>::max(), written);
  if (s.IsNoSpace()) s = WriteInParts(*writes, kPartBytes, written);
  return s;
}

// Writes `sorted` as store batches of about part_bytes each; *written: the
// writes before the first part that failed. Writes of a namespace dropped
// since they were buffered are left out: the namespace's records are gone, and
// so are they. Those of a drop that comes between this check and the write
// the store leaves out.
Status Cache::Impl::WriteInParts(const std::vector<engine::BufferedWrite>& sorted,
                                 std::size_t part_bytes, std::size_t* written) {
  *written = 0;
  if (!flush_batch_) flush_batch_.emplace(store_->NewBatch());
  storage::StoreBatch& batch = *flush_batch_;
  batch.Clear();  // a failed part's writes stay until here
  storage::Namespace ns{0, {}};
  bool live = false;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const engine::BufferedWrite& write = sorted[i];
    if (write.ns != ns.id) {  // in key order, a namespace's writes come together
      ns.id = write.ns;
      live = namespaces_->IsLive(ns.id);
    }
    if (!live) continue;
    Status s = write.is_delete ? batch.Delete(ns, write.key)
                               : batch.Put(ns, write.key, write.record);
    if (s.ok() && batch.ApproximateBytes() >= part_bytes) {
      s = WritePart(&batch);
      if (s.ok()) *written = i + 1;
    }
    if (!s.ok()) return s;
  }
  Status s = WritePart(&batch);
  if (s.ok()) *written = sorted.size();
  return s;
}

// Writes the batch to the store, unless it is empty, and clears it; a batch
// that failed keeps its writes.
Status Cache::Impl::WritePart(storage::StoreBatch* batch) {
  if (batch->Count() == 0) return Status::OK();
  std::size_t written = 0;
  Status s = store_->Write(batch, storage::Store::DroppedNamespaces::kLeaveOut, &written);
  if (!s.ok()) return s;
  counters_.disk_writes.fetch_add(written, std::memory_order_relaxed);
  batch->Clear();
  return s;
}

// Refreshes asked for before the call first: what they store is a write the
// cache took on, like a buffered one.
Status Cache::Impl::Flush(milliseconds deadline) {
  Status s = CheckOpen();
  if (s.ok()) s = CheckDeadline("Flush", deadline);
  if (!s.ok()) return s;
  // Clamped, so that a deadline meant as "forever" does not overflow the clock.
  const auto until = std::chrono::steady_clock::now() + std::min(deadline, kMaxWait);
  if (refresher_ && !refresher_->WaitFor(until)) {
    return Status::TimedOut(fmt::format(
        "Flush: refreshes asked for before it had not all ended at its deadline ({})", deadline));
  }
  if (!write_behind_) return s;
  const auto left = std::chrono::ceil<milliseconds>(until - std::chrono::steady_clock::now());
  return write_behind_->Flush(std::max(left, milliseconds(0)));
}

// New calls are refused first; the calls already inside end (a writer waiting
// for the write buffer's room at most write_buffer.max_wait); then the buffer
// drains and the store closes.
Status Cache::Impl::Close(milliseconds deadline, std::vector<NamespacedKey>* unwritten) {
  if (Status s = CheckDeadline("Close", deadline); !s.ok()) return s;
  if (!gate_.Close()) {
    return Status::InvalidArgument(fmt::format("the cache at {} is already closed", options_.path));
  }
  // A refresh running now ends: its store refused, the entry stays as it was.
  if (refresher_) refresher_->Stop();
  gate_.WaitUntilEmpty();
  Status s;
  if (write_behind_) {
    std::vector<engine::BufferedWrite> left;
    s = write_behind_->Close(deadline, &left);
    for (const engine::BufferedWrite& write : left) {
      if (unwritten != nullptr) {
        unwritten->push_back({namespaces_->NameOf(write.ns), std::string(write.key)});
      }
    }
  }
  flush_batch_.reset();
  store_.reset();
  return s;
}

void Cache::Impl::OnRemoval(const engine::Removal& removal) {
  engine::RemovalHold::Tell(options_.listener.get(), namespaces_->NameOf(removal.ns), removal);
}

CacheStats Cache::Impl::GetStats() const {
  CacheStats stats;
  const engine::TierStats memory = memory_->Stats();
  stats.memory = {memory.hits,    memory.misses,
                  memory.evicted, memory.expired,
                  memory.erased + memory.replaced,
                  memory.entries, memory.bytes,
                  memory.hit_ratio()};
  const auto load = [](const std::atomic<std::uint64_t>& c) { return c.load(); };
  stats.disk = {load(counters_.disk_hits), load(counters_.disk_misses),
                load(counters_.disk_writes), load(counters_.corrupt)};
  if (write_behind_) {
    const engine::WriteBehind::Stats buffer = write_behind_->GetStats();
    stats.write_buffer = {buffer.entries,  buffer.bytes,   buffer.flushes,
                          buffer.failures, buffer.refused, buffer.oldest_age};
  }
  const std::uint64_t raw = counters_.memory_value_bytes.load();
  if (raw > 0) {
    stats.compression_ratio =
        static_cast<double>(counters_.memory_stored_bytes.load()) / static_cast<double>(raw);
  }
  stats.loads = {load(counters_.loads), load(counters_.loads_shared),
                 load(counters_.load_errors), load(counters_.negative_hits),
                 load(counters_.loads_unstored), load(counters_.bulk_loads),
                 load(counters_.load_wait_timeouts), load(counters_.refreshes),
                 refresher_ ? refresher_->dropped() : 0, refresher_ ? refresher_->queued() : 0};
  return stats;
}

}  // namespace tiercache
