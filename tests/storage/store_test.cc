#include "storage/store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "storage/fault_file_system.h"
#include "storage/record_format.h"
#include "tests/storage/allocation_tracker.h"
#include "tests/util/run_mode.h"
#include "tests/util/temp_dir.h"
#include "tiercache/options.h"

namespace tiercache::storage {
namespace {

using ::testing::Test;

class StoreTest : public Test {
 protected:
  void SetUp() override { Reopen(); }

  virtual StoreOptions MakeOptions() const {
    StoreOptions options;
    options.path = dir_.Sub("store");
    return options;
  }

  void Reopen() {
    store_.reset();
    const Status s = Store::Open(MakeOptions(), &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Namespace Ns(std::string_view name) {
    Namespace ns;
    const Status s = store_->OpenNamespace(name, &ns);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ns;
  }

  void Put(const Namespace& ns, std::string_view key, std::string_view record) {
    const Status s = store_->Put(ns, key, record);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // The record of `key`, or "<NotFound>".
  std::string Get(const Namespace& ns, std::string_view key) {
    std::string record;
    const Status s = store_->Get(ns, key, &record);
    if (s.IsNotFound()) return "<NotFound>";
    EXPECT_TRUE(s.ok()) << s.ToString();
    return record;
  }

  std::vector<std::string> Keys(const Namespace& ns, std::string_view prefix = {}) {
    std::vector<std::string> keys;
    const Status s = store_->ForEach(ns, prefix, [&](std::string_view key, std::string_view) {
      keys.emplace_back(key);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return keys;
  }

  test_util::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, GetReturnsWhatPutWrote) {
  const Namespace ns = Ns("a");
  Put(ns, "key", std::string("rec\0ord", 7));
  EXPECT_EQ(Get(ns, "key"), std::string("rec\0ord", 7));
}

TEST_F(StoreTest, GetOfAMissingKeyIsNotFound) { EXPECT_EQ(Get(Ns("a"), "missing"), "<NotFound>"); }

TEST_F(StoreTest, PutOverwritesAndDeleteRemoves) {
  const Namespace ns = Ns("a");
  Put(ns, "key", "one");
  Put(ns, "key", "two");
  EXPECT_EQ(Get(ns, "key"), "two");
  ASSERT_TRUE(store_->Delete(ns, "key").ok());
  EXPECT_EQ(Get(ns, "key"), "<NotFound>");
}

// The store's calls count nothing in the calling thread's RocksDB perf
// context, whatever level the thread set, and leave the level as they found it.
TEST_F(StoreTest, ReadsAndWritesLeaveTheThreadsPerfContextAsItWas) {
  // Gives the test's thread back its level, however the test ends.
  struct RestoreLevel {
    ~RestoreLevel() { rocksdb::SetPerfLevel(level); }
    rocksdb::PerfLevel level = rocksdb::GetPerfLevel();
  } restore;
  const Namespace ns = Ns("a");
  for (const rocksdb::PerfLevel level :
       {rocksdb::PerfLevel::kDisable, rocksdb::PerfLevel::kEnableCount,
        rocksdb::PerfLevel::kEnableTime}) {
    rocksdb::SetPerfLevel(level);
    rocksdb::get_perf_context()->Reset();
    Put(ns, "key", "one");
    StoreBatch batch = store_->NewBatch();
    ASSERT_TRUE(batch.Put(ns, "other", "two").ok());
    ASSERT_TRUE(store_->Write(&batch).ok());
    EXPECT_EQ(Get(ns, "key"), "one");
    ASSERT_TRUE(store_->Delete(ns, "gone").ok());
    std::vector<std::string> records;
    std::vector<Status> statuses;
    store_->GetMany(ns, {"key", "other"}, &records, &statuses);
    EXPECT_EQ(records, (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(rocksdb::GetPerfLevel(), level);
    const rocksdb::PerfContext& counted = *rocksdb::get_perf_context();
    EXPECT_EQ(counted.user_key_comparison_count, 0u) << "at level " << int{level};
    EXPECT_EQ(counted.get_from_memtable_count, 0u) << "at level " << int{level};
    EXPECT_EQ(counted.write_memtable_time, 0u) << "at level " << int{level};
  }
}

TEST_F(StoreTest, AcceptsAKeyOfTheMaximumLengthAndRejectsALongerOne) {
  const Namespace ns = Ns("a");
  Put(ns, std::string(kMaxKeyBytes, 'k'), "r");
  const Status s = store_->Put(ns, std::string(kMaxKeyBytes + 1, 'k'), "r");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), fmt::format("key is {} bytes, longer than the limit of {}",
                                     kMaxKeyBytes + 1, kMaxKeyBytes));
}

TEST_F(StoreTest, RejectsEmptyAndOverlongNamespaceNames) {
  Namespace ns;
  Status s = store_->OpenNamespace("", &ns);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "namespace name is empty");
  s = store_->OpenNamespace(std::string(256, 'n'), &ns);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "namespace name is 256 bytes, longer than the limit of 255");
  EXPECT_TRUE(store_->OpenNamespace(std::string(255, 'n'), &ns).ok());
}

TEST_F(StoreTest, TheSameKeyInTwoNamespacesIsTwoEntries) {
  const Namespace a = Ns("a");
  const Namespace b = Ns("b");
  Put(a, "key", "in a");
  Put(b, "key", "in b");
  EXPECT_EQ(Get(a, "key"), "in a");
  EXPECT_EQ(Get(b, "key"), "in b");
  ASSERT_TRUE(store_->Delete(a, "key").ok());
  EXPECT_EQ(Get(b, "key"), "in b");
}

TEST_F(StoreTest, OpenNamespaceReturnsTheSameIdEachTime) {
  const Namespace first = Ns("a");
  const Namespace again = Ns("a");
  EXPECT_EQ(first.id, again.id);
  EXPECT_NE(Ns("b").id, first.id);
}

TEST_F(StoreTest, ListNamespacesListsLiveOnesByName) {
  Ns("zeta");
  Ns("alpha");
  Ns("mid");
  ASSERT_TRUE(store_->DropNamespace("mid").ok());
  std::vector<Namespace> namespaces;
  ASSERT_TRUE(store_->ListNamespaces(&namespaces).ok());
  ASSERT_EQ(namespaces.size(), 2u);
  EXPECT_EQ(namespaces[0].name, "alpha");
  EXPECT_EQ(namespaces[1].name, "zeta");
  EXPECT_EQ(namespaces[1].id, Ns("zeta").id);
}

// ---------------------------------------------------------------------------
// Batches

TEST_F(StoreTest, BatchAppliesPutsAndDeletesAcrossNamespacesTogether) {
  const Namespace a = Ns("a");
  const Namespace b = Ns("b");
  Put(a, "old", "x");
  StoreBatch batch = store_->NewBatch();
  ASSERT_TRUE(batch.Put(a, "k1", "v1").ok());
  ASSERT_TRUE(batch.Put(b, "k2", "v2").ok());
  ASSERT_TRUE(batch.Delete(a, "old").ok());
  EXPECT_EQ(batch.Count(), 3u);
  EXPECT_EQ(Get(a, "k1"), "<NotFound>");
  ASSERT_TRUE(store_->Write(&batch).ok());
  EXPECT_EQ(Get(a, "k1"), "v1");
  EXPECT_EQ(Get(b, "k2"), "v2");
  EXPECT_EQ(Get(a, "old"), "<NotFound>");
}

TEST_F(StoreTest, BatchTouchingADroppedNamespaceWritesNothing) {
  const Namespace live = Ns("live");
  const Namespace doomed = Ns("doomed");
  StoreBatch batch = store_->NewBatch();
  ASSERT_TRUE(batch.Put(live, "k", "v").ok());
  ASSERT_TRUE(batch.Put(doomed, "k", "v").ok());
  ASSERT_TRUE(store_->DropNamespace("doomed").ok());
  const Status s = store_->Write(&batch);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("namespace id {} ", doomed.id)), std::string::npos)
      << s.ToString();
  EXPECT_EQ(Get(live, "k"), "<NotFound>");
}

// The flusher's way: a drop between the batch's making and its write takes
// the namespace's writes with it, and the rest is written.
TEST_F(StoreTest, BatchThatLeavesOutDroppedNamespacesWritesTheRest) {
  const Namespace before = Ns("before");
  const Namespace doomed = Ns("doomed");
  const Namespace after = Ns("after");
  StoreBatch batch = store_->NewBatch();
  ASSERT_TRUE(batch.Put(before, "k", "v1").ok());
  ASSERT_TRUE(batch.Put(doomed, "k", "gone").ok());
  ASSERT_TRUE(batch.Delete(doomed, "other").ok());
  ASSERT_TRUE(batch.Put(after, "k", "v2").ok());
  ASSERT_TRUE(batch.Put(before, "old", "x").ok());
  ASSERT_TRUE(store_->Put(after, "stale", "x").ok());
  ASSERT_TRUE(batch.Delete(after, "stale").ok());
  ASSERT_TRUE(store_->DropNamespace("doomed").ok());

  std::size_t written = 0;
  const Status s = store_->Write(&batch, Store::DroppedNamespaces::kLeaveOut, &written);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(written, 4u);
  EXPECT_EQ(Get(before, "k"), "v1");
  EXPECT_EQ(Get(before, "old"), "x");
  EXPECT_EQ(Get(after, "k"), "v2");
  EXPECT_EQ(Get(after, "stale"), "<NotFound>");
  EXPECT_EQ(batch.Count(), 6u);  // the batch keeps its contents
  // Nothing landed in the dropped namespace's range behind its tombstone.
  std::unique_ptr<StoreIterator> it;
  ASSERT_TRUE(store_->NewIterator(doomed, "", &it).ok());
  EXPECT_FALSE(it->Valid()) << "found '" << it->key() << "' in the dropped namespace";
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
}

TEST_F(StoreTest, BatchOfDroppedNamespacesAloneWritesNothingAndSucceeds) {
  const Namespace doomed = Ns("doomed");
  StoreBatch batch = store_->NewBatch();
  ASSERT_TRUE(batch.Put(doomed, "k", "v").ok());
  ASSERT_TRUE(store_->DropNamespace("doomed").ok());
  std::size_t written = 1;
  const Status s = store_->Write(&batch, Store::DroppedNamespaces::kLeaveOut, &written);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(written, 0u);
}

TEST_F(StoreTest, BatchRejectsAnOverlongKeyAndStaysUnchanged) {
  StoreBatch batch = store_->NewBatch();
  EXPECT_TRUE(batch.Put(Ns("a"), std::string(kMaxKeyBytes + 1, 'k'), "v").IsInvalidArgument());
  EXPECT_EQ(batch.Count(), 0u);
}

TEST_F(StoreTest, ClearedBatchWritesNothing) {
  const Namespace ns = Ns("a");
  StoreBatch batch = store_->NewBatch();
  ASSERT_TRUE(batch.Put(ns, "k", "v").ok());
  batch.Clear();
  ASSERT_TRUE(store_->Write(&batch).ok());
  EXPECT_EQ(Get(ns, "k"), "<NotFound>");
}

// A batch reused for writes like its last allocates nothing (write-behind's
// flusher reuses one); one that held a burst past 8 MiB gives its buffer back.
TEST_F(StoreTest, AClearedBatchKeepsItsBufferForALikeUseButNotABurstsBuffer) {
  const Namespace ns = Ns("a");
  const std::string record(1000, 'r');
  auto fill = [&](StoreBatch* batch, int writes) {
    for (int i = 0; i < writes; ++i) {
      ASSERT_TRUE(batch->Put(ns, "key" + std::to_string(i), record).ok());
    }
  };
  StoreBatch batch = store_->NewBatch();
  fill(&batch, 1000);
  batch.Clear();
  {
    AllocationTracker tracker;
    fill(&batch, 1000);
    EXPECT_EQ(tracker.largest(), 0u);
  }
  batch.Clear();
  fill(&batch, 9000);  // 9 MB
  batch.Clear();
  AllocationTracker tracker;
  fill(&batch, 10);
  EXPECT_GT(tracker.largest(), 0u);       // the burst's buffer was given back
  EXPECT_LT(tracker.largest(), 100'000u);  // and a small one grown for this use
  ASSERT_TRUE(store_->Write(&batch).ok());
  EXPECT_EQ(Get(ns, "key9"), record);
  EXPECT_EQ(Get(ns, "key10"), "<NotFound>");
}

// ---------------------------------------------------------------------------
// Iteration

TEST_F(StoreTest, IteratesOneNamespaceInKeyOrder) {
  const Namespace a = Ns("a");
  const Namespace b = Ns("b");
  for (const char* key : {"c", "a", "b"}) Put(a, key, "x");
  Put(b, "", "x");
  Put(b, "0", "x");
  EXPECT_EQ(Keys(a), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Keys(b), (std::vector<std::string>{"", "0"}));
}

TEST_F(StoreTest, IteratorGivesKeysAndRecords) {
  const Namespace ns = Ns("a");
  Put(ns, "k1", "r1");
  Put(ns, "k2", "r2");
  std::unique_ptr<StoreIterator> it;
  ASSERT_TRUE(store_->NewIterator(ns, "", &it).ok());
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k1");
  EXPECT_EQ(it->record(), "r1");
  it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k2");
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST_F(StoreTest, PrefixIterationVisitsOnlyKeysWithThePrefix) {
  const Namespace ns = Ns("a");
  for (const char* key : {"ap", "app", "apple", "apq", "b", "a"}) Put(ns, key, "x");
  EXPECT_EQ(Keys(ns, "app"), (std::vector<std::string>{"app", "apple"}));
  EXPECT_EQ(Keys(ns, "ap"), (std::vector<std::string>{"ap", "app", "apple", "apq"}));
  EXPECT_TRUE(Keys(ns, "zz").empty());
}

TEST_F(StoreTest, PrefixEndingInFfIncludesEveryKeyWithIt) {
  const Namespace ns = Ns("a");
  const Namespace next = Ns("b");
  const std::string ff("\xff", 1);
  const std::vector<std::string> inside = {"a" + ff, "a" + ff + std::string(1, '\0'), "a" + ff + ff,
                                           "a" + ff + ff + ff};
  for (const std::string& key : inside) Put(ns, key, "x");
  Put(ns, "b", "x");
  Put(ns, ff, "x");
  Put(next, "a" + ff, "other namespace");
  EXPECT_EQ(Keys(ns, "a" + ff), inside);
  EXPECT_EQ(Keys(ns, ff + ff), std::vector<std::string>{});
  EXPECT_EQ(Keys(ns, ff), std::vector<std::string>{ff});
}

TEST_F(StoreTest, ForEachStopsWhenTheVisitorSaysSo) {
  const Namespace ns = Ns("a");
  for (const char* key : {"1", "2", "3"}) Put(ns, key, "x");
  int visited = 0;
  ASSERT_TRUE(
      store_->ForEach(ns, "", [&](std::string_view, std::string_view) { return ++visited < 2; })
          .ok());
  EXPECT_EQ(visited, 2);
}

TEST_F(StoreTest, IterationMatchesAModelForRandomKeysAndPrefixes) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  std::printf("IterationMatchesAModelForRandomKeysAndPrefixes: seed %llu "
              "(TIERCACHE_SEED replays it)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  // A tiny alphabet with 0x00 and 0xff makes shared prefixes and edge bytes common.
  const std::string alphabet("\x00\x01\x7f\xfe\xff", 5);
  auto random_string = [&](std::size_t max_length) {
    std::string s(std::uniform_int_distribution<std::size_t>(0, max_length)(random), '\0');
    for (char& c : s) c = alphabet[std::uniform_int_distribution<std::size_t>(0, 4)(random)];
    return s;
  };
  const Namespace ns = Ns("random");
  std::map<std::string, std::string> model;
  for (int i = 0; i < 300; ++i) {
    const std::string key = random_string(4);
    model[key] = std::to_string(i);
    Put(ns, key, model[key]);
  }
  for (int i = 0; i < 100; ++i) {
    const std::string prefix = random_string(3);
    std::vector<std::string> expected;
    for (const auto& [key, record] : model) {
      if (key.compare(0, prefix.size(), prefix) == 0) expected.push_back(key);
    }
    ASSERT_EQ(Keys(ns, prefix), expected) << "prefix of " << prefix.size() << " bytes";
  }
}

// ---------------------------------------------------------------------------
// Dropping namespaces

TEST_F(StoreTest, DropRemovesTheNamespaceAndItsKeysAndKeepsOthers) {
  const Namespace doomed = Ns("doomed");
  const Namespace kept = Ns("kept");
  Put(doomed, "k", "v");
  Put(kept, "k", "v");
  ASSERT_TRUE(store_->DropNamespace("doomed").ok());
  EXPECT_EQ(Get(doomed, "k"), "<NotFound>");
  EXPECT_TRUE(Keys(doomed).empty());
  EXPECT_EQ(Get(kept, "k"), "v");
  Namespace ns;
  EXPECT_TRUE(store_->OpenNamespace("kept", &ns).ok());
}

TEST_F(StoreTest, DropOfAMissingNamespaceIsNotFound) {
  const Status s = store_->DropNamespace("nothing");
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("'nothing'"), std::string::npos) << s.ToString();
}

TEST_F(StoreTest, WritesThroughTheHandleOfADroppedNamespaceAreNotFound) {
  const Namespace ns = Ns("a");
  ASSERT_TRUE(store_->DropNamespace("a").ok());
  EXPECT_TRUE(store_->Put(ns, "k", "v").IsNotFound());
  EXPECT_TRUE(store_->Delete(ns, "k").IsNotFound());
  EXPECT_TRUE(Keys(ns).empty());
}

TEST_F(StoreTest, ANamespaceRecreatedAfterADropIsEmptyWithANewId) {
  const Namespace old = Ns("a");
  Put(old, "k", "v");
  ASSERT_TRUE(store_->DropNamespace("a").ok());
  const Namespace fresh = Ns("a");
  EXPECT_GT(fresh.id, old.id);
  EXPECT_EQ(Get(fresh, "k"), "<NotFound>");
}

TEST_F(StoreTest, ALargeNamespaceDropsWithOneTombstoneAndOthersStay) {
  const Namespace large = Ns("large");
  const Namespace other = Ns("other");
  const int kKeys = 50'000;
  StoreBatch batch = store_->NewBatch();
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(batch.Put(large, fmt::format("key{:08}", i), std::string(100, 'v')).ok());
    if (batch.Count() == 1000) {
      ASSERT_TRUE(store_->Write(&batch).ok());
      batch.Clear();
    }
  }
  Put(other, "key00000001", "kept");
  ASSERT_TRUE(store_->Compact().ok());  // the data in SST files, as after a long run
  StoreStats before;
  ASSERT_TRUE(store_->GetStats(&before).ok());

  ASSERT_TRUE(store_->DropNamespace("large").ok());
  StoreStats after;
  ASSERT_TRUE(store_->GetStats(&after).ok());

  // One range tombstone, not a delete per key: the memtable barely grows.
  EXPECT_LT(after.memtable_bytes, before.memtable_bytes + 64 * 1024);
  EXPECT_TRUE(Keys(large).empty());
  EXPECT_EQ(Get(other, "key00000001"), "kept");
  // Compaction reclaims the dropped keys.
  ASSERT_TRUE(store_->Compact().ok());
  ASSERT_TRUE(store_->GetStats(&after).ok());
  EXPECT_LT(after.estimated_keys, 100u);
  EXPECT_LT(after.sst_bytes, before.sst_bytes / 10);
}

TEST_F(StoreTest, NoWriteSurvivesAConcurrentDrop) {
  const Namespace ns = Ns("contended");
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        if (!store_->Put(ns, fmt::format("{}-{}", t, i), "v").ok()) return;
        written.fetch_add(1);
      }
    });
  }
  while (written.load() < 200) std::this_thread::yield();
  ASSERT_TRUE(store_->DropNamespace("contended").ok());
  for (std::thread& writer : writers) writer.join();
  EXPECT_TRUE(Keys(ns).empty());
}

// ---------------------------------------------------------------------------
// Reopening

TEST_F(StoreTest, NamespacesAndDataSurviveAReopen) {
  const Namespace a = Ns("a");
  const Namespace b = Ns("b");
  Put(a, "k", "in a");
  Put(b, "k", "in b");
  Reopen();
  EXPECT_EQ(Ns("a").id, a.id);
  EXPECT_EQ(Ns("b").id, b.id);
  EXPECT_EQ(Get(a, "k"), "in a");
  EXPECT_EQ(Get(b, "k"), "in b");
}

TEST_F(StoreTest, IdsAreNeverReusedAfterDropAndReopen) {
  const Namespace a = Ns("a");
  const Namespace b = Ns("b");
  Put(b, "k", "old b");
  ASSERT_TRUE(store_->DropNamespace("b").ok());
  Reopen();
  const Namespace c = Ns("c");
  const Namespace b_again = Ns("b");
  EXPECT_GT(c.id, b.id);
  EXPECT_GT(b_again.id, c.id);
  EXPECT_EQ(Ns("a").id, a.id);
  EXPECT_EQ(Get(b_again, "k"), "<NotFound>");
  EXPECT_EQ(Get(c, "k"), "<NotFound>");
}

TEST_F(StoreTest, ADropSurvivesAReopen) {
  const Namespace ns = Ns("a");
  Put(ns, "k", "v");
  ASSERT_TRUE(store_->DropNamespace("a").ok());
  Reopen();
  std::vector<Namespace> namespaces;
  ASSERT_TRUE(store_->ListNamespaces(&namespaces).ok());
  EXPECT_TRUE(namespaces.empty());
  EXPECT_EQ(Get(ns, "k"), "<NotFound>");
}

// ---------------------------------------------------------------------------
// The version ceiling

TEST_F(StoreTest, TheVersionCeilingRisesToKMaxVersionPlusOneAndNoFurther) {
  ASSERT_TRUE(store_->RaiseVersionCeiling(kMaxVersion + 1).ok());
  const Status s = store_->RaiseVersionCeiling(kMaxVersion + 2);
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_EQ(s.message(),
            fmt::format("the store at {} has used up its entry versions: a version ceiling of {} "
                        "is above {}",
                        MakeOptions().path, kMaxVersion + 2, kMaxVersion + 1));
  EXPECT_TRUE(store_->RaiseVersionCeiling(UINT64_MAX).IsNotSupported());
  EXPECT_EQ(store_->version_ceiling(), kMaxVersion + 1);
  Reopen();
  EXPECT_EQ(store_->version_ceiling(), kMaxVersion + 1);
}

// Raised from two threads at once, the ceiling ends at the highest value
// asked for, in memory and on disk, and never goes down on the way.
TEST_F(StoreTest, ConcurrentRaisesOfTheVersionCeilingKeepTheHighest) {
  constexpr std::uint64_t kRaises = 200;
  std::atomic<bool> done{false};
  std::atomic<bool> went_down{false};
  std::thread reader([&] {
    for (std::uint64_t last = 0; !done.load();) {
      const std::uint64_t now = store_->version_ceiling();
      if (now < last) went_down = true;
      last = now;
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> raisers;
  for (std::uint64_t t = 0; t < 2; ++t) {
    raisers.emplace_back([&, t] {
      for (std::uint64_t i = 1; i <= kRaises; ++i) {
        EXPECT_TRUE(store_->RaiseVersionCeiling(2 * i + t).ok());
      }
    });
  }
  for (std::thread& raiser : raisers) raiser.join();
  done = true;
  reader.join();
  EXPECT_FALSE(went_down.load());
  EXPECT_EQ(store_->version_ceiling(), 2 * kRaises + 1);
  Reopen();
  EXPECT_EQ(store_->version_ceiling(), 2 * kRaises + 1);
}

TEST_F(StoreTest, StatsCountKeysAndFilesAfterACompaction) {
  const Namespace ns = Ns("a");
  for (int i = 0; i < 100; ++i) Put(ns, fmt::format("k{}", i), "v");
  ASSERT_TRUE(store_->Compact().ok());
  StoreStats stats;
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  EXPECT_EQ(stats.estimated_keys, 100u);
  EXPECT_GE(stats.sst_files, 1u);
  EXPECT_GT(stats.sst_bytes, 0u);
}

// ---------------------------------------------------------------------------
// Durability and free space

// Durability kPowerLoss over a file system that forgets, as a power cut does,
// what was never synced: a clean reopen would keep unsynced writes too.
class StoreSyncedTest : public StoreTest {
 protected:
  StoreOptions MakeOptions() const override {
    StoreOptions options = StoreTest::MakeOptions();
    options.durability = Durability::kPowerLoss;
    options.file_system = fs_;
    return options;
  }

  // Cuts the power (nothing more reaches the disk, not even at close), keeps
  // what was synced, and opens the store again.
  void CutPowerAndReopen() {
    fs_->CutPower();
    store_.reset();
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    Reopen();
  }

  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
};

TEST_F(StoreSyncedTest, PowerLossDurabilityKeepsAWriteThroughAPowerCut) {
  const Namespace ns = Ns("a");
  Put(ns, "k", "v");
  ASSERT_NO_FATAL_FAILURE(CutPowerAndReopen());
  EXPECT_EQ(Get(ns, "k"), "v");
}

// A file system whose free space the test sets.
class StoreFreeSpaceTest : public StoreTest {
 protected:
  static constexpr std::uint64_t kReserve = 64 * 1024 * 1024;

  StoreOptions MakeOptions() const override {
    StoreOptions options = StoreTest::MakeOptions();
    options.free_space_reserve = kReserve;
    options.clock = clock_;
    options.free_space_probe = [free = free_bytes_](const std::string&, std::uint64_t* free_bytes) {
      *free_bytes = free->load();
      return Status::OK();
    };
    return options;
  }

  std::shared_ptr<std::atomic<std::uint64_t>> free_bytes_ =
      std::make_shared<std::atomic<std::uint64_t>>(std::uint64_t{1} << 40);
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(StoreFreeSpaceTest, RefusesWritesBelowTheReserveAndWritesNothing) {
  const Namespace ns = Ns("a");
  free_bytes_->store(kReserve - 1);
  clock_->Advance(std::chrono::seconds(2));  // past the recheck interval
  const Status s = store_->Put(ns, "k", "v");
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  const StoreOptions options = MakeOptions();
  EXPECT_EQ(s.message(),
            fmt::format("free space on FS of {} is {} bytes, below the reserve of {} bytes",
                        options.path, kReserve - 1, options.EffectiveFreeSpaceReserve()));
  StoreBatch batch = store_->NewBatch();
  ASSERT_TRUE(batch.Put(ns, "k2", "v").ok());
  EXPECT_TRUE(store_->Write(&batch).IsNoSpace());
  Namespace other;
  EXPECT_TRUE(store_->OpenNamespace("b", &other).IsNoSpace());
  EXPECT_EQ(Get(ns, "k"), "<NotFound>");
  EXPECT_EQ(Get(ns, "k2"), "<NotFound>");
}

TEST_F(StoreFreeSpaceTest, KeepsRoomForRocksDbFlushesAboveTheConfiguredReserve) {
  const Namespace ns = Ns("a");
  const std::uint64_t effective = MakeOptions().EffectiveFreeSpaceReserve();
  ASSERT_EQ(effective, kReserve + 3 * MakeOptions().write_buffer_bytes);
  free_bytes_->store(effective - 1);
  clock_->Advance(std::chrono::seconds(2));
  EXPECT_TRUE(store_->Put(ns, "k", "v").IsNoSpace());
  free_bytes_->store(effective + 1024 * 1024);
  EXPECT_TRUE(store_->Put(ns, "k", "v").ok());
}

// Enough for writes, too little for the compaction's output: refused before
// RocksDB starts, at once (no waiting out the recheck interval).
TEST_F(StoreFreeSpaceTest, CompactNeedsRoomForItsOutputAboveTheReserve) {
  const Namespace ns = Ns("a");
  std::mt19937 random(1);  // values RocksDB cannot compress
  std::string value(1000, '\0');
  for (int i = 0; i < 1000; ++i) {
    for (char& c : value) c = static_cast<char>(random());
    Put(ns, fmt::format("k{:04}", i), value);
  }
  ASSERT_TRUE(store_->Compact().ok());  // about 1 MB of SST files
  StoreStats stats;
  ASSERT_TRUE(store_->GetStats(&stats).ok());
  ASSERT_GT(stats.sst_bytes, 900u * 1000);
  const std::uint64_t effective = MakeOptions().EffectiveFreeSpaceReserve();
  free_bytes_->store(effective + 64 * 1024);
  const Status s = store_->Compact();
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(
      s.message().find(fmt::format("is {} bytes; compacting needs about ", effective + 64 * 1024)),
      std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find(fmt::format("above the reserve of {} bytes", effective)),
            std::string::npos)
      << s.ToString();
  free_bytes_->store(effective + 8 * 1024 * 1024);
  EXPECT_TRUE(store_->Compact().ok());
}

TEST_F(StoreFreeSpaceTest, CompactOfAnEmptyStoreNeedsOnlyTheReserve) {
  free_bytes_->store(MakeOptions().EffectiveFreeSpaceReserve() - 1);
  EXPECT_TRUE(store_->Compact().IsNoSpace());
  free_bytes_->store(MakeOptions().EffectiveFreeSpaceReserve());
  EXPECT_TRUE(store_->Compact().ok());
}

TEST_F(StoreFreeSpaceTest, WritesResumeWhenSpaceReturns) {
  const Namespace ns = Ns("a");
  free_bytes_->store(kReserve / 2);
  clock_->Advance(std::chrono::seconds(2));
  ASSERT_TRUE(store_->Put(ns, "k", "v").IsNoSpace());
  free_bytes_->store(std::uint64_t{1} << 40);
  EXPECT_TRUE(store_->Put(ns, "k", "v").ok());
  EXPECT_EQ(Get(ns, "k"), "v");
}

}  // namespace
}  // namespace tiercache::storage
