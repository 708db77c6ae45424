// Allocations the system refuses. Each call is run again and again with its
// first allocation failing, then its second, and so on until it makes no more:
// the call throws nothing, answers OK or NoSpace, and leaves the cache whole.
// A Get answers the old value or the new one, as the status allows, and what
// RocksDB holds once the buffer is flushed: L1 keeps no copy older than the
// tiers below. After a reopen the store holds what the Gets answered.
//
// Only the calling thread's allocations fail, and only in calls that stay out
// of RocksDB (write-behind, with the keys in L1 or the buffer): RocksDB is not
// written to survive an exception thrown through it; the store's guard turns
// what comes out of it into a status (storage/guarded.h).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/key_hash.h"
#include "engine/memory_tier.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/util/allocation_sweep.h"
#include "tests/util/failing_new.h"
#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

using test_util::kMostAllocations;
using std::chrono::hours;
using std::chrono::seconds;

constexpr std::string_view kNs = "ns";

// What the catch handlers answer when memory is gone is made, copied and
// dropped without any; an OK status and a message-less error too.
TEST(StatusOutOfMemoryTest, StatusesThatNeedNoMemory) {
  if (!test_util::AllocationsCanFail()) GTEST_SKIP() << "allocations cannot fail here";
  test_util::FailAllocation(0, test_util::Failing::kFromThenOn);
  const Status made = Status::OutOfMemory();
  Status copy = made;
  Status assigned = Status::OK();
  assigned = copy;
  const Status missing = Status::NotFound("");
  const Status also = missing;
  const bool failed = test_util::AllocationFailed();
  test_util::FailAllocation(-1);
  EXPECT_FALSE(failed);
  EXPECT_EQ(assigned.ToString(), "NoSpace: out of memory");
  EXPECT_EQ(also.ToString(), "NotFound");
}

// Keeps every removal it is told of: its allocations fail too.
class KeepingListener : public EventListener {
 public:
  void OnRemoval(const RemovalEvent& event) override {
    std::lock_guard lock(mu_);
    keys_.emplace_back(event.key);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> keys_;
};

struct Config {
  const char* name;
  EvictionPolicy eviction;
  Compression compression;
};

class OutOfMemoryTest : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Cache::Open(MakeOptions(WritePolicy::kWriteBehind), &cache_).ok());
    for (int i = 0; i < 8; ++i) ASSERT_NO_FATAL_FAILURE(Write("k" + std::to_string(i), "first"));
    ASSERT_TRUE(cache_->Flush(seconds(30)).ok());
    storage::StoreOptions below;
    below.path = dir_.path();
    below.mode = storage::StoreOptions::Mode::kSecondary;
    ASSERT_TRUE(storage::Store::Open(below, &below_).ok());
  }

  // The key's value in RocksDB once the buffer is flushed, read through a
  // secondary instance (nullopt: none).
  std::optional<std::string> Below(const std::string& key) {
    EXPECT_TRUE(cache_->Flush(seconds(30)).ok());
    EXPECT_TRUE(below_->CatchUp().ok());
    storage::Namespace ns;
    EXPECT_TRUE(below_->OpenNamespace(kNs, &ns).ok());
    std::string record;
    const Status s = below_->Get(ns, key, &record);
    EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
    if (!s.ok()) return std::nullopt;
    Entry entry;
    EXPECT_TRUE(storage::DecodeRecord(record, &entry, nullptr).ok());
    return entry.value;
  }

  Options MakeOptions(WritePolicy policy) const {
    Options o;
    o.path = dir_.path();
    o.write_policy = policy;
    o.eviction = GetParam().eviction;
    o.compression = GetParam().compression;
    o.l1_max_entries = 16;
    o.l1_shards = 1;
    o.write_buffer.flush_interval = hours(1);
    o.listener = std::make_shared<KeepingListener>();
    return o;
  }

  // Values past the compression threshold, which lz4 shrinks.
  static std::string Value(const std::string& tag) {
    std::string value = tag;
    while (value.size() < 400) value += " and again " + tag;
    return value;
  }

  // A write with no failure injected, which the model follows.
  void Write(const std::string& key, const std::string& tag) {
    ASSERT_TRUE(cache_->Put(kNs, key, Value(tag)).ok());
    model_[key] = Value(tag);
  }

  // What a Get answers for `key`, with no failure injected; it must be one
  // of `allowed` (nullopt: NotFound). The model follows it.
  void ExpectOneOf(const std::string& key, const std::vector<std::optional<std::string>>& allowed) {
    std::string value;
    const Status s = cache_->Get(kNs, key, &value);
    ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
    const std::optional<std::string> got =
        s.ok() ? std::optional<std::string>(value) : std::nullopt;
    bool found = false;
    for (const std::optional<std::string>& a : allowed) found = found || a == got;
    ASSERT_TRUE(found) << key << " is " << (got ? got->substr(0, 20) : "not found");
    ASSERT_EQ(got, Below(key)) << "L1 and RocksDB disagree on " << key;
    model_[key] = got;
  }

  // Closes (draining the buffer), reopens write-through and expects the model.
  void ExpectTheModelAfterAReopen() {
    below_.reset();
    ASSERT_TRUE(cache_->Close(seconds(30)).ok());
    cache_.reset();
    ASSERT_TRUE(Cache::Open(MakeOptions(WritePolicy::kWriteThrough), &cache_).ok());
    for (const auto& [key, expected] : model_) {
      SCOPED_TRACE(key);
      std::string value;
      const Status s = cache_->Get(kNs, key, &value);
      if (expected) {
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_EQ(value, *expected);
      } else {
        EXPECT_TRUE(s.IsNotFound()) << s.ToString();
      }
    }
  }

  test_util::TempDir dir_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<storage::Store> below_;
  std::map<std::string, std::optional<std::string>> model_;
};

using Values = std::vector<std::optional<std::string>>;

std::string Tag(std::string_view what, long n) { return std::string(what) + std::to_string(n); }

TEST_P(OutOfMemoryTest, APutOverAnEntryInL1) {
  std::string value;
  test_util::SweepAllocations([&](long n) { value = Value(Tag("put ", n)); },
        [&](long) { return cache_->Put(kNs, "k1", value); },
        [&](long, const Status& s) {
          ExpectOneOf("k1", s.ok() ? Values{value} : Values{model_["k1"], value});
        });
  ASSERT_NO_FATAL_FAILURE(ExpectTheModelAfterAReopen());
}

// Each value twice as large as the one before (up to 1 MB), of bytes lz4
// cannot shrink, so that the buffers a write reuses grow at every step of it,
// the copy L1 takes (compressed or not) among them.
TEST_P(OutOfMemoryTest, APutOfALargerValueOverAnEntryInL1) {
  std::string value;
  std::mt19937 random(7);
  test_util::SweepAllocations(
      [&](long n) {
        value = Value(Tag("put ", n));
        for (std::size_t i = 0; i < (std::size_t{1000} << std::min(n, 10L)); ++i) {
          value.push_back(static_cast<char>(random()));
        }
      },
      [&](long) { return cache_->Put(kNs, "k1", value); },
      [&](long, const Status& s) {
        ExpectOneOf("k1", s.ok() ? Values{value} : Values{model_["k1"], value});
      });
  ASSERT_NO_FATAL_FAILURE(ExpectTheModelAfterAReopen());
}

// Past eight new keys each Put evicts one from L1, told to the listener.
TEST_P(OutOfMemoryTest, APutOfANewKey) {
  std::string key;
  std::string value;
  test_util::SweepAllocations(
      [&](long n) {
        key = Tag("new ", n);
        value = Value(key);
      },
      [&](long) { return cache_->Put(kNs, key, value); },
      [&](long, const Status& s) {
        ExpectOneOf(key, s.ok() ? Values{value} : Values{std::nullopt, value});
      });
  ASSERT_NO_FATAL_FAILURE(ExpectTheModelAfterAReopen());
}

TEST_P(OutOfMemoryTest, ADelete) {
  test_util::SweepAllocations([&](long n) { Write("k2", Tag("before delete ", n)); },
        [&](long) { return cache_->Delete(kNs, "k2"); },
        [&](long n, const Status& s) {
          const std::optional<std::string> before = Value(Tag("before delete ", n));
          ExpectOneOf("k2", s.ok() ? Values{std::nullopt} : Values{before, std::nullopt});
        });
  ASSERT_NO_FATAL_FAILURE(ExpectTheModelAfterAReopen());
}

TEST_P(OutOfMemoryTest, ACompareAndPut) {
  std::uint64_t expected = 0;
  std::string value;
  test_util::SweepAllocations(
      [&](long n) {
        Entry entry;
        ASSERT_TRUE(cache_->GetEntry(kNs, "k3", &entry).ok());
        expected = entry.version;
        value = Value(Tag("cas ", n));
      },
      [&](long) { return cache_->CompareAndPut(kNs, "k3", expected, value); },
      [&](long, const Status& s) {
        ExpectOneOf("k3", s.ok() ? Values{value} : Values{model_["k3"], value});
      });
  ASSERT_NO_FATAL_FAILURE(ExpectTheModelAfterAReopen());
}

TEST_P(OutOfMemoryTest, AGetOfAnEntryInL1) {
  std::string value;
  test_util::SweepAllocations(
      test_util::NothingToPrepare, [&](long) { return cache_->Get(kNs, "k4", &value); },
      [&](long, const Status& s) {
        if (s.ok()) {
          EXPECT_EQ(value, model_["k4"]);
        }
        ExpectOneOf("k4", Values{model_["k4"]});
      });
}

TEST_P(OutOfMemoryTest, AGetManyOfEntriesInL1) {
  const std::vector<std::string> keys = {"k4", "k5"};
  std::vector<Status> statuses;
  std::vector<std::string> values;
  test_util::SweepAllocations(
      test_util::NothingToPrepare,
      [&](long) {
        cache_->GetMany(kNs, keys, &statuses, &values);
        for (const Status& s : statuses) {
          if (!s.ok() && !s.IsNotFound()) return s;
        }
        return Status::OK();
      },
      [&](long, const Status&) {
        ASSERT_EQ(statuses.size(), keys.size());
        ASSERT_EQ(values.size(), keys.size());
        for (std::size_t i = 0; i < keys.size(); ++i) {
          SCOPED_TRACE(keys[i]);
          if (statuses[i].ok()) {
            EXPECT_EQ(values[i], model_[keys[i]]);
          } else if (statuses[i].IsNotFound()) {
            EXPECT_EQ(model_[keys[i]], std::nullopt);
          }
        }
      });
}

// A key L1 evicted while the buffer still holds it (sixteen newer keys
// pushed it out): the Get reads the buffer and puts the entry back into L1,
// evicting another.
TEST_P(OutOfMemoryTest, AGetOfAnEntryOnlyTheBufferHolds) {
  std::string key;
  std::string value;
  test_util::SweepAllocations(
      [&](long n) {
        key = Tag("buffered ", n);
        Write(key, key);
        for (int i = 0; i < 16; ++i) {
          ASSERT_TRUE(cache_->Put(kNs, Tag("filler ", n * 16 + i), "x").ok());
        }
      },
      [&](long) { return cache_->Get(kNs, key, &value); },
      [&](long, const Status& s) {
        if (s.ok()) {
          EXPECT_EQ(value, Value(key));
        }
        ExpectOneOf(key, Values{Value(key)});
      });
  ASSERT_NO_FATAL_FAILURE(ExpectTheModelAfterAReopen());
}

INSTANTIATE_TEST_SUITE_P(Configs, OutOfMemoryTest,
                         ::testing::Values(Config{"lru", EvictionPolicy::kLRU, Compression::kNone},
                                           Config{"lfu_lz4", EvictionPolicy::kLFU,
                                                  Compression::kLz4}),
                         [](const auto& info) { return std::string(info.param.name); });

// A batch the flusher has no memory to build whole (2 MB of writes, refused
// past 1 MiB) is written in parts of 64 KiB, in the same attempt.
TEST(WriteBehindOutOfMemoryTest, ABatchThereIsNoMemoryToBuildWholeIsWrittenInParts) {
  if (!test_util::AllocationsCanFail()) GTEST_SKIP() << "allocations cannot fail here";
  test_util::TempDir dir;
  Options o;
  o.path = dir.path();
  o.write_policy = WritePolicy::kWriteBehind;
  o.write_buffer.flush_interval = hours(1);
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(o, &cache).ok());
  constexpr int kKeys = 2000;
  const std::string value(1000, 'v');
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(cache->Put(kNs, Tag("key ", i), value).ok());
  test_util::FailAllocationOfAtLeast(std::size_t{1} << 20);
  ASSERT_TRUE(cache->Flush(seconds(30)).ok());
  EXPECT_TRUE(test_util::LargeAllocationFailed());
  test_util::FailAllocationOfAtLeast(0);
  EXPECT_EQ(cache->GetStats().write_buffer.flush_failures, 0u);
  ASSERT_TRUE(cache->Close(seconds(30)).ok());

  o.write_policy = WritePolicy::kWriteThrough;
  ASSERT_TRUE(Cache::Open(o, &cache).ok());
  for (int i = 0; i < kKeys; ++i) {
    std::string got;
    ASSERT_TRUE(cache->Get(kNs, Tag("key ", i), &got).ok()) << i;
    EXPECT_EQ(got, value);
  }
}

// The in-memory tier filling from empty past its bound, so that its table,
// arena pages, frequency buckets, expiry heap and removal events all grow while
// an allocation fails: whatever failed, each key is found with its value or
// not at all, the counts agree, and the tier then takes and gives back every
// key.
class MemoryTierOutOfMemoryTest : public ::testing::TestWithParam<EvictionPolicy> {};

TEST_P(MemoryTierOutOfMemoryTest, FillingFromEmpty) {
  constexpr std::size_t kKeys = 200;
  constexpr std::size_t kBound = 64;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  for (std::size_t i = 0; i < kKeys; ++i) {
    keys.push_back(Tag("key ", static_cast<long>(i)));
    values.push_back(std::string(8 * (i % 40), 'v'));  // nodes of many size classes
  }
  auto write = [&](std::size_t i) {
    engine::TierWrite w;
    w.ns = 1;
    w.key = keys[i];
    w.value = values[i];
    w.version = i + 1;
    w.ttl = i % 2 == 0 ? std::chrono::milliseconds(0) : hours(1);
    return w;
  };
  for (long n = 0; n < kMostAllocations; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n) + " failing");
    engine::MemoryTierOptions o;
    o.max_entries = kBound;
    o.shards = 1;
    o.policy = GetParam();
    const TimePoint now = ManualClock().Now();
    std::vector<std::string> removed;
    o.listener = [&](const engine::Removal& r) { removed.push_back(r.key); };
    std::unique_ptr<engine::MemoryTier> tier;
    ASSERT_TRUE(engine::MemoryTier::Create(o, &tier).ok());

    std::vector<Status> statuses(kKeys);
    bool thrown = false;
    test_util::FailAllocation(n);
    try {
      for (std::size_t i = 0; i < kKeys; ++i) statuses[i] = tier->Insert(write(i), now);
    } catch (...) {
      thrown = true;
    }
    const bool failed = test_util::AllocationFailed();
    test_util::FailAllocation(-1);
    ASSERT_FALSE(thrown) << "an exception left the tier";

    std::size_t found = 0;
    for (std::size_t i = 0; i < kKeys; ++i) {
      Entry entry;
      if (!tier->Lookup(1, keys[i], now, &entry)) continue;
      ++found;
      EXPECT_TRUE(statuses[i].ok());
      EXPECT_EQ(entry.value, values[i]);
    }
    EXPECT_EQ(tier->Stats().entries, found);
    EXPECT_LE(found, kBound);
    for (std::size_t i = 0; i < kKeys; ++i) ASSERT_TRUE(tier->Insert(write(i), now).ok());
    for (std::size_t i = 0; i < kKeys; ++i) tier->Erase(1, keys[i], RemovalCause::kDeleted);
    EXPECT_EQ(tier->Stats().entries, 0u);
    EXPECT_EQ(tier->Stats().bytes, 0u);
    if (!failed) return;
  }
  FAIL() << "filling the tier still allocated after " << kMostAllocations << " allocations";
}

// `count` keys of namespace `ns` whose hashes place them in the last 1/256 of
// any table (engine/key_hash.h, engine/handle_table.h): more than fit there,
// so that their probe runs wrap around its end.
std::vector<std::string> KeysPlacedLast(std::uint32_t ns, std::size_t count) {
  std::vector<std::string> keys;
  for (long i = 0; keys.size() < count; ++i) {
    std::string key = Tag("last ", i);
    if (static_cast<std::uint32_t>(engine::HashKey(ns, key)) >= 0xFF000000u) {
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

// Dropping a namespace's entries from L1 allocates nothing it needs: however
// short memory is, every entry of the namespace leaves (a removal event may
// be lost) and every other stays; entries of both sit in probe runs that wrap
// around the end of the table.
TEST_P(MemoryTierOutOfMemoryTest, ErasingANamespace) {
  constexpr std::size_t kKeys = 300;  // each namespace's
  constexpr std::size_t kLast = 16;   // of those, placed last in the table
  std::map<std::uint32_t, std::vector<std::string>> keys;
  for (std::uint32_t ns : {1u, 2u}) {
    keys[ns] = KeysPlacedLast(ns, kLast);
    for (std::size_t i = kLast; i < kKeys; ++i) keys[ns].push_back(Tag("key ", static_cast<long>(i)));
  }
  for (long n = 0; n < kMostAllocations; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n) + " failing");
    engine::MemoryTierOptions o;
    o.max_entries = 4 * kKeys;
    o.shards = 1;
    o.policy = GetParam();
    const TimePoint now = ManualClock().Now();
    std::size_t removed = 0;
    o.listener = [&](const engine::Removal&) { ++removed; };
    std::unique_ptr<engine::MemoryTier> tier;
    ASSERT_TRUE(engine::MemoryTier::Create(o, &tier).ok());
    for (const auto& [ns, its_keys] : keys) {
      for (const std::string& key : its_keys) {
        engine::TierWrite w;
        w.ns = ns;
        w.key = key;
        w.value = key;
        w.version = 1;
        ASSERT_TRUE(tier->Insert(w, now).ok());
      }
    }

    std::size_t erased = 0;
    bool thrown = false;
    test_util::FailAllocation(n);
    try {
      erased = tier->EraseNamespace(1);
    } catch (...) {
      thrown = true;
    }
    const bool failed = test_util::AllocationFailed();
    test_util::FailAllocation(-1);
    ASSERT_FALSE(thrown) << "an exception left the tier";

    EXPECT_EQ(erased, kKeys);
    EXPECT_LE(removed, kKeys);
    if (!failed) {
      EXPECT_EQ(removed, kKeys);
    }
    EXPECT_EQ(tier->Stats().entries, kKeys);
    for (const std::string& key : keys[1]) {
      Entry entry;
      EXPECT_FALSE(tier->Lookup(1, key, now, &entry)) << key;
    }
    for (const std::string& key : keys[2]) {
      Entry entry;
      ASSERT_TRUE(tier->Lookup(2, key, now, &entry)) << key;
      EXPECT_EQ(entry.value, key);
    }
    if (!failed) return;
  }
  FAIL() << "erasing a namespace still allocated after " << kMostAllocations << " allocations";
}

INSTANTIATE_TEST_SUITE_P(Policies, MemoryTierOutOfMemoryTest,
                         ::testing::Values(EvictionPolicy::kLRU, EvictionPolicy::kLFU,
                                           EvictionPolicy::kFIFO, EvictionPolicy::kTTL,
                                           EvictionPolicy::kAdaptive));

}  // namespace
}  // namespace tiercache
