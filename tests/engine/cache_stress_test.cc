// The tiered cache under many threads at once: every operation, every write
// policy with each eviction policy, random TTLs on a clock a thread moves,
// an L1 of a few dozen entries, read-through (refreshing entries 10 ms old
// on two refresh threads) in half the configurations.
// While it runs, every value served must be one made for its key and no
// thread may see a key's version go back; at the end, after Flush, the cache
// must serve what a fresh cache over the same store (L1 empty) serves, and
// its statistics must add up. Built for AddressSanitizer and
// UndefinedBehaviorSanitizer runs; RocksDB keeps it out of the TSan run.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/util/run_mode.h"
#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

using std::chrono::milliseconds;

constexpr int kThreads = 6;
constexpr int kKeys = 48;
constexpr std::string_view kNamespaces[] = {"s0", "s1", "s2"};
constexpr std::string_view kDropped = "s2";  // the namespace DropNamespace drops
constexpr std::size_t kL1Entries = 32;
constexpr auto kDeadline = std::chrono::seconds(60);

int OpsPerThread() { return test_util::Rounds(2000); }

std::string KeyName(std::uint64_t index) { return "key" + std::to_string(index); }

// A written value names its namespace and key, so that a value served for
// another key shows; the loader's values say "loaded".
std::string MadeValue(std::string_view ns, std::string_view key, int thread, std::size_t size) {
  std::string value = std::string(ns) + "/" + std::string(key) + "|" + std::to_string(thread) + "|";
  value.resize(std::max(value.size(), size), 'x');
  return value;
}
std::string LoadedFor(std::string_view ns, std::string_view key) {
  return "loaded|" + std::string(ns) + "/" + std::string(key);
}
bool BelongsTo(std::string_view value, std::string_view ns, std::string_view key) {
  const std::string prefix = std::string(ns) + "/" + std::string(key) + "|";
  return value.starts_with(prefix) || value == LoadedFor(ns, key);
}

using Config = std::tuple<WritePolicy, EvictionPolicy>;

class CacheStressTest : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    seed_ = test_util::SeedFromEnvironment();
    std::cout << "seed " << seed_ << " (TIERCACHE_SEED=" << seed_ << " replays it)\n";
    options_.path = dir_.Sub("store");
    options_.write_policy = std::get<0>(GetParam());
    options_.eviction = std::get<1>(GetParam());
    options_.l1_max_entries = kL1Entries;
    options_.l1_max_bytes = 64 * 1024;
    options_.l1_shards = 4;
    options_.max_value_bytes = 4096;
    options_.write_buffer.max_entries = 16;
    options_.write_buffer.max_bytes = 16 * 1024;
    options_.write_buffer.flush_interval = milliseconds(5);
    options_.write_buffer.max_wait = milliseconds(200);
    options_.compression = seed_ % 2 ? Compression::kLz4 : Compression::kNone;
    options_.compression_threshold = 64;
    options_.clock = clock_;
    // Read-through in every other configuration of the grid.
    const int cell =
        static_cast<int>(std::get<0>(GetParam())) + static_cast<int>(std::get<1>(GetParam()));
    read_through_ = cell % 2 == 1;
    if (read_through_) {
      options_.read_policy = ReadPolicy::kReadThrough;
      options_.loader = [](std::string_view ns, std::string_view key, LoadedValue* out) {
        if (key.back() % 3 == 0) return Status::NotFound("the loader has no " + std::string(key));
        out->value = LoadedFor(ns, key);
        out->ttl = milliseconds(50);
        return Status::OK();
      };
      options_.refresh_after_write = milliseconds(10);
      options_.refresh_threads = 2;
    }
    ASSERT_TRUE(Cache::Open(options_, &cache_).ok());
  }

  void Work(int thread);
  void OneOp(std::mt19937_64& rng, int thread);
  // A read's answer: a value made for the key, at a version no older than
  // this thread saw before.
  void Saw(int thread, std::string_view ns, std::string_view key, const Status& s,
           const std::string& value, std::uint64_t version);
  void Wrote(int thread, std::string_view ns, std::string_view key, const Status& s,
             std::uint64_t version);
  void MoveClock();
  void ExpectFreshCacheAgrees(const std::map<std::string, Entry>& served);

  std::uint64_t& Newest(int thread, std::string_view ns, std::string_view key) {
    return newest_[thread][std::string(ns) + "/" + std::string(key)];
  }

  test_util::TempDir dir_;
  std::uint64_t seed_ = 0;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Options options_;
  bool read_through_ = false;
  std::unique_ptr<Cache> cache_;
  // Per thread, the newest version it saw of each "ns/key".
  std::map<std::string, std::uint64_t> newest_[kThreads];
  std::atomic<std::uint64_t> ticks_{0};  // the clock thread moves on each change
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> written_{0};
};

void CacheStressTest::Saw(int thread, std::string_view ns, std::string_view key, const Status& s,
                          const std::string& value, std::uint64_t version) {
  if (s.IsNotFound()) return;
  ASSERT_TRUE(s.ok()) << ns << "/" << key << ": " << s.ToString();
  EXPECT_TRUE(BelongsTo(value, ns, key)) << ns << "/" << key << " served '" << value << "'";
  served_.fetch_add(1, std::memory_order_relaxed);
  if (version == 0) return;  // Get and GetMany do not say the version
  std::uint64_t& newest = Newest(thread, ns, key);
  EXPECT_GE(version, newest) << ns << "/" << key << ": a version went back, to '"
                             << value.substr(0, 30) << "'";
  newest = std::max(newest, version);
}

// A write may meet a full write-behind buffer (Busy), lose its compare
// (Conflict), or find its namespace dropped under it (NotFound).
bool Refused(const Status& s, std::string_view ns) {
  return s.IsBusy() || s.IsConflict() || (s.IsNotFound() && ns == kDropped);
}

void CacheStressTest::Wrote(int thread, std::string_view ns, std::string_view key, const Status& s,
                            std::uint64_t version) {
  if (Refused(s, ns)) return;
  ASSERT_TRUE(s.ok()) << ns << "/" << key << ": " << s.ToString();
  written_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t& newest = Newest(thread, ns, key);
  EXPECT_GT(version, newest) << ns << "/" << key << ": a write got no newer version";
  newest = version;
}

void CacheStressTest::OneOp(std::mt19937_64& rng, int thread) {
  const std::string_view ns = kNamespaces[rng() % std::size(kNamespaces)];
  const std::string key = KeyName(rng() % kKeys);
  WriteOptions write;
  if (rng() % 2) write.ttl = milliseconds(rng() % 200);
  std::string value;
  Entry entry;
  std::uint64_t version = 0;
  Status s;
  switch (rng() % 20) {
    case 0:
    case 1:
    case 2:
    case 3:
      s = cache_->Get(ns, key, &value);
      return Saw(thread, ns, key, s, value, 0);
    case 4:
    case 5:
    case 6:
      s = cache_->GetEntry(ns, key, &entry);
      return Saw(thread, ns, key, s, entry.value, entry.version);
    case 7:
      s = cache_->Contains(ns, key);
      EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
      return;
    case 8: {
      const std::vector<std::string> keys = {key, KeyName(rng() % kKeys), KeyName(rng() % kKeys)};
      std::vector<Status> statuses;
      std::vector<std::string> values;
      cache_->GetMany(ns, keys, &statuses, &values);
      ASSERT_EQ(statuses.size(), keys.size());
      ASSERT_EQ(values.size(), keys.size());
      for (std::size_t i = 0; i < keys.size(); ++i)
        Saw(thread, ns, keys[i], statuses[i], values[i], 0);
      return;
    }
    case 9:
    case 10:
    case 11:
    case 12:
      s = cache_->Put(ns, key, MadeValue(ns, key, thread, rng() % 1500), write, &version);
      return Wrote(thread, ns, key, s, version);
    case 13: {
      s = cache_->GetEntry(ns, key, &entry);
      Saw(thread, ns, key, s, entry.value, entry.version);
      const std::uint64_t expected = s.ok() ? entry.version : 0;
      s = cache_->CompareAndPut(ns, key, expected, MadeValue(ns, key, thread, 40), write, &version);
      return Wrote(thread, ns, key, s, version);
    }
    case 14: {
      std::vector<KeyValue> pairs;
      for (int i = 0; i < 3; ++i) {
        std::string k = KeyName(rng() % kKeys);
        std::string v = MadeValue(ns, k, thread, rng() % 300);
        pairs.push_back({std::move(k), std::move(v)});
      }
      s = cache_->PutMany(ns, pairs, write);
      EXPECT_TRUE(s.ok() || Refused(s, ns)) << s.ToString();
      return;
    }
    case 15:
    case 16:
      s = cache_->Delete(ns, key);
      EXPECT_TRUE(s.ok() || Refused(s, ns)) << s.ToString();
      return;
    case 17:
      if (rng() % 8 == 0) {
        s = cache_->DropNamespace(kDropped);
        EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
      }
      return;
    case 18:
      EXPECT_TRUE(cache_->Flush(kDeadline).ok());
      return;
    default: {
      const CacheStats stats = cache_->GetStats();
      EXPECT_LE(stats.memory.entries, kL1Entries);
      EXPECT_LE(stats.memory.bytes, options_.l1_max_bytes);
    }
  }
}

void CacheStressTest::Work(int thread) {
  std::mt19937_64 rng(seed_ * 131 + static_cast<std::uint64_t>(thread));
  for (int op = 0; op < OpsPerThread() && !HasFailure(); ++op) {
    OneOp(rng, thread);
    if (op % 16 == 0) {
      ticks_.fetch_add(1, std::memory_order_release);
      ticks_.notify_one();
    }
  }
}

// Time moves a few milliseconds each time a worker has done a few
// operations: entries expire while others read and write them.
void CacheStressTest::MoveClock() {
  std::mt19937_64 rng(seed_);
  std::uint64_t seen = 0;
  while (!done_.load(std::memory_order_acquire)) {
    ticks_.wait(seen, std::memory_order_acquire);
    seen = ticks_.load(std::memory_order_acquire);
    clock_->Advance(milliseconds(1 + rng() % 20));
  }
}

// A cache over the same store with an empty L1 (and no loader, so no
// refreshing) must serve what the stressed cache served at the end, key by
// key.
void CacheStressTest::ExpectFreshCacheAgrees(const std::map<std::string, Entry>& served) {
  Options fresh_options = options_;
  fresh_options.read_policy = ReadPolicy::kCacheAside;
  fresh_options.loader = nullptr;
  fresh_options.refresh_after_write = milliseconds(0);
  std::unique_ptr<Cache> fresh;
  ASSERT_TRUE(Cache::Open(fresh_options, &fresh).ok());
  for (const std::string_view ns : kNamespaces) {
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = KeyName(static_cast<std::uint64_t>(k));
      Entry entry;
      const Status s = fresh->GetEntry(ns, key, &entry);
      ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
      const auto it = served.find(std::string(ns) + "/" + key);
      if (it == served.end()) {
        EXPECT_TRUE(s.IsNotFound()) << ns << "/" << key << ": the store holds version "
                                    << entry.version << ", the cache served nothing";
      } else {
        EXPECT_TRUE(s.ok() && entry.version == it->second.version &&
                    entry.value == it->second.value)
            << ns << "/" << key << ": the cache served version " << it->second.version
            << ", the store holds " << (s.ok() ? std::to_string(entry.version) : s.ToString());
      }
    }
  }
  EXPECT_EQ(fresh->GetStats().disk.corrupt, 0u);
  EXPECT_TRUE(fresh->Close(kDeadline).ok());
}

TEST_P(CacheStressTest, ServesOneVersionPerKeyAndAgreesWithTheStoreAfterFlush) {
  std::thread clock([this] { MoveClock(); });
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) workers.emplace_back([this, t] { Work(t); });
  for (std::thread& worker : workers) worker.join();
  done_.store(true, std::memory_order_release);
  ticks_.fetch_add(1, std::memory_order_release);
  ticks_.notify_one();
  clock.join();
  ASSERT_FALSE(HasFailure());

  ASSERT_TRUE(cache_->Flush(kDeadline).ok());
  const CacheStats stats = cache_->GetStats();
  EXPECT_LE(stats.memory.entries, kL1Entries);
  EXPECT_LE(stats.memory.bytes, options_.l1_max_bytes);
  EXPECT_EQ(stats.write_buffer.entries, 0u);
  EXPECT_EQ(stats.disk.corrupt, 0u);
  EXPECT_GT(stats.memory.hits + stats.memory.misses, 0u);
  EXPECT_GT(stats.disk.writes, 0u);
  if (read_through_) {
    EXPECT_GT(stats.loads.calls, 0u);
    EXPECT_GT(stats.loads.refreshes, 0u);
  }
  EXPECT_GT(served_.load(), 0u);
  EXPECT_GT(written_.load(), 0u);

  // What the cache serves now, without loading: through L1 where it holds
  // the key, else from below. Contains first, so that read-through does not
  // call the loader for keys the store does not hold. Read until a reading
  // asks for no refresh: the clock no longer moves, so the entries a reading
  // finds due are refreshed (Flush waits for it) and the next finds them
  // fresh, unless a refresh could not store its value (a full write buffer).
  std::map<std::string, Entry> served;
  for (std::uint64_t refreshes = ~std::uint64_t{0};
       refreshes != cache_->GetStats().loads.refreshes;) {
    refreshes = cache_->GetStats().loads.refreshes;
    served.clear();
    for (const std::string_view ns : kNamespaces) {
      for (int k = 0; k < kKeys; ++k) {
        const std::string key = KeyName(static_cast<std::uint64_t>(k));
        if (!cache_->Contains(ns, key).ok()) continue;
        Entry entry;
        const Status s = cache_->GetEntry(ns, key, &entry);
        ASSERT_TRUE(s.ok()) << ns << "/" << key << ": " << s.ToString();
        served[std::string(ns) + "/" + key] = entry;
      }
    }
    ASSERT_TRUE(cache_->Flush(kDeadline).ok());
  }
  ASSERT_TRUE(cache_->Close(kDeadline).ok());
  ExpectFreshCacheAgrees(served);
  std::cout << served_.load() << " values served, " << written_.load() << " writes, "
            << served.size() << " keys live at the end; L1 hits " << stats.memory.hits
            << ", misses " << stats.memory.misses << ", evicted " << stats.memory.evicted
            << ", expired " << stats.memory.expired << "; loads " << stats.loads.calls
            << " (refreshes " << stats.loads.refreshes << ")\n";
}

INSTANTIATE_TEST_SUITE_P(
    AllWritePolicies, CacheStressTest,
    ::testing::Combine(::testing::Values(WritePolicy::kWriteThrough, WritePolicy::kWriteBehind,
                                         WritePolicy::kWriteAround),
                       ::testing::Values(EvictionPolicy::kLRU, EvictionPolicy::kLFU,
                                         EvictionPolicy::kFIFO, EvictionPolicy::kTTL,
                                         EvictionPolicy::kAdaptive)),
    [](const auto& info) {
      std::string name = std::string(Name(std::get<0>(info.param))) + "_" +
                         std::string(Name(std::get<1>(info.param)));
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

}  // namespace
}  // namespace tiercache
