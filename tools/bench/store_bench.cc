// `tiercache bench store`: Put throughput of each write policy beside raw
// RocksDB Put and WriteBatch, and the throughput of a Get that misses L1 and
// hits RocksDB beside raw RocksDB Get, per durability, in the same run, on
// the same 16-byte keys and 100-byte values.
//
// The raw baselines open RocksDB with the store's own configuration
// (storage::MakeRocksDbConfig: the same DB options, column families,
// memtable, block cache, table options and per-write sync) and write to the
// same data column family, without the expiry compaction filter; so what
// separates a figure from its baseline is the cache itself: versions, the
// record codec, L1, the write buffer and the store's checks, and one setting
// of its calls: the store turns off RocksDB's per-thread perf counting while
// it calls RocksDB (storage/store.cc), where raw RocksDB keeps its default and
// counts.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "storage/key_layout.h"
#include "storage/perf_counting.h"
#include "storage/rocksdb_options.h"
#include "storage/store.h"
#include "tiercache/cache.h"
#include "tools/bench/bench.h"
#include "tools/bench/scratch_dir.h"

namespace tiercache::tool {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kBatchEntries = 100;        // rocksdb_batch
constexpr std::size_t kLoadBatchEntries = 1'000;  // filling the stores the Gets read
constexpr std::size_t kReadKeys = 100'000;        // each Get pass reads these once
constexpr std::size_t kMaxWrites = 300'000;       // distinct keys, enough for any Plan
constexpr int kStoreRounds = 3;                   // the median round counts
// The read passes are short (a pass of Gets takes under half a second) and, on
// a shared machine, the noisiest: a median of more rounds steadies them.
constexpr int kReadRounds = 9;
constexpr auto kFlushDeadline = std::chrono::seconds(60);
constexpr std::string_view kNamespace = "bench";

// An L1 this small cannot hold a key between two random reads of 100,000.
constexpr std::size_t kTinyL1Entries = 16;
constexpr std::size_t kTinyL1Bytes = 64 * 1024;
// GetMany and raw MultiGet read this many keys per call.
constexpr std::size_t kGetManyKeys = 100;
// The cache's calls and raw RocksDB's alternate in slices of this many keys
// (AlternatingRates); synced Puts under power-loss in slices of Plan::synced_slice.
constexpr std::size_t kSliceKeys = 1'000;

// The lz4 figures: values a text of this size from a small vocabulary (lz4
// makes them about 0.4 of their size), as many keys as each pass writes and reads.
constexpr std::size_t kCompressibleBytes = 4096;
constexpr std::size_t kCompressibleKeys = 20'000;
// The refresh figures read these keys, all in L1, this many times per pass.
constexpr std::size_t kRefreshKeys = 1'000;
constexpr std::size_t kRefreshPasses = 200;

constexpr double kTargetWriteThroughVsPut = 0.8;
constexpr double kTargetWriteBehindVsWriteThrough = 3.0;
constexpr double kTargetWriteBehindVsBatch = 0.6;
constexpr double kTargetGetVsRawGet = 0.8;

// How many writes each figure takes at a durability. Under power-loss every
// synced write waits for the disk (0.1 to 1.5 ms on the machine measured): the figures
// that sync per write take fewer, the batched ones (write-behind, WriteBatch)
// enough for many batches.
struct Plan {
  Durability durability;
  std::size_t synced_writes;   // write-through, write-around, rocksdb_put
  std::size_t synced_slice;    // the three take turns in slices of this many writes
  std::size_t batched_writes;  // write-behind, rocksdb_batch
};
constexpr Plan kPlans[] = {
    {Durability::kProcessCrash, 300'000, kSliceKeys, 300'000},
    {Durability::kPowerLoss, 1'000, 100, 20'000},
};

// Distinct 16-byte keys in no particular order, each with a 100-byte value.
struct Data {
  std::vector<std::string> keys;
  std::vector<std::string> values;
};

Data MakeData(std::size_t n) {
  Data data;
  std::mt19937_64 rng(7);
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  for (std::size_t i = 0; i < n; ++i) {
    // An odd multiplier is a bijection on 64 bits: the keys are distinct.
    data.keys.push_back(fmt::format("{:0{}x}", (i + 1) * 0x9E3779B97F4A7C15ull, kKeyBytes));
    std::string value(kValueBytes, ' ');
    for (char& c : value) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
    data.values.push_back(std::move(value));
  }
  return data;
}

// kCompressibleBytes of words, for the lz4 figures.
Data MakeCompressibleData(std::size_t n) {
  static constexpr std::string_view kWords[] = {"alpha ", "beta ",    "gamma ", "delta ",
                                                "epsilon ", "zeta ", "eta ",   "theta "};
  Data data;
  std::mt19937_64 rng(7);
  for (std::size_t i = 0; i < n; ++i) {
    data.keys.push_back(fmt::format("{:0{}x}", (i + 1) * 0x9E3779B97F4A7C15ull, kKeyBytes));
    std::string value;
    while (value.size() < kCompressibleBytes) value.append(kWords[rng() % std::size(kWords)]);
    value.resize(kCompressibleBytes);
    data.values.push_back(std::move(value));
  }
  return data;
}

// What the lz4 section measured: write-through Puts and L1-miss Gets of
// compressible values with Options::compression = kLz4, beside raw RocksDB
// (whose blocks are lz4-compressed too) with the same values.
struct Lz4Figures {
  double write_through = 0;
  double rocksdb_put = 0;
  double get_store_hit = 0;
  double rocksdb_get = 0;
  double memory_ratio = 0;  // CacheStats::compression_ratio
};

// What the refresh section measured: L1-hit Gets under read-through without
// and with refresh_after_write: with no entry due, what the check costs every
// Get; with every entry due and its refresh asked for, what a Get of an entry
// awaiting its refresh costs.
struct RefreshFigures {
  double get_l1_hit = 0;
  double get_l1_hit_refreshing = 0;
  double get_l1_hit_due = 0;
};

// What one durability measured, in operations per second.
struct StoreFigures {
  Durability durability = Durability::kProcessCrash;
  double write_through = 0;
  double write_behind = 0;
  double write_around = 0;
  double rocksdb_put = 0;
  double rocksdb_batch = 0;
  double get_store_hit = 0;
  double rocksdb_get = 0;
  // Raw Get with RocksDB's perf counting off, as the store has it, and the
  // cache's Get in slices alternating with it.
  double rocksdb_get_uncounted = 0;
  double get_store_hit_beside_uncounted = 0;
  double l1_miss_share = 0;       // of the measured Gets, those RocksDB answered
  // Raw Get of the cache's own data keys and records, copied into a raw
  // RocksDB, and raw Get of the bare keys and values in slices alternating
  // with it: what the record format alone costs RocksDB's Get.
  double rocksdb_get_records = 0;
  double rocksdb_get_beside_records = 0;
  double get_many_store_hit = 0;  // keys per second, kGetManyKeys at a time
  double rocksdb_multiget = 0;    // keys per second, kGetManyKeys at a time
};

Status FromRocksDb(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  return Status::IOError(fmt::format("raw RocksDB {}: {}", what, s.ToString()));
}

// A bare RocksDB configured as a store (storage/rocksdb_options.cc), writing
// to the data column family with the store's write options.
// Thread-safety: as rocksdb::DB. Owns the DB and its handles.
class RawDb {
 public:
  static Status Open(const std::string& path, Durability durability, std::unique_ptr<RawDb>* raw) {
    if (path.empty()) return Status::IOError("cannot create a temporary directory");
    storage::StoreOptions store;
    store.path = path;
    store.durability = durability;
    const storage::RocksDbConfig config = storage::MakeRocksDbConfig(store, nullptr, nullptr, true);
    std::unique_ptr<RawDb> opened(new RawDb(durability));
    rocksdb::DB* db = nullptr;
    const rocksdb::Status s =
        rocksdb::DB::Open(config.db, path, config.families, &opened->handles_, &db);
    opened->db_.reset(db);
    if (s.ok()) *raw = std::move(opened);
    return FromRocksDb(s, "open");
  }

  ~RawDb() {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) {
      static_cast<void>(db_->DestroyColumnFamilyHandle(handle));
    }
  }

  Status Put(std::string_view key, std::string_view value) {
    return FromRocksDb(db_->Put(write_, data(), ToSlice(key), ToSlice(value)), "Put");
  }
  Status Write(rocksdb::WriteBatch* batch) {
    return FromRocksDb(db_->Write(write_, batch), "Write");
  }
  Status Get(std::string_view key, std::string* value) {
    return FromRocksDb(db_->Get(rocksdb::ReadOptions(), data(), ToSlice(key), value), "Get");
  }
  // Get with RocksDB's per-thread perf counting off for the call, as the
  // store's Get has it.
  Status GetUncounted(std::string_view key, std::string* value) {
    const storage::PerfCountingOff quiet;
    return Get(key, value);
  }
  // RocksDB's batched MultiGet of `keys`; the first failure, if any.
  Status MultiGet(const std::vector<rocksdb::Slice>& keys,
                  std::vector<rocksdb::PinnableSlice>* values,
                  std::vector<rocksdb::Status>* statuses) {
    values->resize(keys.size());
    statuses->resize(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), data(), keys.size(), keys.data(), values->data(),
                  statuses->data());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      (*values)[i].Reset();
      if (!(*statuses)[i].ok()) return FromRocksDb((*statuses)[i], "MultiGet");
    }
    return Status::OK();
  }
  // Flushes the memtable and compacts everything, as Store::Compact does.
  Status Compact() {
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    return FromRocksDb(db_->CompactRange(compact, data(), nullptr, nullptr), "CompactRange");
  }
  // Puts every key and value of this database's data family into `to`, in
  // batches of `per_batch`.
  Status CopyDataTo(RawDb& to, std::size_t per_batch) {
    const std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), data()));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rocksdb::Status s = batch.Put(to.data(), it->key(), it->value());
      if (s.ok() && batch.Count() == per_batch) {
        s = to.db_->Write(to.write_, &batch);
        batch.Clear();
      }
      if (!s.ok()) return FromRocksDb(s, "Write of copied records");
    }
    if (!it->status().ok()) return FromRocksDb(it->status(), "Iterator");
    return batch.Count() == 0 ? Status::OK() : to.Write(&batch);
  }
  rocksdb::ColumnFamilyHandle* data() const { return handles_[storage::kDataFamilyIndex]; }

 private:
  explicit RawDb(Durability durability) : write_(storage::DataWriteOptions(durability)) {}
  static rocksdb::Slice ToSlice(std::string_view v) { return {v.data(), v.size()}; }

  const rocksdb::WriteOptions write_;
  std::unique_ptr<rocksdb::DB> db_;  // declared first: destroyed after the handles go
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

// Writes back what earlier measurements left dirty in the page cache (their
// WAL and table files), so that the kernel's writeback does not take a core
// from this one: measured, a write-behind run right after a write-through
// one lost a third of its rate to it.
void Settle() { ::sync(); }

// Calls op(i) for i in [0, n), then finish(); *rate: the calls per second of
// the whole. Stops at the first failure and returns it.
template <typename Op, typename Finish>
Status TimeOps(std::size_t n, Op op, Finish finish, double* rate) {
  Settle();
  const SteadyClock::time_point start = SteadyClock::now();
  for (std::size_t i = 0; i < n; ++i) {
    Status s = op(i);
    if (!s.ok()) return s;
  }
  Status s = finish();
  if (!s.ok()) return s;
  *rate =
      static_cast<double>(n) / std::chrono::duration<double>(SteadyClock::now() - start).count();
  return Status::OK();
}

Status NothingToFinish() { return Status::OK(); }

// Calls each of `ops` with i for i in [0, n), in turns of `slice` calls:
// the first op's slice, the second's, and so on, then the first op's next
// slice; each op's slices are timed apart. (*rates)[k]: op k's calls per second.
// Measured so, not in whole passes one after the other, the ops share the
// moments of a shared machine whose speed drifts over seconds, and the moments
// of the background flushes and compactions of the stores they write: whole
// passes of the same Gets differed by up to 2x from one to the next, while a
// round's ratio in slices of 1,000 Gets stays within about 5 % of the next
// round's. Stops at the first failure and returns it.
template <typename... Ops>
Status AlternatingRates(std::size_t n, std::size_t slice,
                        std::array<double, sizeof...(Ops)>* rates, Ops... ops) {
  Settle();
  std::array<SteadyClock::duration, sizeof...(Ops)> spent{};
  Status s;
  for (std::size_t first = 0; first < n; first += slice) {
    const std::size_t end = std::min(n, first + slice);
    std::size_t k = 0;
    // Op k's slice; false at a failure, in s.
    const auto run = [&](auto& op) {
      const SteadyClock::time_point start = SteadyClock::now();
      for (std::size_t i = first; i < end; ++i) {
        s = op(i);
        if (!s.ok()) return false;
      }
      spent[k++] += SteadyClock::now() - start;
      return true;
    };
    if (!(run(ops) && ...)) return s;
  }
  for (std::size_t k = 0; k < spent.size(); ++k) {
    (*rates)[k] = static_cast<double>(n) / std::chrono::duration<double>(spent[k]).count();
  }
  return Status::OK();
}

Options CacheOptions(const std::string& path, WritePolicy policy, Durability durability) {
  Options options;
  options.path = path;
  options.write_policy = policy;
  options.durability = durability;
  return options;
}

// Puts of n keys into a fresh write-behind cache; a final Flush is part of
// the timing, so that every write has reached RocksDB.
Status WriteBehindRate(Durability durability, const Data& data, std::size_t n, double* rate) {
  ScratchDir dir;
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(CacheOptions(dir.path(), WritePolicy::kWriteBehind, durability), &cache);
  if (!s.ok()) return s;
  s = TimeOps(
      n, [&](std::size_t i) { return cache->Put(kNamespace, data.keys[i], data.values[i]); },
      [&] { return cache->Flush(kFlushDeadline); }, rate);
  const Status closed = cache->Close(kFlushDeadline);
  return s.ok() ? closed : s;
}

// Puts of n keys into three fresh stores, a write-through cache, a
// write-around cache and raw RocksDB, in alternating slices of `slice`
// (AlternatingRates); *rates in that order.
Status SyncedPutRates(Durability durability, const Data& data, std::size_t n, std::size_t slice,
                      std::array<double, 3>* rates) {
  ScratchDir through_dir;
  ScratchDir around_dir;
  ScratchDir raw_dir;
  std::unique_ptr<Cache> through;
  std::unique_ptr<Cache> around;
  std::unique_ptr<RawDb> raw;
  Status s = Cache::Open(
      CacheOptions(through_dir.path(), WritePolicy::kWriteThrough, durability), &through);
  if (s.ok()) {
    s = Cache::Open(CacheOptions(around_dir.path(), WritePolicy::kWriteAround, durability),
                    &around);
  }
  if (s.ok()) s = RawDb::Open(raw_dir.path(), durability, &raw);
  if (s.ok()) {
    s = AlternatingRates(
        n, slice, rates,
        [&](std::size_t i) { return through->Put(kNamespace, data.keys[i], data.values[i]); },
        [&](std::size_t i) { return around->Put(kNamespace, data.keys[i], data.values[i]); },
        [&](std::size_t i) { return raw->Put(data.keys[i], data.values[i]); });
  }
  for (Cache* cache : {through.get(), around.get()}) {
    if (cache == nullptr) continue;
    const Status closed = cache->Close(kFlushDeadline);
    if (s.ok()) s = closed;
  }
  return s;
}

// Writes keys [begin, end) to *batch for the data column family.
Status FillBatch(RawDb& db, const Data& data, std::size_t begin, std::size_t end,
                 rocksdb::WriteBatch* batch) {
  batch->Clear();
  for (std::size_t i = begin; i < end; ++i) {
    const rocksdb::Status s = batch->Put(db.data(), data.keys[i], data.values[i]);
    if (!s.ok()) return FromRocksDb(s, "WriteBatch::Put");
  }
  return Status::OK();
}

// Writes of n keys in batches of `per_batch`, one RocksDB Write each.
Status WriteBatches(RawDb& db, const Data& data, std::size_t n, std::size_t per_batch) {
  rocksdb::WriteBatch batch;
  for (std::size_t begin = 0; begin < n; begin += per_batch) {
    Status s = FillBatch(db, data, begin, std::min(n, begin + per_batch), &batch);
    if (s.ok()) s = db.Write(&batch);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status RawBatchRate(Durability durability, const Data& data, std::size_t n, double* rate) {
  ScratchDir dir;
  std::unique_ptr<RawDb> db;
  Status s = RawDb::Open(dir.path(), durability, &db);
  if (!s.ok()) return s;
  Settle();
  const SteadyClock::time_point start = SteadyClock::now();
  s = WriteBatches(*db, data, n, kBatchEntries);
  *rate =
      static_cast<double>(n) / std::chrono::duration<double>(SteadyClock::now() - start).count();
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The write figures of one durability: each the median of kStoreRounds rounds.
// Each round writes fresh stores: write-through, write-around and raw Puts in
// alternating slices, then write-behind and raw WriteBatch each on its own
// (write-behind's flusher would write on through the other's slices).
Status MeasureWrites(const Plan& plan, const Data& data, StoreFigures* figures) {
  std::vector<double> rates[5];
  const Durability d = plan.durability;
  for (int round = 0; round < kStoreRounds; ++round) {
    std::array<double, 3> synced{};
    double behind = 0;
    double batch = 0;
    Status s = SyncedPutRates(d, data, plan.synced_writes, plan.synced_slice, &synced);
    if (s.ok()) s = WriteBehindRate(d, data, plan.batched_writes, &behind);
    if (s.ok()) s = RawBatchRate(d, data, plan.batched_writes, &batch);
    if (!s.ok()) return s;
    rates[0].push_back(synced[0]);
    rates[1].push_back(behind);
    rates[2].push_back(synced[1]);
    rates[3].push_back(synced[2]);
    rates[4].push_back(batch);
  }
  figures->write_through = Median(rates[0]);
  figures->write_behind = Median(rates[1]);
  figures->write_around = Median(rates[2]);
  figures->rocksdb_put = Median(rates[3]);
  figures->rocksdb_batch = Median(rates[4]);
  return Status::OK();
}

// A store holding the first kReadKeys keys, compacted, so that the Gets find
// what a raw RocksDB with the same writes and compaction holds.
Status FillStore(const std::string& path, Durability durability, const Data& data) {
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(CacheOptions(path, WritePolicy::kWriteAround, durability), &cache);
  std::vector<KeyValue> pairs;
  for (std::size_t i = 0; s.ok() && i < kReadKeys; i += kLoadBatchEntries) {
    pairs.clear();
    for (std::size_t j = i; j < std::min(kReadKeys, i + kLoadBatchEntries); ++j) {
      pairs.push_back({data.keys[j], data.values[j]});
    }
    s = cache->PutMany(kNamespace, pairs);
  }
  if (cache) {
    const Status closed = cache->Close(kFlushDeadline);
    if (s.ok()) s = closed;
  }
  if (!s.ok()) return s;
  storage::StoreOptions options;
  options.path = path;
  std::unique_ptr<storage::Store> store;
  s = storage::Store::Open(options, &store);
  return s.ok() ? store->Compact() : s;
}

// A cache over the filled store whose L1 holds kTinyL1Entries: a random Get
// of 100,000 keys misses it and reads RocksDB.
Status OpenTinyL1(const std::string& path, Durability durability, std::unique_ptr<Cache>* cache) {
  Options options = CacheOptions(path, WritePolicy::kWriteThrough, durability);
  options.l1_max_entries = kTinyL1Entries;
  options.l1_shards = 1;
  options.l1_max_bytes = kTinyL1Bytes;
  options.max_value_bytes = 1024;
  options.write_buffer.max_bytes = kTinyL1Bytes;
  return Cache::Open(options, cache);
}

// A raw RocksDB holding what the filled store at `store_path` holds in its
// data family, compacted; *data_keys[i]: data.keys[i] as the store encodes it.
Status CopyRecords(const std::string& store_path, const std::string& path, Durability durability,
                   const Data& data, std::unique_ptr<RawDb>* records,
                   std::vector<std::string>* data_keys) {
  std::optional<std::uint32_t> id;
  {
    std::unique_ptr<storage::Store> store;
    storage::StoreOptions options;
    options.path = store_path;
    Status s = storage::Store::Open(options, &store);
    std::vector<storage::Namespace> namespaces;
    if (s.ok()) s = store->ListNamespaces(&namespaces);
    if (!s.ok()) return s;
    for (const storage::Namespace& ns : namespaces) {
      if (ns.name == kNamespace) id = ns.id;
    }
  }
  if (!id) {
    return Status::NotFound(fmt::format("the filled store has no namespace '{}'", kNamespace));
  }
  data_keys->resize(kReadKeys);
  for (std::size_t i = 0; i < kReadKeys; ++i) {
    storage::EncodeDataKey(*id, data.keys[i], &(*data_keys)[i]);
  }
  std::unique_ptr<RawDb> store;
  Status s = RawDb::Open(store_path, durability, &store);
  if (s.ok()) s = RawDb::Open(path, durability, records);
  if (s.ok()) s = store->CopyDataTo(**records, kLoadBatchEntries);
  return s.ok() ? (*records)->Compact() : s;
}

// One pass of Gets over `order`; *rate in Gets per second.
template <typename Get>
Status GetPass(const Data& data, const std::vector<std::uint32_t>& order, Get get, double* rate) {
  std::string value;
  return TimeOps(
      order.size(), [&](std::size_t i) { return get(data.keys[order[i]], &value); },
      NothingToFinish, rate);
}

// Which Get of raw RocksDB a figure measures.
enum class RawGet { kDefault, kUncounted };

// Gets of data.keys[order[i]] for each i, from the cache and from raw RocksDB
// in alternating slices; *rates: the cache's Gets per second, then raw RocksDB's.
Status AlternatingGets(Cache& cache, RawDb& raw, const Data& data,
                       const std::vector<std::uint32_t>& order, RawGet raw_get,
                       std::array<double, 2>* rates) {
  std::string value;
  return AlternatingRates(
      order.size(), kSliceKeys, rates,
      [&](std::size_t i) { return cache.Get(kNamespace, data.keys[order[i]], &value); },
      [&](std::size_t i) {
        const std::string& key = data.keys[order[i]];
        return raw_get == RawGet::kDefault ? raw.Get(key, &value) : raw.GetUncounted(key, &value);
      });
}

// Gets of kReadKeys keys in a random order from the cache (each missing L1) and
// from a raw RocksDB holding the same keys and values, in alternating slices,
// for kReadRounds rounds; a first, untimed round warms both block caches. Then
// kReadRounds more beside raw RocksDB's Get with its perf counting off, in
// passes of their own: the two raw Gets cannot take turns in one pass, as
// each would read the very keys the other had just read.
Status MeasureGets(Durability durability, const Data& data, StoreFigures* figures) {
  ScratchDir store_dir;
  ScratchDir raw_dir;
  ScratchDir records_dir;
  std::unique_ptr<RawDb> raw;
  std::unique_ptr<RawDb> records;
  std::vector<std::string> data_keys;
  Status s = FillStore(store_dir.path(), durability, data);
  if (s.ok()) {
    s = CopyRecords(store_dir.path(), records_dir.path(), durability, data, &records, &data_keys);
  }
  if (s.ok()) s = RawDb::Open(raw_dir.path(), durability, &raw);
  if (s.ok()) s = WriteBatches(*raw, data, kReadKeys, kLoadBatchEntries);
  if (s.ok()) s = raw->Compact();
  std::unique_ptr<Cache> cache;
  if (s.ok()) s = OpenTinyL1(store_dir.path(), durability, &cache);
  if (!s.ok()) return s;

  std::vector<std::uint32_t> order(kReadKeys);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(11));
  std::vector<double> store_rates, raw_rates, beside_uncounted, uncounted_rates;
  std::array<double, 2> rates{};
  s = AlternatingGets(*cache, *raw, data, order, RawGet::kDefault, &rates);
  const CacheStats before = cache->GetStats();
  for (int round = 0; s.ok() && round < kReadRounds; ++round) {
    s = AlternatingGets(*cache, *raw, data, order, RawGet::kDefault, &rates);
    store_rates.push_back(rates[0]);
    raw_rates.push_back(rates[1]);
  }
  const CacheStats after = cache->GetStats();
  for (int round = 0; s.ok() && round < kReadRounds; ++round) {
    s = AlternatingGets(*cache, *raw, data, order, RawGet::kUncounted, &rates);
    beside_uncounted.push_back(rates[0]);
    uncounted_rates.push_back(rates[1]);
  }
  std::vector<double> record_rates, beside_records;
  std::string value;
  const auto get_record = [&](std::size_t i) { return records->Get(data_keys[order[i]], &value); };
  const auto get_bare = [&](std::size_t i) { return raw->Get(data.keys[order[i]], &value); };
  // A first, untimed round warms the copy's block cache.
  if (s.ok()) s = AlternatingRates(order.size(), kSliceKeys, &rates, get_record, get_bare);
  for (int round = 0; s.ok() && round < kReadRounds; ++round) {
    s = AlternatingRates(order.size(), kSliceKeys, &rates, get_record, get_bare);
    record_rates.push_back(rates[0]);
    beside_records.push_back(rates[1]);
  }
  if (!s.ok()) return s;
  figures->get_store_hit = Median(store_rates);
  figures->rocksdb_get = Median(raw_rates);
  figures->get_store_hit_beside_uncounted = Median(beside_uncounted);
  figures->rocksdb_get_uncounted = Median(uncounted_rates);
  figures->rocksdb_get_records = Median(record_rates);
  figures->rocksdb_get_beside_records = Median(beside_records);
  figures->l1_miss_share = static_cast<double>(after.disk.hits - before.disk.hits) /
                           static_cast<double>(kReadRounds * order.size());

  std::vector<std::string> keys(kGetManyKeys);
  std::vector<Status> statuses;
  std::vector<std::string> values;
  const auto cache_get_many = [&](std::size_t call) {
    const std::uint32_t* first = &order[call * kGetManyKeys];
    for (std::size_t i = 0; i < kGetManyKeys; ++i) keys[i] = data.keys[first[i]];
    cache->GetMany(kNamespace, keys, &statuses, &values);
    const auto failed = std::find_if(statuses.begin(), statuses.end(),
                                     [](const Status& status) { return !status.ok(); });
    return failed == statuses.end() ? Status::OK() : *failed;
  };
  std::vector<rocksdb::Slice> slices(kGetManyKeys);
  std::vector<rocksdb::PinnableSlice> pinned;
  std::vector<rocksdb::Status> raw_statuses;
  const auto raw_multiget = [&](std::size_t call) {
    const std::uint32_t* first = &order[call * kGetManyKeys];
    for (std::size_t i = 0; i < kGetManyKeys; ++i) slices[i] = data.keys[first[i]];
    return raw->MultiGet(slices, &pinned, &raw_statuses);
  };
  store_rates.clear();
  raw_rates.clear();
  for (int round = 0; s.ok() && round < kReadRounds; ++round) {
    s = AlternatingRates(order.size() / kGetManyKeys, kSliceKeys / kGetManyKeys, &rates,
                         cache_get_many, raw_multiget);
    store_rates.push_back(rates[0] * kGetManyKeys);
    raw_rates.push_back(rates[1] * kGetManyKeys);
  }
  if (!s.ok()) return s;
  figures->get_many_store_hit = Median(store_rates);
  figures->rocksdb_multiget = Median(raw_rates);
  return cache->Close(kFlushDeadline);
}

std::string Rate(double ops) { return fmt::format("{:>12.0f}/s", ops); }

// Puts kCompressibleKeys values into a cache with lz4 on and an L1 of
// kTinyL1Entries, then reads them in a pass that misses L1, both in slices
// alternating with raw RocksDB's; each figure the median of kStoreRounds.
Status MeasureLz4(const Data& data, Lz4Figures* figures) {
  std::vector<double> puts, raw_puts, gets, raw_gets;
  for (int round = 0; round < kStoreRounds; ++round) {
    ScratchDir cache_dir;
    ScratchDir raw_dir;
    Options options = CacheOptions(cache_dir.path(), WritePolicy::kWriteThrough,
                                   Durability::kProcessCrash);
    options.compression = Compression::kLz4;
    options.l1_max_entries = kTinyL1Entries;
    options.l1_shards = 1;
    options.l1_max_bytes = kTinyL1Bytes;
    options.max_value_bytes = kCompressibleBytes;
    options.write_buffer.max_bytes = kTinyL1Bytes;
    std::unique_ptr<Cache> cache;
    std::unique_ptr<RawDb> raw;
    Status s = Cache::Open(options, &cache);
    if (s.ok()) s = RawDb::Open(raw_dir.path(), Durability::kProcessCrash, &raw);
    std::array<double, 2> rates{};
    if (s.ok()) {
      s = AlternatingRates(
          kCompressibleKeys, kSliceKeys, &rates,
          [&](std::size_t i) { return cache->Put(kNamespace, data.keys[i], data.values[i]); },
          [&](std::size_t i) { return raw->Put(data.keys[i], data.values[i]); });
      puts.push_back(rates[0]);
      raw_puts.push_back(rates[1]);
    }
    std::vector<std::uint32_t> order(kCompressibleKeys);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(11 + round));
    if (s.ok()) {
      s = AlternatingGets(*cache, *raw, data, order, RawGet::kDefault, &rates);
      gets.push_back(rates[0]);
      raw_gets.push_back(rates[1]);
    }
    if (s.ok()) figures->memory_ratio = cache->GetStats().compression_ratio;
    if (cache) {
      const Status closed = cache->Close(kFlushDeadline);
      if (s.ok()) s = closed;
    }
    if (!s.ok()) return s;
  }
  figures->write_through = Median(puts);
  figures->rocksdb_put = Median(raw_puts);
  figures->get_store_hit = Median(gets);
  figures->rocksdb_get = Median(raw_gets);
  return Status::OK();
}

// A read-through cache on a clock of its own, which *clock is set to, whose
// loader answers every key with the first value; once *hold is set, a call
// waits for `released` first.
Status OpenReadThrough(const std::string& path, const Data& data,
                       std::chrono::milliseconds refresh_after_write,
                       std::shared_ptr<ManualClock>* clock, const std::atomic<bool>* hold,
                       std::shared_future<void> released, std::unique_ptr<Cache>* cache) {
  *clock = std::make_shared<ManualClock>();
  Options options = CacheOptions(path, WritePolicy::kWriteThrough, Durability::kProcessCrash);
  options.read_policy = ReadPolicy::kReadThrough;
  options.clock = *clock;
  options.loader = [&data, hold, released](std::string_view, std::string_view, LoadedValue* out) {
    if (hold->load()) released.wait();
    out->value = data.values[0];
    return Status::OK();
  };
  options.refresh_after_write = refresh_after_write;
  return Cache::Open(options, cache);
}

// Three caches over kRefreshKeys keys: one not refreshing, one refreshing
// entries an hour old, and one whose entries are all due, their refreshes
// held in the loader (one running, the rest waiting) until the end. A first
// pass loads every key into L1, then passes of Gets alternate; each figure
// the median of kStoreRounds.
Status MeasureRefreshCheck(const Data& data, RefreshFigures* figures) {
  constexpr auto kRefreshAfter = std::chrono::hours(1);
  std::atomic<bool> hold{false};
  std::promise<void> release;
  const std::shared_future<void> released = release.get_future().share();
  ScratchDir dirs[3];
  std::unique_ptr<Cache> caches[3];  // plain, refreshing, all due
  std::shared_ptr<ManualClock> clocks[3];
  const std::chrono::milliseconds refresh_after[3] = {std::chrono::milliseconds(0), kRefreshAfter,
                                                     kRefreshAfter};
  Status s;
  for (int c = 0; s.ok() && c < 3; ++c) {
    s = OpenReadThrough(dirs[c].path(), data, refresh_after[c], &clocks[c], &hold, released,
                        &caches[c]);
  }
  std::vector<std::uint32_t> order;
  std::mt19937_64 rng(13);
  for (std::size_t pass = 0; pass < kRefreshPasses; ++pass) {
    const std::size_t first = order.size();
    for (std::uint32_t i = 0; i < kRefreshKeys; ++i) order.push_back(i);
    std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(first), order.end(), rng);
  }
  const auto get_from = [](Cache* cache) {
    return [cache](const std::string& k, std::string* v) { return cache->Get(kNamespace, k, v); };
  };
  std::vector<double> rates[3];
  double rate = 0;
  for (int round = -1; s.ok() && round < kStoreRounds; ++round) {
    for (int c = 0; s.ok() && c < 3; ++c) {
      s = GetPass(data, order, get_from(caches[c].get()), &rate);
      if (round >= 0) rates[c].push_back(rate);
    }
    if (round == -1) {  // every key loaded: the third cache's entries fall due
      hold.store(true);
      clocks[2]->Advance(kRefreshAfter);
    }
  }
  release.set_value();
  for (const std::unique_ptr<Cache>& cache : caches) {
    if (!cache) continue;
    const Status closed = cache->Close(kFlushDeadline);
    if (s.ok()) s = closed;
  }
  if (!s.ok()) return s;
  figures->get_l1_hit = Median(rates[0]);
  figures->get_l1_hit_refreshing = Median(rates[1]);
  figures->get_l1_hit_due = Median(rates[2]);
  return Status::OK();
}

// "0.93x raw Put (target >= 0.80x) ok"
std::string Versus(double ratio, std::string_view baseline, double target) {
  return fmt::format("{:5.2f}x {:<14} (target >= {:.2f}x) {}", ratio, baseline, target,
                     ratio >= target ? "ok" : "MISSED");
}

void PrintHuman(const std::vector<StoreFigures>& all, const Lz4Figures& lz4,
                const RefreshFigures& refresh) {
  fmt::print("{}-byte keys, {}-byte values; the median of {} rounds each ({} for each "
             "durability's Get and GetMany)\n",
             kKeyBytes, kValueBytes, kStoreRounds, kReadRounds);
  fmt::print("baselines: raw RocksDB opened with the store's own options and write options\n");
  fmt::print("Gets: each key once per pass, in random order, through an L1 of {} entries\n",
             kTinyL1Entries);
  for (const StoreFigures& f : all) {
    const Plan& plan = f.durability == Durability::kProcessCrash ? kPlans[0] : kPlans[1];
    fmt::print("\n{}: {} writes per synced figure, {} per batched one, {} Gets per pass\n",
               Name(f.durability), plan.synced_writes, plan.batched_writes, kReadKeys);
    fmt::print("  write-through   {}  {}\n", Rate(f.write_through),
               Versus(f.write_through / f.rocksdb_put, "raw Put", kTargetWriteThroughVsPut));
    fmt::print("  write-behind    {}  {}\n", Rate(f.write_behind),
               Versus(f.write_behind / f.write_through, "write-through",
                      kTargetWriteBehindVsWriteThrough));
    fmt::print("  {:<15} {:>14}  {}\n", "", "",
               Versus(f.write_behind / f.rocksdb_batch, "WriteBatch", kTargetWriteBehindVsBatch));
    fmt::print("  write-around    {}  {:5.2f}x raw Put\n", Rate(f.write_around),
               f.write_around / f.rocksdb_put);
    fmt::print("  rocksdb put     {}\n", Rate(f.rocksdb_put));
    // The keys of a raw batch come in the order they were made; write-behind's
    // flusher sorts its batch, which RocksDB's insert hints then reward.
    fmt::print("  rocksdb batch   {}  (WriteBatch of {} in random key order; {:.2f}x "
               "write-through)\n",
               Rate(f.rocksdb_batch), kBatchEntries, f.rocksdb_batch / f.write_through);
    fmt::print("  get, L1 miss    {}  {}  ({:.1f} % answered by RocksDB)\n", Rate(f.get_store_hit),
               Versus(f.get_store_hit / f.rocksdb_get, "raw Get", kTargetGetVsRawGet),
               100 * f.l1_miss_share);
    fmt::print("  rocksdb get     {}\n", Rate(f.rocksdb_get));
    // The store turns RocksDB's perf counting off for its calls; raw RocksDB
    // counts by default. Beside raw Get without it, the cache's own cost.
    fmt::print("  uncounted       {}  get, L1 miss {:.2f}x this  (raw Get, perf counting off)\n",
               Rate(f.rocksdb_get_uncounted),
               f.get_store_hit_beside_uncounted / f.rocksdb_get_uncounted);
    // The cache's RocksDB holds its own keys and records, longer than the bare
    // keys and values raw RocksDB holds: what that alone costs a Get.
    fmt::print("  records         {}  {:.2f}x raw Get  (raw Get of the cache's keys and records)\n",
               Rate(f.rocksdb_get_records), f.rocksdb_get_records / f.rocksdb_get_beside_records);
    fmt::print("  get many        {}  {:5.2f}x raw MultiGet, {:.2f}x get  (keys per second, {} "
               "per call)\n",
               Rate(f.get_many_store_hit), f.get_many_store_hit / f.rocksdb_multiget,
               f.get_many_store_hit / f.get_store_hit, kGetManyKeys);
    fmt::print("  rocksdb multiget{}\n", Rate(f.rocksdb_multiget));
  }
  fmt::print("\nlz4 (process-crash): {} values of {} bytes of words, lz4 on; L1 holds {:.2f} of "
             "their size\n",
             kCompressibleKeys, kCompressibleBytes, lz4.memory_ratio);
  fmt::print("  write-through   {}  {:5.2f}x raw Put\n", Rate(lz4.write_through),
             lz4.write_through / lz4.rocksdb_put);
  fmt::print("  rocksdb put     {}\n", Rate(lz4.rocksdb_put));
  fmt::print("  get, L1 miss    {}  {:5.2f}x raw Get\n", Rate(lz4.get_store_hit),
             lz4.get_store_hit / lz4.rocksdb_get);
  fmt::print("  rocksdb get     {}\n", Rate(lz4.rocksdb_get));
  fmt::print("\nrefresh_after_write (read-through): {} keys, all in L1\n", kRefreshKeys);
  fmt::print("  get, L1 hit     {}\n", Rate(refresh.get_l1_hit));
  fmt::print("  refreshing      {}  {:5.2f}x get, L1 hit  (none due)\n",
             Rate(refresh.get_l1_hit_refreshing),
             refresh.get_l1_hit_refreshing / refresh.get_l1_hit);
  fmt::print("  all due         {}  {:5.2f}x get, L1 hit  (each refresh asked for, none done)\n",
             Rate(refresh.get_l1_hit_due), refresh.get_l1_hit_due / refresh.get_l1_hit);
}

void PrintJson(const std::vector<StoreFigures>& all, const Lz4Figures& lz4,
               const RefreshFigures& refresh) {
  for (const StoreFigures& f : all) {
    const nlohmann::ordered_json line = {
        {"bench", "store"},
        {"durability", std::string(Name(f.durability))},
        {"write_through", std::llround(f.write_through)},
        {"write_behind", std::llround(f.write_behind)},
        {"write_around", std::llround(f.write_around)},
        {"rocksdb_put", std::llround(f.rocksdb_put)},
        {"rocksdb_batch", std::llround(f.rocksdb_batch)},
        {"get_store_hit", std::llround(f.get_store_hit)},
        {"rocksdb_get", std::llround(f.rocksdb_get)},
        {"rocksdb_get_uncounted", std::llround(f.rocksdb_get_uncounted)},
        {"get_store_hit_beside_uncounted", std::llround(f.get_store_hit_beside_uncounted)},
        {"rocksdb_get_records", std::llround(f.rocksdb_get_records)},
        {"rocksdb_get_beside_records", std::llround(f.rocksdb_get_beside_records)},
        {"get_many_store_hit", std::llround(f.get_many_store_hit)},
        {"rocksdb_multiget", std::llround(f.rocksdb_multiget)},
    };
    std::cout << line.dump() << '\n';
  }
  const nlohmann::ordered_json line = {
      {"bench", "store-lz4"},
      {"durability", std::string(Name(Durability::kProcessCrash))},
      {"value_bytes", kCompressibleBytes},
      {"write_through", std::llround(lz4.write_through)},
      {"rocksdb_put", std::llround(lz4.rocksdb_put)},
      {"get_store_hit", std::llround(lz4.get_store_hit)},
      {"rocksdb_get", std::llround(lz4.rocksdb_get)},
      {"memory_ratio", lz4.memory_ratio},
  };
  std::cout << line.dump() << '\n';
  const nlohmann::ordered_json refresh_line = {
      {"bench", "store-refresh"},
      {"get_l1_hit", std::llround(refresh.get_l1_hit)},
      {"get_l1_hit_refreshing", std::llround(refresh.get_l1_hit_refreshing)},
      {"get_l1_hit_due", std::llround(refresh.get_l1_hit_due)},
  };
  std::cout << refresh_line.dump() << '\n';
}

int RunStoreBench(bool json) {
  const Data data = MakeData(kMaxWrites);
  std::vector<StoreFigures> all;
  for (const Plan& plan : kPlans) {
    StoreFigures figures;
    figures.durability = plan.durability;
    Status s = MeasureWrites(plan, data, &figures);
    if (s.ok()) s = MeasureGets(plan.durability, data, &figures);
    if (!s.ok()) {
      fmt::print(stderr, "tiercache bench store: {}\n", s.ToString());
      return kExitProblems;
    }
    all.push_back(figures);
  }
  Lz4Figures lz4;
  if (Status s = MeasureLz4(MakeCompressibleData(kCompressibleKeys), &lz4); !s.ok()) {
    fmt::print(stderr, "tiercache bench store: {}\n", s.ToString());
    return kExitProblems;
  }
  RefreshFigures refresh;
  if (Status s = MeasureRefreshCheck(data, &refresh); !s.ok()) {
    fmt::print(stderr, "tiercache bench store: {}\n", s.ToString());
    return kExitProblems;
  }
  json ? PrintJson(all, lz4, refresh) : PrintHuman(all, lz4, refresh);
  return kExitOk;
}

}  // namespace

void AddStoreBench(CLI::App& bench, Action* action) {
  CLI::App* store = bench.add_subcommand(
      "store",
      "Put per write policy beside raw RocksDB Put and WriteBatch; Get through RocksDB beside "
      "raw Get");
  auto json = std::make_shared<bool>(false);
  store->add_flag("--json", *json, "One JSON object per line");
  store->callback([action, json] { *action = [json] { return RunStoreBench(*json); }; });
}

}  // namespace tiercache::tool
