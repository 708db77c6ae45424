// `tiercache bench memory`: Get-hit throughput of the in-memory tier beside
// RocksDB's LRUCache and HyperClockCache on the same keys and accesses, in the
// same run, and the tier's memory per entry.
#include <fmt/format.h>
#include <malloc.h>
#include <rocksdb/cache.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/memory_tier.h"
#include "tools/bench/bench.h"

namespace tiercache::tool {
namespace {

constexpr std::size_t kKeys = 100'000;
constexpr double kZipfSkew = 0.99;
constexpr std::size_t kOpsPerThread = 500'000;
// Other processes only ever slow a round down: the best round counts.
constexpr int kMemoryRounds = 11;
constexpr std::size_t kCacheBytes = 64 * 1024 * 1024;  // holds every key in each cache
constexpr std::size_t kFootprintEntries = 1'000'000;
// As many shards as RocksDB's caches pick for themselves at this capacity.
constexpr std::size_t kShards = 64;

struct MemoryFlags {
  std::vector<int> threads{1, 2};
  bool json = false;
};

// Get hits per second of each cache at one thread count.
struct Throughput {
  int threads = 0;
  double tiercache = 0;
  double rocksdb_lru = 0;
  double rocksdb_hyperclock = 0;
};

std::string KeyOf(std::size_t i) { return fmt::format("key-{:012d}", i); }

// The benchmark's keys side by side in one array, as an application that
// looks up fixed-size keys holds them: reading a key costs every cache alike
// and as little as it can.
class KeySet {
 public:
  KeySet() : bytes_(kKeys * kKeyBytes) {
    for (std::size_t i = 0; i < kKeys; ++i) KeyOf(i).copy(&bytes_[i * kKeyBytes], kKeyBytes);
  }
  std::string_view operator[](std::size_t i) const { return {&bytes_[i * kKeyBytes], kKeyBytes}; }
  std::size_t size() const { return kKeys; }

 private:
  std::vector<char> bytes_;
};

// Key indices drawn from a Zipf distribution: rank r with weight 1 / r^skew.
// Ranks are scattered over the keys so that the hot ones are not neighbours.
std::vector<std::uint32_t> ZipfSequence(std::size_t ops, std::uint64_t seed) {
  std::vector<double> cdf(kKeys);
  double sum = 0;
  for (std::size_t r = 0; r < kKeys; ++r) {
    sum += 1.0 / std::pow(static_cast<double>(r + 1), kZipfSkew);
    cdf[r] = sum;
  }
  std::vector<std::uint32_t> key_of_rank(kKeys);
  for (std::size_t i = 0; i < kKeys; ++i) key_of_rank[i] = static_cast<std::uint32_t>(i);
  std::mt19937_64 rng(seed);
  std::shuffle(key_of_rank.begin(), key_of_rank.end(), std::mt19937_64(42));
  std::uniform_real_distribution<double> uniform(0, sum);
  std::vector<std::uint32_t> sequence(ops);
  for (auto& k : sequence) {
    const auto rank = std::lower_bound(cdf.begin(), cdf.end(), uniform(rng)) - cdf.begin();
    k = key_of_rank[std::min<std::size_t>(static_cast<std::size_t>(rank), kKeys - 1)];
  }
  return sequence;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs get(key, value) over each thread's sequence, all threads at once, and
// returns hits per second summed over the threads, or 0 if any Get missed
// (then the comparison is void). A second is one of the thread's own CPU
// time: on a machine shared with other work, time spent descheduled would
// otherwise count against whichever cache it happened to.
template <typename Get>
double Measure(const std::vector<std::vector<std::uint32_t>>& sequences, const KeySet& keys,
               Get get) {
  const int threads = static_cast<int>(sequences.size());
  std::atomic<int> ready{0};
  std::atomic<bool> missed{false};
  std::vector<double> rates(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::string value;
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      const double start = ThreadCpuSeconds();
      for (const std::uint32_t k : sequences[t]) {
        if (!get(keys[k], &value)) missed = true;
      }
      rates[t] = static_cast<double>(sequences[t].size()) / (ThreadCpuSeconds() - start);
    });
  }
  for (auto& w : workers) w.join();
  if (missed) return 0;
  double total = 0;
  for (const double r : rates) total += r;
  return total;
}

std::unique_ptr<engine::MemoryTier> FilledTier(const KeySet& keys, const std::string& value) {
  engine::MemoryTierOptions o;
  o.max_entries = 2 * kKeys;
  o.shards = kShards;
  o.max_bytes = kCacheBytes;
  o.policy = EvictionPolicy::kLRU;
  std::unique_ptr<engine::MemoryTier> tier;
  if (!engine::MemoryTier::Create(o, &tier).ok()) return nullptr;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    engine::TierWrite w;
    w.key = keys[i];
    w.value = value;
    if (!tier->Insert(w, SystemClock().Now()).ok()) return nullptr;
  }
  return tier;
}

void DeleteValue(const rocksdb::Slice&, void* value) { delete static_cast<std::string*>(value); }

bool Fill(rocksdb::Cache* cache, const KeySet& keys, const std::string& value) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const rocksdb::Slice key(keys[i].data(), keys[i].size());
    if (!cache->Insert(key, new std::string(value), kKeyBytes + kValueBytes, &DeleteValue).ok()) {
      return false;
    }
  }
  return true;
}

// A Get from a RocksDB cache as an application does it: look up, copy the
// value out, release the handle.
bool CacheGet(rocksdb::Cache* cache, std::string_view key, std::string* out) {
  rocksdb::Cache::Handle* h = cache->Lookup(rocksdb::Slice(key.data(), key.size()));
  if (h == nullptr) return false;
  out->assign(*static_cast<const std::string*>(cache->Value(h)));
  cache->Release(h);
  return true;
}

double Best(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

// The three caches, filled once, measured in alternating rounds so that a
// slow moment of the machine does not fall on one of them only.
struct Caches {
  std::unique_ptr<engine::MemoryTier> tier;
  std::shared_ptr<rocksdb::Cache> lru;
  std::shared_ptr<rocksdb::Cache> hyperclock;
};

Throughput MeasureAll(const Caches& c, const KeySet& keys, int threads) {
  std::vector<std::vector<std::uint32_t>> sequences;
  for (int t = 0; t < threads; ++t) sequences.push_back(ZipfSequence(kOpsPerThread, t + 1));
  std::vector<double> tier, lru, hyperclock;
  for (int round = 0; round < kMemoryRounds; ++round) {
    // The tier is given the time, as the cache reads it once for each Get.
    tier.push_back(Measure(sequences, keys, [&](std::string_view k, std::string* v) {
      return c.tier->LookupValue(0, k, SystemClock().Now(), v);
    }));
    lru.push_back(Measure(sequences, keys, [&](std::string_view k, std::string* v) {
      return CacheGet(c.lru.get(), k, v);
    }));
    hyperclock.push_back(Measure(sequences, keys, [&](std::string_view k, std::string* v) {
      return CacheGet(c.hyperclock.get(), k, v);
    }));
  }
  return Throughput{threads, Best(tier), Best(lru), Best(hyperclock)};
}

std::size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Heap bytes per entry beyond its 16-byte key and 100-byte value, for a tier
// of 1,000,000 such entries (2 % headroom so that uneven shards evict none).
double FootprintPerEntry(std::size_t* entries) {
  const std::string value(kValueBytes, 'v');
  const std::size_t before = HeapBytes();
  engine::MemoryTierOptions o;
  o.max_entries = kFootprintEntries + kFootprintEntries / 50;
  o.max_bytes = std::size_t{1} << 30;
  std::unique_ptr<engine::MemoryTier> tier;
  if (!engine::MemoryTier::Create(o, &tier).ok()) return NAN;
  std::string key;
  for (std::size_t i = 0; i < kFootprintEntries; ++i) {
    key = KeyOf(i);
    engine::TierWrite w;
    w.key = key;
    w.value = value;
    if (!tier->Insert(w, SystemClock().Now()).ok()) return NAN;
  }
  const std::size_t after = HeapBytes();
  *entries = tier->Stats().entries;
  return static_cast<double>(after - before) / static_cast<double>(*entries) -
         static_cast<double>(kKeyBytes + kValueBytes);
}

void Print(const Throughput& t, bool json) {
  if (json) {
    std::cout << nlohmann::json{{"bench", "memory"},
                                {"threads", t.threads},
                                {"tiercache", std::llround(t.tiercache)},
                                {"rocksdb_lru", std::llround(t.rocksdb_lru)},
                                {"rocksdb_hyperclock", std::llround(t.rocksdb_hyperclock)}}
                     .dump()
              << "\n";
    return;
  }
  fmt::print("{:>7}  {:>11.0f}  {:>11.0f}  {:>18.0f}  {:>8.2f}x  {:>13.2f}x\n", t.threads,
             t.tiercache, t.rocksdb_lru, t.rocksdb_hyperclock, t.tiercache / t.rocksdb_lru,
             t.tiercache / t.rocksdb_hyperclock);
}

void PrintFootprint(std::size_t entries, double bytes_per_entry, bool json) {
  if (json) {
    std::cout << nlohmann::json{{"bench", "footprint"},
                                {"entries", entries},
                                {"bytes_per_entry", std::round(bytes_per_entry * 10) / 10}}
                     .dump()
              << "\n";
    return;
  }
  fmt::print(
      "footprint: {} entries of a {}-byte key and a {}-byte value: {:.1f} bytes per entry "
      "beyond key and value (target: at most 64)\n",
      entries, kKeyBytes, kValueBytes, bytes_per_entry);
}

int RunMemoryBench(const MemoryFlags& flags) {
  const KeySet keys;
  const std::string value(kValueBytes, 'v');
  Caches c;
  c.tier = FilledTier(keys, value);
  c.lru = rocksdb::NewLRUCache(kCacheBytes);
  c.hyperclock =
      rocksdb::HyperClockCacheOptions(kCacheBytes, kKeyBytes + kValueBytes).MakeSharedCache();
  if (!c.tier || !Fill(c.lru.get(), keys, value) || !Fill(c.hyperclock.get(), keys, value)) {
    std::cerr << "bench memory: could not fill the caches\n";
    return kExitProblems;
  }
  if (!flags.json) {
    fmt::print(
        "Get hits per second of thread CPU time, summed over threads (best of {}): {} keys "
        "of {} bytes, {}-byte values copied out, Zipf {}\n",
        kMemoryRounds, kKeys, kKeyBytes, kValueBytes, kZipfSkew);
    fmt::print("threads    tiercache  rocksdb_lru  rocksdb_hyperclock    vs_lru  vs_hyperclock\n");
  }
  for (const int threads : flags.threads) Print(MeasureAll(c, keys, threads), flags.json);
  c = Caches{};
  std::size_t entries = 0;
  const double per_entry = FootprintPerEntry(&entries);
  PrintFootprint(entries, per_entry, flags.json);
  return kExitOk;
}

}  // namespace

void AddMemoryBench(CLI::App& bench, Action* action) {
  CLI::App* memory =
      bench.add_subcommand("memory",
                           "In-memory tier Get hits beside RocksDB's LRUCache and HyperClockCache; "
                           "memory per entry");
  auto flags = std::make_shared<MemoryFlags>();
  memory->add_option("--threads", flags->threads, "Thread counts to measure (default: 1 2)")
      ->check(CLI::Range(1, 64));
  memory->add_flag("--json", flags->json, "One JSON object per line");
  memory->callback([action, flags] { *action = [flags] { return RunMemoryBench(*flags); }; });
}

}  // namespace tiercache::tool
