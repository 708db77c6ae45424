#include "tiercache/cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <rocksdb/statistics.h>

#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/util/record_seal.h"
#include "tests/util/temp_dir.h"

namespace tiercache {
namespace {

using std::chrono::milliseconds;
using test_util::TempDir;
using ::testing::HasSubstr;

constexpr milliseconds kDeadline{30'000};

class RecordingListener : public EventListener {
 public:
  void OnRemoval(const RemovalEvent& event) override {
    std::lock_guard lock(mu_);
    removals_.push_back(std::string(event.ns) + "/" + std::string(event.key) + ":" +
                        std::string(Name(event.cause)));
  }
  std::vector<std::string> removals() {
    std::lock_guard lock(mu_);
    return removals_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> removals_;
};

constexpr WritePolicy kWritePolicies[] = {WritePolicy::kWriteThrough, WritePolicy::kWriteBehind,
                                          WritePolicy::kWriteAround};

class CacheTest : public ::testing::Test {
 protected:
  CacheTest() {
    options_.path = dir_.Sub("store");
    options_.clock = clock_;
    options_.free_space_reserve = 1024 * 1024;
  }

  // The next Open writes by `policy`, into a store of the policy's own.
  void UsePolicy(WritePolicy policy) {
    options_.write_policy = policy;
    options_.path = dir_.Sub(std::string(Name(policy)));
  }

  std::unique_ptr<Cache> Open() {
    std::unique_ptr<Cache> cache;
    Status s = Cache::Open(options_, &cache);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return cache;
  }

  // The cache's store, opened below it (the cache closed).
  std::unique_ptr<storage::Store> OpenStore() {
    storage::StoreOptions store_options;
    store_options.path = options_.path;
    store_options.free_space_reserve = options_.free_space_reserve;
    std::unique_ptr<storage::Store> store;
    Status s = storage::Store::Open(store_options, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  static std::string Get(Cache& cache, std::string_view ns, std::string_view key) {
    std::string value;
    Status s = cache.Get(ns, key, &value);
    return s.ok() ? value : s.ToString();
  }

  // The store's disk as the test sets it: plenty of room, or (true) less
  // than the free-space reserve, so that every write is refused with
  // NoSpace. A change is seen once the guard's last reading is older than
  // its recheck interval: SetDiskFull advances the clock past it.
  void SimulateDisk() {
    options_.adjust_store_for_testing = [full = disk_full_](storage::StoreOptions* store) {
      const std::uint64_t reserve = store->EffectiveFreeSpaceReserve();
      store->free_space_probe = [full, reserve](const std::string&, std::uint64_t* bytes) {
        *bytes = full->load() ? reserve / 2 : reserve + (std::uint64_t{1} << 30);
        return Status::OK();
      };
    };
  }
  void SetDiskFull(bool full) {
    disk_full_->store(full);
    clock_->Advance(std::chrono::seconds(2));
  }

  TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Options options_;
  std::shared_ptr<std::atomic<bool>> disk_full_ = std::make_shared<std::atomic<bool>>(false);
};

TEST_F(CacheTest, EntriesSurviveCloseAndReopenInTheirNamespaces) {
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("users", "alice", "admin").ok());
    ASSERT_TRUE(cache->Put("thumbnails", "alice", "\x89PNG").ok());
    ASSERT_TRUE(cache->Close(kDeadline).ok());
  }
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "users", "alice"), "admin");
  EXPECT_EQ(Get(*cache, "thumbnails", "alice"), "\x89PNG");
  EXPECT_TRUE(cache->Contains("users", "bob").IsNotFound());
  EXPECT_EQ(cache->GetStats().disk.hits, 2u);
}

// Near the free-space reserve, a flush the store refuses as a whole goes in
// parts that fit, rather than waiting for far more space to be freed.
TEST_F(CacheTest, WriteBehindWritesABatchTooLargeForTheHeadroomInParts) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.max_value_bytes = 64 * 1024;
  options_.write_buffer.max_bytes = 2 * 1024 * 1024;
  options_.adjust_store_for_testing = [](storage::StoreOptions* store) {
    // 1.5 MiB above the reserve: room for the batch's 1 MiB, not for the
    // twice as much (WAL, then SST) the guard charges for all of it at once.
    const std::uint64_t free = store->EffectiveFreeSpaceReserve() + 1536 * 1024;
    store->free_space_probe = [free](const std::string&, std::uint64_t* bytes) {
      *bytes = free;
      return Status::OK();
    };
  };
  auto cache = Open();
  const std::string value(4096, 'v');
  constexpr int kEntries = 256;
  for (int i = 0; i < kEntries; ++i) {
    ASSERT_TRUE(cache->Put("ns", "k" + std::to_string(i), value).ok());
  }
  ASSERT_TRUE(cache->Flush(kDeadline).ok());
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.write_buffer.flush_failures, 0u);
  EXPECT_EQ(stats.disk.writes, static_cast<std::uint64_t>(kEntries));
}

// A part refused midway leaves the parts before it in the store: once space
// is back, the retry writes only the rest, so each entry reaches RocksDB once.
TEST_F(CacheTest, WriteBehindRetriesOnlyThePartsNotYetWritten) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.max_value_bytes = 64 * 1024;
  options_.write_buffer.max_bytes = 2 * 1024 * 1024;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  // The free bytes above the reserve that the next probes see, then plenty.
  struct Script {
    std::mutex mu;
    std::deque<std::int64_t> above_reserve;
  };
  auto script = std::make_shared<Script>();
  options_.adjust_store_for_testing = [script](storage::StoreOptions* store) {
    const std::int64_t reserve = static_cast<std::int64_t>(store->EffectiveFreeSpaceReserve());
    store->free_space_probe = [script, reserve](const std::string&, std::uint64_t* bytes) {
      std::lock_guard lock(script->mu);
      std::int64_t above = std::int64_t{1} << 30;
      if (!script->above_reserve.empty()) {
        above = script->above_reserve.front();
        script->above_reserve.pop_front();
      }
      *bytes = static_cast<std::uint64_t>(reserve + above);
      return Status::OK();
    };
  };
  auto cache = Open();
  const std::string value(4096, 'v');
  constexpr int kEntries = 64;  // 4 parts of 64 KiB
  for (int i = 0; i < kEntries; ++i) {
    ASSERT_TRUE(cache->Put("ns", "k" + std::to_string(i), value).ok());
  }
  {
    std::lock_guard lock(script->mu);
    // The whole batch: no headroom. The first part: room for it (the guard
    // charges twice its size) and nothing after it. The second: below the
    // reserve.
    script->above_reserve = {0, 200 * 1024, -1};
  }
  clock_->Advance(std::chrono::seconds(2));  // past the guard's recheck: the next write probes
  ASSERT_TRUE(cache->Flush(kDeadline).ok());
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.write_buffer.flush_failures, 1u);
  EXPECT_EQ(stats.disk.writes, static_cast<std::uint64_t>(kEntries));
  for (int i = 0; i < kEntries; ++i) {
    EXPECT_EQ(Get(*cache, "ns", "k" + std::to_string(i)), value) << i;
  }
}

// A write RocksDB refuses leaves L1 as it was, never newer than RocksDB: the
// entry keeps its value and version, and a new key stays absent.
TEST_F(CacheTest, AWriteTheStoreRefusesLeavesL1AsItWas) {
  SimulateDisk();
  for (const WritePolicy policy : {WritePolicy::kWriteThrough, WritePolicy::kWriteAround}) {
    SCOPED_TRACE(Name(policy));
    UsePolicy(policy);
    SetDiskFull(false);
    auto cache = Open();
    std::uint64_t version = 0;
    ASSERT_TRUE(cache->Put("ns", "k", "old", {}, &version).ok());
    EXPECT_EQ(Get(*cache, "ns", "k"), "old");  // in L1 now, under write-around too
    SetDiskFull(true);
    EXPECT_TRUE(cache->Put("ns", "k", "new").IsNoSpace());
    EXPECT_TRUE(cache->CompareAndPut("ns", "k", version, "new").IsNoSpace());
    EXPECT_TRUE(cache->Put("ns", "fresh", "v").IsNoSpace());
    Entry entry;
    ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
    EXPECT_EQ(entry.value, "old");
    EXPECT_EQ(entry.version, version);
    EXPECT_TRUE(cache->Contains("ns", "fresh").IsNotFound());
    EXPECT_EQ(cache->GetStats().memory.entries, 1u);
    SetDiskFull(false);
    ASSERT_TRUE(cache->Put("ns", "k", "new").ok());
    EXPECT_EQ(Get(*cache, "ns", "k"), "new");
  }
}

// Tells the test of each flush failure, in order.
class FlushFailureListener : public EventListener {
 public:
  void OnFlushFailure(const FlushFailureEvent& event) override {
    std::lock_guard lock(mu_);
    failures_.push_back(event);
    changed_.notify_all();
  }
  // Waits (real time, generously: the flusher retries in real time) for the
  // first `count` failures.
  bool WaitForFailures(std::size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return failures_.size() >= count; });
  }
  std::vector<FlushFailureEvent> failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<FlushFailureEvent> failures_;
};

// While RocksDB refuses a batch, the flusher retries it; each failure is
// counted and told to the listener, its writes stay readable (from the buffer,
// once L1 evicted them), the buffer reports their age, and a writer finding it
// full is refused after max_wait. Once the disk has room again, all of it is
// written.
TEST_F(CacheTest, AFailingFlushIsToldToTheListenerAndItsWritesStayReadable) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  options_.write_buffer.max_entries = 1;  // a write is a batch, flushed at once
  options_.write_buffer.max_wait = milliseconds(0);
  options_.l1_max_entries = 1;
  options_.l1_shards = 1;
  auto listener = std::make_shared<FlushFailureListener>();
  options_.listener = listener;
  SimulateDisk();
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "before", "v").ok());
    ASSERT_TRUE(cache->Flush(kDeadline).ok());
    SetDiskFull(true);
    ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
    ASSERT_TRUE(listener->WaitForFailures(1));
    const FlushFailureEvent first = listener->failures()[0];
    EXPECT_TRUE(first.status.IsNoSpace()) << first.status.ToString();
    EXPECT_EQ(first.entries, 1u);
    EXPECT_EQ(first.attempt, 1u);

    clock_->Advance(std::chrono::seconds(5));
    ASSERT_TRUE(cache->Put("ns", "second", "v").ok());  // the next batch, and k leaves L1
    const Status refused = cache->Put("ns", "third", "v");
    EXPECT_TRUE(refused.IsBusy()) << refused.ToString();
    EXPECT_EQ(Get(*cache, "ns", "k"), "v");
    CacheStats stats = cache->GetStats();
    EXPECT_EQ(stats.disk.hits, 0u);
    EXPECT_GE(stats.write_buffer.flush_failures, 1u);
    EXPECT_EQ(stats.write_buffer.writers_refused, 1u);
    EXPECT_EQ(stats.write_buffer.entries, 2u);
    EXPECT_EQ(stats.write_buffer.oldest_unflushed_age, std::chrono::seconds(5));

    SetDiskFull(false);
    ASSERT_TRUE(cache->Flush(kDeadline).ok());
    stats = cache->GetStats();
    EXPECT_EQ(stats.write_buffer.entries, 0u);
    EXPECT_EQ(stats.write_buffer.oldest_unflushed_age, milliseconds(0));
    const std::vector<FlushFailureEvent> failures = listener->failures();
    EXPECT_EQ(stats.write_buffer.flush_failures, failures.size());
    for (std::size_t i = 0; i < failures.size(); ++i) {
      EXPECT_EQ(failures[i].attempt, i + 1) << "the same batch, tried again and again";
    }
    ASSERT_TRUE(cache->Close(kDeadline).ok());
  }
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  EXPECT_EQ(Get(*cache, "ns", "second"), "v");
  EXPECT_TRUE(cache->Contains("ns", "third").IsNotFound());
}

// One Get is one L1 lookup in the statistics, whether it hits, misses and
// reads RocksDB, or misses everywhere.
TEST_F(CacheTest, AGetCountsOneL1HitOrMiss) {
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  }
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");  // from RocksDB
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");  // from L1
  EXPECT_TRUE(cache->Contains("ns", "absent").IsNotFound());
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.memory.hits, 1u);
  EXPECT_EQ(stats.memory.misses, 2u);
  EXPECT_DOUBLE_EQ(stats.memory.hit_ratio, 1.0 / 3);
  EXPECT_EQ(stats.disk.hits, 1u);
  EXPECT_EQ(stats.disk.misses, 1u);
}

TEST_F(CacheTest, TheSameKeyInTwoNamespacesIsTwoEntries) {
  auto cache = Open();
  ASSERT_TRUE(cache->Put("a", "k", "1").ok());
  ASSERT_TRUE(cache->Put("b", "k", "2").ok());
  ASSERT_TRUE(cache->Delete("a", "k").ok());
  EXPECT_TRUE(cache->Contains("a", "k").IsNotFound());
  EXPECT_EQ(Get(*cache, "b", "k"), "2");
}

TEST_F(CacheTest, VersionsGrowAcrossWritesAndRestarts) {
  std::uint64_t first = 0, second = 0, third = 0;
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "k", "1", {}, &first).ok());
    ASSERT_TRUE(cache->Put("ns", "other", "1", {}, &second).ok());
    EXPECT_GT(second, first);
  }
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "2", {}, &third).ok());
  EXPECT_GT(third, second);
  Entry entry;
  ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
  EXPECT_EQ(entry.version, third);
}

// A key deleted before a restart leaves no record to hold its version: its
// next write still gets a greater one, under each write policy.
TEST_F(CacheTest, AKeyDeletedBeforeARestartIsWrittenAgainWithAGreaterVersion) {
  for (const WritePolicy policy : kWritePolicies) {
    SCOPED_TRACE(Name(policy));
    UsePolicy(policy);
    std::uint64_t deleted = 0, again = 0;
    {
      auto cache = Open();
      ASSERT_TRUE(cache->Put("ns", "k", "1", {}, &deleted).ok());
      ASSERT_TRUE(cache->Delete("ns", "k").ok());
    }
    auto cache = Open();
    EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
    ASSERT_TRUE(cache->Put("ns", "k", "2", {}, &again).ok());
    EXPECT_GT(again, deleted);
  }
}

// A store an earlier build wrote, its records in format 1: read as they are,
// their versions kept, and each replaced by a record of format 2 when written.
TEST_F(CacheTest, RecordsOfFormatOneAreReadAndRewrittenInFormatTwo) {
  std::uint64_t v = 0;
  {
    auto cache = Open();
    WriteOptions write;
    write.ttl = std::chrono::hours(1);
    write.metadata = {{"type", "text"}};
    ASSERT_TRUE(cache->Put("ns", "k", "old", write, &v).ok());
  }
  storage::Namespace ns;
  std::string record;
  const auto read_record = [&] {
    const std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->OpenNamespace("ns", &ns).ok());
    ASSERT_TRUE(store->Get(ns, "k", &record).ok());
  };
  ASSERT_NO_FATAL_FAILURE(read_record());
  {
    storage::RecordHeader header;
    ASSERT_TRUE(storage::ParseRecordHeader(record, &header).ok());
    ASSERT_EQ(header.format_version, 2);
    std::string old_header("TCR\xc9\x01", 5);
    old_header += static_cast<char>(header.flags);
    old_header.append(2, '\0');
    const std::int64_t expires_at = header.expires_at->time_since_epoch().count();
    old_header.append(reinterpret_cast<const char*>(&expires_at), sizeof expires_at);
    old_header.append(reinterpret_cast<const char*>(&header.version), sizeof header.version);
    const std::string old_record = test_util::FormatOneRecord(
        old_header, std::string_view(record).substr(header.payload_offset, header.payload_length));
    const std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put(ns, "k", old_record).ok());
  }
  {
    auto cache = Open();
    Entry entry;
    ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
    EXPECT_EQ(entry.value, "old");
    EXPECT_EQ(entry.version, v);
    EXPECT_EQ(entry.expires_at, clock_->Now() + std::chrono::hours(1));
    EXPECT_EQ(entry.metadata, (std::map<std::string, std::string>{{"type", "text"}}));
    EXPECT_TRUE(cache->CompareAndPut("ns", "k", v, "new").ok());
  }
  ASSERT_NO_FATAL_FAILURE(read_record());
  storage::RecordHeader header;
  ASSERT_TRUE(storage::ParseRecordHeader(record, &header).ok());
  EXPECT_EQ(header.format_version, 2);
  Entry rewritten;
  ASSERT_TRUE(storage::DecodeRecord(record, &rewritten).ok());
  EXPECT_EQ(rewritten.value, "new");
  EXPECT_GT(rewritten.version, v);
}

// The last versions are handed out, then writes are refused: a version never
// wraps around to 0.
TEST_F(CacheTest, WritesAreRefusedOnceTheVersionsAreUsedUp) {
  {
    const std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->RaiseVersionCeiling(storage::kMaxVersion - 1).ok());
  }
  auto cache = Open();
  std::uint64_t version = 0;
  ASSERT_TRUE(cache->Put("ns", "a", "1", {}, &version).ok());
  EXPECT_EQ(version, storage::kMaxVersion - 1);
  ASSERT_TRUE(cache->Put("ns", "b", "2", {}, &version).ok());
  EXPECT_EQ(version, storage::kMaxVersion);
  const Status s = cache->Put("ns", "c", "3");
  EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("has used up its entry versions"));
  EXPECT_EQ(Get(*cache, "ns", "a"), "1");
}

TEST_F(CacheTest, CompareAndPutWritesOnlyOverTheExpectedVersion) {
  auto cache = Open();
  std::uint64_t v1 = 0, v2 = 0;
  ASSERT_TRUE(cache->CompareAndPut("ns", "k", 0, "first", {}, &v1).ok());
  Status s = cache->CompareAndPut("ns", "k", 0, "again");
  EXPECT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("not the expected 0"));
  ASSERT_TRUE(cache->CompareAndPut("ns", "k", v1, "second", {}, &v2).ok());
  EXPECT_TRUE(cache->CompareAndPut("ns", "k", v1, "stale").IsConflict());
  EXPECT_EQ(Get(*cache, "ns", "k"), "second");
}

TEST_F(CacheTest, CompareAndPutOverAVersionInANamespaceThatIsNotThereMakesNone) {
  auto cache = Open();
  const Status s = cache->CompareAndPut("nowhere", "k", 7, "v");
  EXPECT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("no such namespace"));
  EXPECT_TRUE(cache->DropNamespace("nowhere").IsNotFound());
  EXPECT_TRUE(cache->CompareAndPut("", "k", 7, "v").IsInvalidArgument());  // the name, first
}

TEST_F(CacheTest, CompareAndPutSeesTheVersionOnDiskAfterRestart) {
  std::uint64_t v = 0;
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "k", "1", {}, &v).ok());
  }
  auto cache = Open();
  EXPECT_TRUE(cache->CompareAndPut("ns", "k", v - 1, "x").IsConflict());
  EXPECT_TRUE(cache->CompareAndPut("ns", "k", v, "2").ok());
}

// Below L1 the version comes from the record's header: an expired record
// counts as no entry, and CompareAndPut leaves L1 holding only what it wrote.
TEST_F(CacheTest, CompareAndPutTreatsAnExpiredRecordOnDiskAsAbsent) {
  std::uint64_t v = 0;
  {
    auto cache = Open();
    WriteOptions write;
    write.ttl = milliseconds(1000);
    ASSERT_TRUE(cache->Put("ns", "k", "old", write, &v).ok());
  }
  clock_->Advance(milliseconds(1000));
  auto cache = Open();
  EXPECT_TRUE(cache->CompareAndPut("ns", "k", v, "x").IsConflict());
  std::uint64_t next = 0;
  ASSERT_TRUE(cache->CompareAndPut("ns", "k", 0, "new", {}, &next).ok());
  EXPECT_GT(next, v);
  EXPECT_EQ(Get(*cache, "ns", "k"), "new");
  // Both CompareAndPuts read the expired record, a miss as a Get counts it.
  EXPECT_EQ(cache->GetStats().disk.hits, 0u);
  EXPECT_EQ(cache->GetStats().disk.misses, 2u);
}

TEST_F(CacheTest, CompareAndPutSeesTheVersionInTheWriteBufferAfterEviction) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.l1_max_entries = 1;
  options_.l1_shards = 1;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  auto cache = Open();
  std::uint64_t v = 0;
  ASSERT_TRUE(cache->Put("ns", "k", "1", {}, &v).ok());
  ASSERT_TRUE(cache->Put("ns", "other", "evicts k").ok());
  ASSERT_EQ(cache->GetStats().memory.evicted, 1u);
  EXPECT_TRUE(cache->CompareAndPut("ns", "k", v - 1, "x").IsConflict());
  EXPECT_TRUE(cache->CompareAndPut("ns", "k", v, "2").ok());
  EXPECT_EQ(cache->GetStats().disk.hits, 0u);  // the buffer answered
  ASSERT_TRUE(cache->Flush(kDeadline).ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "2");
}

TEST_F(CacheTest, ConcurrentCompareAndPutLosesNoIncrement) {
  options_.l1_max_entries = 16;
  options_.l1_shards = 1;
  auto cache = Open();
  constexpr int kThreads = 4, kIncrements = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements;) {
        Entry entry;
        Status s = cache->GetEntry("ns", "counter", &entry);
        const int current = s.ok() ? std::stoi(entry.value) : 0;
        if (cache->CompareAndPut("ns", "counter", s.ok() ? entry.version : 0,
                                 std::to_string(current + 1))
                .ok()) {
          ++i;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Get(*cache, "ns", "counter"), std::to_string(kThreads * kIncrements));
}

TEST_F(CacheTest, EntriesExpireAndStayExpiredAfterRestart) {
  {
    auto cache = Open();
    WriteOptions write;
    write.ttl = milliseconds(1000);
    ASSERT_TRUE(cache->Put("ns", "short", "v", write).ok());
    ASSERT_TRUE(cache->Put("ns", "forever", "v").ok());
    clock_->Advance(milliseconds(999));
    EXPECT_EQ(Get(*cache, "ns", "short"), "v");
  }
  clock_->Advance(milliseconds(1));
  auto cache = Open();
  EXPECT_TRUE(cache->Contains("ns", "short").IsNotFound());
  EXPECT_EQ(Get(*cache, "ns", "forever"), "v");
}

TEST_F(CacheTest, TheDefaultTtlAppliesToWritesWithoutTheirOwn) {
  options_.default_ttl = milliseconds(50);
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  WriteOptions own;
  own.ttl = milliseconds(100);
  ASSERT_TRUE(cache->Put("ns", "own", "v", own).ok());
  WriteOptions forever;
  forever.ttl = milliseconds(0);
  ASSERT_TRUE(cache->Put("ns", "forever", "v", forever).ok());
  clock_->Advance(milliseconds(49));
  EXPECT_TRUE(cache->Contains("ns", "k").ok());
  clock_->Advance(milliseconds(1));
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
  EXPECT_TRUE(cache->Contains("ns", "own").ok());
  clock_->Advance(milliseconds(50));
  EXPECT_TRUE(cache->Contains("ns", "own").IsNotFound());
  EXPECT_TRUE(cache->Contains("ns", "forever").ok());
}

TEST_F(CacheTest, GetEntryCarriesEveryField) {
  auto cache = Open();
  const TimePoint start = clock_->Now();
  WriteOptions write;
  write.ttl = milliseconds(60'000);
  write.metadata = {{"content-type", "text/plain"}};
  std::uint64_t version = 0;
  ASSERT_TRUE(cache->Put("ns", "k", "value", write, &version).ok());
  clock_->Advance(milliseconds(10));
  Entry entry;
  ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
  EXPECT_EQ(entry.key, "k");
  EXPECT_EQ(entry.value, "value");
  EXPECT_EQ(entry.version, version);
  EXPECT_EQ(entry.created_at, start);
  EXPECT_EQ(entry.expires_at, start + milliseconds(60'000));
  EXPECT_EQ(entry.last_accessed, start + milliseconds(10));
  EXPECT_EQ(entry.access_count, 1u);
  EXPECT_EQ(entry.metadata.at("content-type"), "text/plain");

  // The same fields when the entry comes from RocksDB, L1 being empty.
  cache.reset();
  cache = Open();
  Entry from_disk;
  ASSERT_TRUE(cache->GetEntry("ns", "k", &from_disk).ok());
  EXPECT_EQ(from_disk.key, "k");
  EXPECT_EQ(from_disk.value, "value");
  EXPECT_EQ(from_disk.version, version);
  EXPECT_EQ(from_disk.created_at, start);
  EXPECT_EQ(from_disk.expires_at, start + milliseconds(60'000));
  EXPECT_EQ(from_disk.metadata.at("content-type"), "text/plain");
}

// Also when the record read below L1 had expired: its value is not left
// behind in the caller's string.
TEST_F(CacheTest, AFailedGetLeavesTheValueEmpty) {
  {
    auto cache = Open();
    WriteOptions write;
    write.ttl = milliseconds(10);
    ASSERT_TRUE(cache->Put("ns", "expiring", "stale", write).ok());
    ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  }
  clock_->Advance(milliseconds(20));
  auto cache = Open();
  for (const auto& [ns, key] : {std::pair{"ns", "missing"}, {"no-such-namespace", "k"},
                                {"ns", "expiring"}}) {
    std::string value = "left over";
    EXPECT_TRUE(cache->Get(ns, key, &value).IsNotFound()) << key;
    EXPECT_EQ(value, "") << key;
  }
}

// The expired record read from disk must not lend its expiry to the value
// the loader then supplies without a TTL.
TEST_F(CacheTest, AValueLoadedAfterAnExpiredRecordHasItsOwnExpiry) {
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.loader = [](std::string_view, std::string_view, LoadedValue* out) {
    out->value = "fresh";
    return Status::OK();
  };
  {
    auto cache = Open();
    WriteOptions write;
    write.ttl = milliseconds(10);
    ASSERT_TRUE(cache->Put("ns", "k", "stale", write).ok());
  }
  clock_->Advance(milliseconds(20));
  auto cache = Open();
  Entry entry;
  ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
  EXPECT_EQ(entry.value, "fresh");
  EXPECT_FALSE(entry.expires_at.has_value());
}

TEST_F(CacheTest, WriteAroundLeavesMemoryAndReadsFromDisk) {
  options_.write_policy = WritePolicy::kWriteAround;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  EXPECT_EQ(cache->GetStats().memory.entries, 0u);
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  EXPECT_EQ(cache->GetStats().disk.hits, 1u);
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  EXPECT_EQ(cache->GetStats().disk.hits, 1u) << "the first read brought it into memory";
}

TEST_F(CacheTest, WriteBehindServesWritesBeforeTheyAreFlushed) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  options_.l1_max_entries = 2;
  options_.l1_shards = 1;
  auto cache = Open();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache->Put("ns", "k" + std::to_string(i), std::to_string(i)).ok());
  }
  EXPECT_EQ(cache->GetStats().disk.writes, 0u);
  EXPECT_EQ(cache->GetStats().write_buffer.entries, 10u);
  EXPECT_EQ(cache->GetStats().memory.evicted, 8u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Get(*cache, "ns", "k" + std::to_string(i)), std::to_string(i));
  }
  ASSERT_TRUE(cache->Flush(kDeadline).ok());
  EXPECT_EQ(cache->GetStats().disk.writes, 10u);
  EXPECT_EQ(cache->GetStats().write_buffer.entries, 0u);
}

// Counted by RocksDB itself, not by the cache: a flush is one WriteBatch,
// one write of RocksDB's, however many entries it carries.
TEST_F(CacheTest, WriteBehindFlushesTheBufferInOneRocksDbWrite) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  const std::shared_ptr<rocksdb::Statistics> statistics = rocksdb::CreateDBStatistics();
  options_.adjust_store_for_testing = [statistics](storage::StoreOptions* store) {
    store->statistics = statistics;
  };
  const auto writes = [&statistics] {
    return statistics->getTickerCount(rocksdb::WRITE_DONE_BY_SELF) +
           statistics->getTickerCount(rocksdb::WRITE_DONE_BY_OTHER);
  };
  auto cache = Open();
  constexpr int kEntries = 200;
  for (int i = 0; i < kEntries; ++i) {
    ASSERT_TRUE(cache->Put("ns", "k" + std::to_string(i), std::to_string(i)).ok());
  }
  ASSERT_TRUE(cache->Delete("ns", "k0").ok());
  const std::uint64_t writes_before = writes();
  const std::uint64_t keys_before = statistics->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN);
  ASSERT_TRUE(cache->Flush(kDeadline).ok());
  EXPECT_EQ(writes() - writes_before, 1u);
  // 199 puts and the delete that k0's put and delete coalesced into.
  EXPECT_EQ(statistics->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN) - keys_before,
            static_cast<std::uint64_t>(kEntries));
  EXPECT_EQ(cache->GetStats().write_buffer.flushes, 1u);
}

TEST_F(CacheTest, WriteBehindCoalescesAndKeepsPerKeyOrder) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  {
    auto cache = Open();
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(cache->Put("ns", "hot", std::to_string(i)).ok());
    ASSERT_TRUE(cache->Put("ns", "gone", "1").ok());
    ASSERT_TRUE(cache->Delete("ns", "gone").ok());
    ASSERT_TRUE(cache->Put("ns", "back", "1").ok());
    ASSERT_TRUE(cache->Delete("ns", "back").ok());
    ASSERT_TRUE(cache->Put("ns", "back", "2").ok());
    EXPECT_TRUE(cache->Contains("ns", "gone").IsNotFound());
    ASSERT_TRUE(cache->Flush(kDeadline).ok());
    EXPECT_EQ(cache->GetStats().disk.writes, 3u);
    EXPECT_EQ(cache->GetStats().write_buffer.flushes, 1u);
  }
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "hot"), "49");
  EXPECT_TRUE(cache->Contains("ns", "gone").IsNotFound());
  EXPECT_EQ(Get(*cache, "ns", "back"), "2");
}

TEST_F(CacheTest, CloseDrainsTheWriteBuffer) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
    std::vector<NamespacedKey> unwritten;
    ASSERT_TRUE(cache->Close(kDeadline, &unwritten).ok());
    EXPECT_TRUE(unwritten.empty());
    EXPECT_EQ(cache->GetStats().write_buffer.flushes, 1u);
    EXPECT_EQ(cache->GetStats().disk.writes, 1u);
    EXPECT_TRUE(cache->Put("ns", "k", "v").IsInvalidArgument());
  }
  options_.write_policy = WritePolicy::kWriteThrough;
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
}

// A deadline below zero is a mistake, not "do not wait": refused, and the
// cache stays open.
TEST_F(CacheTest, FlushAndCloseRefuseANegativeDeadline) {
  options_.write_policy = WritePolicy::kWriteBehind;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  for (const Status& s : {cache->Flush(milliseconds(-1)), cache->Close(milliseconds(-1))}) {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("is -1ms: must be 0 ms or more"));
  }
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  EXPECT_TRUE(cache->Close(kDeadline).ok());
}

// What Close could not write by its deadline it names, namespace and key; the
// rest of the buffer is written.
TEST_F(CacheTest, CloseNamesTheKeysItCouldNotWrite) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  options_.write_buffer.max_entries = 2;  // the two writes below are a batch at once
  auto listener = std::make_shared<FlushFailureListener>();
  options_.listener = listener;
  SimulateDisk();
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "written", "v").ok());
    // The namespaces exist before the disk fills.
    ASSERT_TRUE(cache->Put("other", "written", "v").ok());
    ASSERT_TRUE(cache->Flush(kDeadline).ok());
    SetDiskFull(true);
    ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
    ASSERT_TRUE(cache->Put("other", "k", "v").ok());
    ASSERT_TRUE(listener->WaitForFailures(1));  // the message below names the failure
    std::vector<NamespacedKey> unwritten;
    const Status s = cache->Close(milliseconds(200), &unwritten);
    EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
    EXPECT_THAT(s.message(),
                HasSubstr("close did not finish within 200ms: 2 writes still buffered"));
    EXPECT_THAT(s.message(), HasSubstr("NoSpace"));
    std::sort(unwritten.begin(), unwritten.end());
    EXPECT_EQ(unwritten, (std::vector<NamespacedKey>{{"ns", "k"}, {"other", "k"}}));
  }
  SetDiskFull(false);
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "written"), "v");
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
}

// An open that fails after RocksDB opened the directory (here the new store's
// first write meets a full disk) closes what it opened: the next open works.
TEST_F(CacheTest, AnOpenThatFailsPartWayLeavesNothingOpen) {
  SimulateDisk();
  SetDiskFull(true);
  std::unique_ptr<Cache> cache;
  const Status s = Cache::Open(options_, &cache);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_EQ(cache, nullptr);
  SetDiskFull(false);
  cache = Open();
  ASSERT_NE(cache, nullptr);
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
}

// A Get that misses L1 reads below it without the key's lock, unless a
// writer holds it. A copy it read before a write must not land in L1 after
// the write: under write-around each Put drops the key from L1, and such a
// copy would be served until evicted. Each Get returns a value at least as
// new as the last one acknowledged before it began, and once the key is
// deleted nothing is left to find.
TEST_F(CacheTest, AReadWithoutTheKeysLockNeverLeavesAnOlderCopyInL1) {
  constexpr int kWrites = 20000;
  options_.write_policy = WritePolicy::kWriteAround;
  auto cache = Open();
  std::atomic<int> acknowledged{0};
  std::atomic<bool> done{false};
  std::atomic<int> older{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::string value;
      while (!done.load()) {
        const int before = acknowledged.load();
        const Status s = cache->Get("ns", "k", &value);
        if (s.ok() && std::stoi(value) < before) ++older;
        if (!s.ok() && !s.IsNotFound()) ++failed;
      }
    });
  }
  for (int i = 1; i <= kWrites; ++i) {
    ASSERT_TRUE(cache->Put("ns", "k", std::to_string(i)).ok());
    acknowledged.store(i);
  }
  ASSERT_TRUE(cache->Delete("ns", "k").ok());
  done.store(true);
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(older.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  std::string value;
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound()) << value;
}

// A clock that stops one thread, the next time it reads the time, until the
// test lets it go on.
class StoppingClock final : public Clock {
 public:
  TimePoint Now() const override {
    if (std::this_thread::get_id() == target_.load()) {
      target_.store(std::thread::id());
      stopped_.set_value();
      going_.wait();
    }
    return clock_.Now();
  }
  void StopNextRead(std::thread::id thread) { target_.store(thread); }
  void WaitUntilStopped() { stopped_.get_future().wait(); }
  void Go() { go_.set_value(); }

 private:
  ManualClock clock_;
  mutable std::atomic<std::thread::id> target_;
  mutable std::promise<void> stopped_;
  std::promise<void> go_;
  std::shared_future<void> going_ = go_.get_future().share();
};

// Close refuses new calls at once but waits for the calls already inside: a
// Put stopped while it creates its namespace finishes, under every policy,
// and is kept.
TEST_F(CacheTest, CloseWaitsForTheCallsAlreadyInside) {
  for (const WritePolicy policy : kWritePolicies) {
    SCOPED_TRACE(Name(policy));
    auto clock = std::make_shared<StoppingClock>();
    UsePolicy(policy);
    options_.clock = clock;
    auto cache = Open();
    Status put;
    std::thread writer([&] {
      clock->StopNextRead(std::this_thread::get_id());
      put = cache->Put("ns", "k", "v");
    });
    clock->WaitUntilStopped();
    Status closed;
    std::atomic<bool> close_returned{false};
    std::thread closer([&] {
      closed = cache->Close(kDeadline);
      close_returned = true;
    });
    while (!cache->Flush(kDeadline).IsInvalidArgument()) std::this_thread::yield();
    EXPECT_FALSE(close_returned.load());
    clock->Go();
    writer.join();
    closer.join();
    EXPECT_TRUE(put.ok()) << put.ToString();
    EXPECT_TRUE(closed.ok()) << closed.ToString();
    options_.clock = clock_;
    cache = Open();
    EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  }
}

// A value too large for a shard of L1 is written all the same: the L1 copy of
// the version before it goes, replaced.
TEST_F(CacheTest, AValueTooLargeForL1ReplacesTheCopyItHeld) {
  auto listener = std::make_shared<RecordingListener>();
  options_.listener = listener;
  options_.l1_max_bytes = 1024 * 1024;  // 64 KiB in each of 16 shards
  options_.write_buffer.max_bytes = 1024 * 1024;
  options_.max_value_bytes = 100 * 1024;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "small").ok());
  ASSERT_TRUE(cache->Put("ns", "k", std::string(100 * 1024, 'x')).ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), std::string(100 * 1024, 'x'));
  EXPECT_EQ(listener->removals(), std::vector<std::string>{"ns/k:replaced"});
}

// An entry found expired in L1 leaves it with an 'expired' event, and the
// read answers NotFound: its record in RocksDB has expired too.
TEST_F(CacheTest, AnEntryExpiredInL1IsReportedExpired) {
  auto listener = std::make_shared<RecordingListener>();
  options_.listener = listener;
  auto cache = Open();
  WriteOptions write;
  write.ttl = milliseconds(100);
  ASSERT_TRUE(cache->Put("ns", "k", "v", write).ok());
  ASSERT_TRUE(cache->Put("ns", "kept", "v").ok());
  clock_->Advance(milliseconds(100));
  std::string value;
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound());
  EXPECT_EQ(Get(*cache, "ns", "kept"), "v");
  EXPECT_EQ(listener->removals(), std::vector<std::string>{"ns/k:expired"});
  EXPECT_EQ(cache->GetStats().memory.expired, 1u);
}

// Under write-around a write drops the L1 copy it outdates: the listener is
// told it was replaced (by a version on disk only), and a Delete that it was
// deleted.
TEST_F(CacheTest, WriteAroundTellsTheListenerItsCopyWasReplaced) {
  auto listener = std::make_shared<RecordingListener>();
  options_.listener = listener;
  options_.write_policy = WritePolicy::kWriteAround;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "1").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "1");  // now in L1
  ASSERT_TRUE(cache->Put("ns", "k", "2").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "2");
  ASSERT_TRUE(cache->Delete("ns", "k").ok());
  EXPECT_EQ(listener->removals(), (std::vector<std::string>{"ns/k:replaced", "ns/k:deleted"}));
}

// The namespace is gone by the time L1 lets its entries go: each removal
// still names it.
TEST_F(CacheTest, DroppingANamespaceNamesItInEachRemoval) {
  auto listener = std::make_shared<RecordingListener>();
  options_.listener = listener;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  ASSERT_TRUE(cache->DropNamespace("ns").ok());
  EXPECT_EQ(listener->removals(), std::vector<std::string>{"ns/k:deleted"});
}

// A write racing the drop of its namespace leaves nothing in L1: stopped
// after it found the namespace, it goes on once the drop has cleared L1.
TEST_F(CacheTest, AWriteRacingANamespaceDropLeavesNothingInL1) {
  auto clock = std::make_shared<StoppingClock>();
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.clock = clock;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "first", "v").ok());
  Status put;
  std::thread writer([&] {
    clock->StopNextRead(std::this_thread::get_id());
    put = cache->Put("ns", "k", "v");
  });
  clock->WaitUntilStopped();
  EXPECT_TRUE(cache->DropNamespace("ns").ok());
  clock->Go();
  writer.join();
  EXPECT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(cache->GetStats().memory.entries, 0u);
}

// A key too long for the store is refused when deleted, as when written:
// under write-behind it would otherwise stall every flush after it.
TEST_F(CacheTest, ADeleteOfAKeyTooLongIsRefusedAndStallsNothing) {
  for (const WritePolicy policy : {WritePolicy::kWriteThrough, WritePolicy::kWriteBehind}) {
    SCOPED_TRACE(Name(policy));
    UsePolicy(policy);
    {
      auto cache = Open();
      ASSERT_TRUE(cache->Put("ns", "good", "v").ok());
      const Status s = cache->Delete("ns", std::string(kMaxKeyBytes + 1, 'k'));
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr("key is 65537 bytes, longer than the limit of 65536"));
      EXPECT_TRUE(cache->Flush(kDeadline).ok());
      EXPECT_TRUE(cache->Close(kDeadline).ok());
    }
    auto cache = Open();
    EXPECT_EQ(Get(*cache, "ns", "good"), "v");
  }
}

// Each call refuses what it cannot store, naming what is wrong, and leaves
// what was stored as it was: a key too long for the store, a value over
// max_value_bytes, metadata over the record's limit, a negative TTL.
TEST_F(CacheTest, BadInputToEachCallIsRefusedByNameAndLosesNothing) {
  options_.max_value_bytes = 1024;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  const std::string long_key(kMaxKeyBytes + 1, 'k');
  const std::string too_long = "key is 65537 bytes, longer than the limit of 65536";
  const auto refused = [](const Status& s, std::string_view names) {
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(std::string(names)));
  };
  refused(cache->Put("ns", long_key, "v"), too_long);
  std::string value;
  refused(cache->Get("ns", long_key, &value), too_long);
  Entry entry;
  refused(cache->GetEntry("ns", long_key, &entry), too_long);
  refused(cache->Contains("ns", long_key), too_long);
  refused(cache->CompareAndPut("ns", long_key, 0, "v"), too_long);
  refused(cache->Delete("ns", long_key), too_long);
  refused(cache->Put("ns", "k", std::string(1025, 'v')), "max_value_bytes");
  WriteOptions big_metadata;
  big_metadata.metadata["m"] = std::string(storage::kMaxMetadataBytes + 1, 'm');
  refused(cache->Put("ns", "k", "w", big_metadata), "metadata");
  WriteOptions negative;
  negative.ttl = milliseconds(-1);
  refused(cache->Put("ns", "k", "w", negative), "ttl");
  refused(cache->PutMany("ns", {{"k", "w"}, {long_key, "w"}}), too_long);
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"k", long_key}, &statuses, &values);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0].ToString();
  EXPECT_EQ(values[0], "v");
  refused(statuses[1], too_long);
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  cache.reset();
  EXPECT_EQ(Get(*Open(), "ns", "k"), "v");
}

// disk.writes counts a deletion as one write under every policy.
TEST_F(CacheTest, DiskWritesCountDeletionsTheSameUnderEveryPolicy) {
  for (const WritePolicy policy : kWritePolicies) {
    SCOPED_TRACE(Name(policy));
    UsePolicy(policy);
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
    ASSERT_TRUE(cache->Flush(kDeadline).ok());
    ASSERT_TRUE(cache->Delete("ns", "k").ok());
    ASSERT_TRUE(cache->Flush(kDeadline).ok());
    EXPECT_EQ(cache->GetStats().disk.writes, 2u);
  }
}

TEST_F(CacheTest, ReadThroughLoadsOnceForManyWaitingCallers) {
  std::atomic<int> calls{0};
  std::atomic<int> arrived{0};
  constexpr int kThreads = 8;
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.loader = [&](std::string_view ns, std::string_view key, LoadedValue* out) {
    ++calls;
    while (arrived.load() < kThreads) std::this_thread::yield();
    out->value = std::string(ns) + ":" + std::string(key);
    return Status::OK();
  };
  auto cache = Open();
  std::vector<std::thread> threads;
  std::vector<std::string> values(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++arrived;
      values[t] = Get(*cache, "ns", "slow");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls.load(), 1);
  for (const std::string& v : values) EXPECT_EQ(v, "ns:slow");
  EXPECT_EQ(cache->GetStats().loads.calls, 1u);
}

// A loader that hangs holds up its own caller only: a Get that would wait
// for it longer than load_wait_timeout gets TimedOut, and the load, once it
// ends, is stored and answers later Gets. The loader here is held until the
// second Get has given up.
TEST_F(CacheTest, AGetGivesUpWaitingForAnotherCallersLoadAtTheLoadWaitTimeout) {
  std::promise<void> loading;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.load_wait_timeout = milliseconds(5);
  options_.loader = [&](std::string_view, std::string_view, LoadedValue* out) {
    if (++calls == 1) loading.set_value();
    released.wait();
    out->value = "loaded";
    return Status::OK();
  };
  auto cache = Open();
  std::string first;
  std::thread loader_caller([&] { first = Get(*cache, "ns", "slow"); });
  loading.get_future().wait();

  std::string value = "untouched";
  const Status s = cache->Get("ns", "slow", &value);
  EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("'slow' in namespace 'ns'"));
  EXPECT_THAT(s.message(), HasSubstr("load_wait_timeout (5ms)"));
  EXPECT_EQ(value, "");
  EXPECT_EQ(cache->GetStats().loads.wait_timeouts, 1u);

  release.set_value();
  loader_caller.join();
  EXPECT_EQ(first, "loaded");
  EXPECT_EQ(Get(*cache, "ns", "slow"), "loaded");
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.loads.calls, 1u);
  EXPECT_EQ(stats.loads.shared, 0u);
  EXPECT_EQ(stats.loads.wait_timeouts, 1u);
}

// The loaded value is stored by the write policy, each of which keeps it
// across a restart (write-behind's Close drains it).
TEST_F(CacheTest, ReadThroughStoresTheLoadedValueDurably) {
  for (const WritePolicy policy : kWritePolicies) {
    SCOPED_TRACE(Name(policy));
    UsePolicy(policy);
    options_.read_policy = ReadPolicy::kReadThrough;
    options_.loader = [](std::string_view, std::string_view, LoadedValue* out) {
      out->value = "loaded";
      out->metadata = {{"source", "loader"}};
      return Status::OK();
    };
    {
      auto cache = Open();
      Entry entry;
      ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
      EXPECT_EQ(entry.value, "loaded");
      EXPECT_GT(entry.version, 0u);
    }
    options_.loader = [](std::string_view, std::string_view, LoadedValue*) {
      return Status::IOError("the loader must not be called again");
    };
    auto cache = Open();
    Entry entry;
    ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
    EXPECT_EQ(entry.value, "loaded");
    EXPECT_EQ(entry.metadata.at("source"), "loader");
  }
}

TEST_F(CacheTest, ALoaderErrorReachesTheCallerAndIsNotCached) {
  int calls = 0;
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.loader = [&](std::string_view, std::string_view, LoadedValue* out) {
    if (++calls == 1) return Status::IOError("backend down");
    out->value = "v";
    return Status::OK();
  };
  auto cache = Open();
  std::string value;
  Status s = cache->Get("ns", "k", &value);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_THAT(s.message(), HasSubstr("backend down"));
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache->GetStats().loads.errors, 1u);
}

// The loader's value reaches the caller even when the cache cannot keep it;
// the next Get loads it again.
TEST_F(CacheTest, ALoadedValueTheCacheCannotKeepIsStillReturned) {
  int calls = 0;
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.max_value_bytes = 1024;
  options_.compression_threshold = 1024;
  options_.loader = [&](std::string_view, std::string_view, LoadedValue* out) {
    ++calls;
    out->value.assign(2048, 'v');
    return Status::OK();
  };
  auto cache = Open();
  Entry entry;
  ASSERT_TRUE(cache->GetEntry("ns", "big", &entry).ok());
  EXPECT_EQ(entry.value, std::string(2048, 'v'));
  EXPECT_EQ(entry.version, 0u);
  EXPECT_EQ(Get(*cache, "ns", "big"), std::string(2048, 'v'));
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(cache->Contains("ns", "big").IsNotFound());
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.loads.unstored, 2u);
  EXPECT_EQ(stats.loads.errors, 0u);
  EXPECT_EQ(stats.disk.writes, 0u);
}

// A loader that waits, inside the load, until the test lets it answer.
class HeldLoader {
 public:
  explicit HeldLoader(Status answer) : answer_(std::move(answer)) {}

  Loader AsLoader() {
    return [this](std::string_view, std::string_view, LoadedValue* out) {
      entered_.set_value();
      released_.get_future().wait();
      out->value = "loaded";
      return answer_;
    };
  }
  void WaitUntilLoading() { entered_.get_future().wait(); }
  void Release() { released_.set_value(); }

 private:
  const Status answer_;
  std::promise<void> entered_;
  std::promise<void> released_;
};

// A write acknowledged while the loader runs is newer than what the loader
// read: it stays, under every write policy, and the waiting Get answers it.
TEST_F(CacheTest, AWriteAcknowledgedDuringALoadIsNotOverwrittenByIt) {
  for (const WritePolicy policy : kWritePolicies) {
    SCOPED_TRACE(Name(policy));
    HeldLoader loader(Status::OK());
    UsePolicy(policy);
    options_.read_policy = ReadPolicy::kReadThrough;
    options_.loader = loader.AsLoader();
    auto cache = Open();
    std::string got;
    std::thread reader([&] { got = Get(*cache, "ns", "k"); });
    loader.WaitUntilLoading();
    std::uint64_t written = 0;
    EXPECT_TRUE(cache->Put("ns", "k", "written", {}, &written).ok());
    loader.Release();
    reader.join();
    EXPECT_EQ(got, "written");
    Entry entry;
    ASSERT_TRUE(cache->GetEntry("ns", "k", &entry).ok());
    EXPECT_EQ(entry.value, "written");
    EXPECT_EQ(entry.version, written);
    EXPECT_TRUE(cache->CompareAndPut("ns", "k", written, "next").ok());
    EXPECT_EQ(cache->GetStats().loads.unstored, 0u);
  }
}

// The loader found nothing, but a write came while it ran: that entry is the
// answer, and "not found" is not remembered, so once the entry expires the
// next Get asks the loader again.
TEST_F(CacheTest, ALoaderMissIsNotRememberedOverAWriteDuringTheLoad) {
  HeldLoader held(Status::NotFound("not there yet"));
  std::atomic<int> calls{0};
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.negative_ttl = std::chrono::hours(1);
  Loader first = held.AsLoader();
  options_.loader = [&](std::string_view ns, std::string_view key, LoadedValue* out) {
    if (++calls == 1) return first(ns, key, out);
    out->value = "loaded again";
    return Status::OK();
  };
  auto cache = Open();
  std::string got;
  std::thread reader([&] { got = Get(*cache, "ns", "k"); });
  held.WaitUntilLoading();
  EXPECT_TRUE(cache->Put("ns", "k", "short-lived", {milliseconds(10), {}}).ok());
  held.Release();
  reader.join();
  EXPECT_EQ(got, "short-lived");
  clock_->Advance(milliseconds(10));
  EXPECT_EQ(Get(*cache, "ns", "k"), "loaded again");
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(CacheTest, NotFoundFromTheLoaderIsRememberedForTheNegativeTtl) {
  int calls = 0;
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.negative_ttl = milliseconds(100);
  options_.loader = [&](std::string_view, std::string_view, LoadedValue*) {
    ++calls;
    return Status::NotFound("no such user");
  };
  auto cache = Open();
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
  std::string value;
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound());
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(cache->GetStats().loads.negative_hits, 1u);
  clock_->Advance(milliseconds(100));
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound());
  EXPECT_EQ(calls, 2);
  ASSERT_TRUE(cache->Put("ns", "k", "now it exists").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "now it exists");
}

// Cache-aside never calls a loader, even one that is set: not for Get, nor
// for the keys GetMany finds in neither tier.
TEST_F(CacheTest, CacheAsideAnswersNotFoundOnAMiss) {
  options_.read_policy = ReadPolicy::kCacheAside;
  int calls = 0;
  options_.loader = [&](std::string_view, std::string_view, LoadedValue* out) {
    ++calls;
    out->value = "loaded";
    return Status::OK();
  };
  options_.bulk_loader = [&](std::string_view, const std::vector<std::string_view>& keys,
                             std::vector<LoadedKey>* out) {
    calls += static_cast<int>(keys.size());
    out->resize(keys.size());
    return Status::OK();
  };
  auto cache = Open();
  std::string value;
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound());
  Entry entry;
  EXPECT_TRUE(cache->GetEntry("ns", "k", &entry).IsNotFound());
  ASSERT_TRUE(cache->Put("ns", "there", "v").ok());
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"k", "there", "other"}, &statuses, &values);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_TRUE(statuses[0].IsNotFound()) << statuses[0].ToString();
  EXPECT_TRUE(statuses[1].ok()) << statuses[1].ToString();
  EXPECT_EQ(values[1], "v");
  EXPECT_TRUE(statuses[2].IsNotFound()) << statuses[2].ToString();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(cache->GetStats().loads.calls, 0u);
}

TEST_F(CacheTest, InvalidOptionsTouchNothingOnDisk) {
  options_.l1_max_entries = 0;
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(options_, &cache);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("l1_max_entries"));
  EXPECT_FALSE(std::filesystem::exists(options_.path));
  EXPECT_EQ(cache, nullptr);
}

TEST_F(CacheTest, ASecondOpenOfTheStoreIsBusy) {
  auto cache = Open();
  std::unique_ptr<Cache> second;
  Status s = Cache::Open(options_, &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("is in use by another Store of this process"));
  ASSERT_TRUE(cache->Put("ns", "k", "still mine").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "still mine");
}

// A name no namespace can have is refused by every call, reads and deletes
// as well as writes: a typo must not pass for a miss.
TEST_F(CacheTest, EveryCallRefusesANameNoNamespaceCanHave) {
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  for (const std::string& ns : {std::string(), std::string(256, 'n')}) {
    SCOPED_TRACE(testing::Message() << "a name of " << ns.size() << " bytes");
    std::string value;
    Entry entry;
    std::vector<Status> statuses;
    std::vector<std::string> values;
    cache->GetMany(ns, {"k", "j"}, &statuses, &values);
    ASSERT_EQ(statuses.size(), 2u);
    for (const Status& s :
         {cache->Get(ns, "k", &value), cache->GetEntry(ns, "k", &entry), cache->Contains(ns, "k"),
          statuses[0], statuses[1], cache->Delete(ns, "k"), cache->Put(ns, "k", "v"),
          cache->CompareAndPut(ns, "k", 0, "v"), cache->PutMany(ns, {{"k", "v"}}),
          cache->DropNamespace(ns)}) {
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr("namespace name")) << s.ToString();
    }
  }
  std::string value;
  EXPECT_TRUE(cache->Get("absent", "k", &value).IsNotFound());
  EXPECT_TRUE(cache->Delete("absent", "k").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "v");
}

TEST_F(CacheTest, RejectsValuesAndTtlsOutOfRange) {
  options_.max_value_bytes = 10;
  options_.compression_threshold = 10;
  auto cache = Open();
  Status s = cache->Put("ns", "k", std::string(11, 'x'));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("max_value_bytes"));
  WriteOptions write;
  write.ttl = milliseconds(-1);
  EXPECT_TRUE(cache->Put("ns", "k", "v", write).IsInvalidArgument());
  EXPECT_TRUE(cache->Put("", "k", "v").IsInvalidArgument());
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
}

TEST_F(CacheTest, TheListenerHearsEvictionsReplacementsAndDeletes) {
  auto listener = std::make_shared<RecordingListener>();
  options_.listener = listener;
  options_.l1_max_entries = 1;
  options_.l1_shards = 1;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "a", "1").ok());
  ASSERT_TRUE(cache->Put("ns", "a", "2").ok());
  ASSERT_TRUE(cache->Put("ns", "b", "1").ok());
  ASSERT_TRUE(cache->Delete("ns", "b").ok());
  EXPECT_EQ(listener->removals(),
            (std::vector<std::string>{"ns/a:replaced", "ns/a:capacity", "ns/b:deleted"}));
}

TEST_F(CacheTest, DroppingANamespaceRemovesItsEntriesOnly) {
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("old", "k", "v").ok());
    ASSERT_TRUE(cache->Put("kept", "k", "v").ok());
    ASSERT_TRUE(cache->DropNamespace("old").ok());
    EXPECT_TRUE(cache->Contains("old", "k").IsNotFound());
    EXPECT_TRUE(cache->DropNamespace("old").IsNotFound());
  }
  auto cache = Open();
  EXPECT_TRUE(cache->Contains("old", "k").IsNotFound());
  EXPECT_EQ(Get(*cache, "kept", "k"), "v");
}

// A listener that reads the removed key back and writes an audit entry for
// it, from inside OnRemoval: the cache must hold none of its locks then. The
// removal of a deleted key is raised while Delete holds that key's lock.
class ReentrantListener : public EventListener {
 public:
  void OnRemoval(const RemovalEvent& event) override {
    if (event.ns != "ns") return;
    std::string value;
    read.push_back(cache->Get(event.ns, event.key, &value));
    written.push_back(cache->Put("audit", std::string(event.key), std::string(Name(event.cause))));
  }
  Cache* cache = nullptr;
  std::vector<Status> read;
  std::vector<Status> written;
};

TEST_F(CacheTest, AListenerMayCallBackIntoTheCache) {
  auto listener = std::make_shared<ReentrantListener>();
  options_.listener = listener;
  auto cache = Open();
  listener->cache = cache.get();
  ASSERT_TRUE(cache->Put("ns", "k", "v").ok());
  ASSERT_TRUE(cache->Delete("ns", "k").ok());
  ASSERT_EQ(listener->read.size(), 1u);
  EXPECT_TRUE(listener->read[0].IsNotFound()) << listener->read[0].ToString();
  ASSERT_EQ(listener->written.size(), 1u);
  EXPECT_TRUE(listener->written[0].ok()) << listener->written[0].ToString();
  std::string cause;
  ASSERT_TRUE(cache->Get("audit", "k", &cause).ok());
  EXPECT_EQ(cause, "deleted");
}

class ThrowingListener : public EventListener {
 public:
  void OnRemoval(const RemovalEvent&) override {
    ++calls;
    throw std::runtime_error("listener failed");
  }
  int calls = 0;
};

// A listener must not throw; one that does must not take the cache (or the
// process: removal events are told from a destructor) down with it.
TEST_F(CacheTest, AThrowingListenerLosesItsExceptionNotTheCache) {
  auto listener = std::make_shared<ThrowingListener>();
  options_.listener = listener;
  options_.l1_max_entries = 1;
  options_.l1_shards = 1;
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "a", "1").ok());
  ASSERT_TRUE(cache->Put("ns", "b", "2").ok());  // evicts a
  ASSERT_TRUE(cache->Delete("ns", "b").ok());
  EXPECT_EQ(listener->calls, 2);
  EXPECT_EQ(Get(*cache, "ns", "a"), "1");
}

// The thread that wrote into the dropped namespace looks the name up again:
// what it remembered of the old namespace must not outlive the drop.
TEST_F(CacheTest, ANamespaceRecreatedAfterADropStartsEmpty) {
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "k", "old").ok());
  EXPECT_EQ(Get(*cache, "ns", "k"), "old");
  ASSERT_TRUE(cache->DropNamespace("ns").ok());
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
  ASSERT_TRUE(cache->Put("ns", "other", "new").ok());
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
  EXPECT_EQ(Get(*cache, "ns", "other"), "new");
}

// Two caches in one process, a namespace of the same name in each: a lookup
// in one never answers for the other.
TEST_F(CacheTest, NamespacesOfTwoCachesInOneProcessStaySeparate) {
  auto first = Open();
  Options second_options = options_;
  second_options.path = dir_.Sub("second");
  std::unique_ptr<Cache> second;
  ASSERT_TRUE(Cache::Open(second_options, &second).ok());
  ASSERT_TRUE(second->Put("other", "x", "1").ok());
  ASSERT_TRUE(first->Put("ns", "k", "first").ok());
  ASSERT_TRUE(second->Put("ns", "k", "second").ok());
  EXPECT_EQ(Get(*first, "ns", "k"), "first");
  EXPECT_EQ(Get(*second, "ns", "k"), "second");
  EXPECT_TRUE(first->Contains("other", "x").IsNotFound());
}

TEST_F(CacheTest, CompressedValuesStayCompressedInMemoryAndOnDisk) {
  options_.compression = Compression::kLz4;
  options_.compression_threshold = 64;
  const std::string big(4096, 'z');
  std::uint64_t compressed_bytes = 0;
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "big", big).ok());
    ASSERT_TRUE(cache->Put("ns", "small", "short").ok());
    EXPECT_EQ(Get(*cache, "ns", "big"), big);
    EXPECT_EQ(Get(*cache, "ns", "small"), "short");
    Entry entry;
    ASSERT_TRUE(cache->GetEntry("ns", "big", &entry).ok());
    EXPECT_EQ(entry.value, big);
    EXPECT_LT(cache->GetStats().compression_ratio, 0.1);
    compressed_bytes = cache->GetStats().memory.bytes;
  }
  {
    // On disk, the big value's record holds its lz4 block; the small one's,
    // under the threshold, the value as it is.
    const std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_NE(store, nullptr);
    storage::Namespace ns;
    ASSERT_TRUE(store->OpenNamespace("ns", &ns).ok());
    std::string big_record, small_record;
    ASSERT_TRUE(store->Get(ns, "big", &big_record).ok());
    ASSERT_TRUE(store->Get(ns, "small", &small_record).ok());
    storage::RecordHeader header;
    ASSERT_TRUE(storage::ParseRecordHeader(big_record, &header).ok());
    EXPECT_EQ(header.flags & storage::kFlagCodecMask, storage::kCodecLz4);
    EXPECT_LT(big_record.size(), 1000u);
    ASSERT_TRUE(storage::ParseRecordHeader(small_record, &header).ok());
    EXPECT_EQ(header.flags & storage::kFlagCodecMask, storage::kCodecNone);
  }
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "big"), big);
  EXPECT_EQ(Get(*cache, "ns", "big"), big) << "once promoted into L1";
  EXPECT_LT(cache->GetStats().compression_ratio, 0.1);

  options_.compression = Compression::kNone;
  options_.path = dir_.Sub("uncompressed");
  auto plain = Open();
  ASSERT_TRUE(plain->Put("ns", "big", big).ok());
  ASSERT_TRUE(plain->Put("ns", "small", "short").ok());
  EXPECT_GT(plain->GetStats().memory.bytes, compressed_bytes + 3000);
  EXPECT_EQ(plain->GetStats().compression_ratio, 1.0);
}

// L1 compresses by the options in force, also a value whose record was
// written without compression.
TEST_F(CacheTest, AValueStoredUncompressedIsCompressedInMemoryWhenCompressionIsOn) {
  const std::string big(4096, 'z');
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("ns", "big", big).ok());
  }
  options_.compression = Compression::kLz4;
  options_.compression_threshold = 64;
  auto cache = Open();
  EXPECT_EQ(Get(*cache, "ns", "big"), big);
  EXPECT_LT(cache->GetStats().compression_ratio, 0.1);
  EXPECT_LT(cache->GetStats().memory.bytes, 1000u);
  EXPECT_EQ(Get(*cache, "ns", "big"), big) << "from L1";
}

// PutMany writes in order (the last write of a key wins); GetMany answers
// each key, found or not.
TEST_F(CacheTest, PutManyWritesInOrderAndGetManyAnswersEachKey) {
  auto cache = Open();
  ASSERT_TRUE(cache->PutMany("ns", {{"a", "1"}, {"b", "2"}, {"a", "3"}}).ok());
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"a", "b", "c"}, &statuses, &values);
  ASSERT_EQ(statuses.size(), 3u);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_TRUE(statuses[0].ok());
  EXPECT_EQ(values[0], "3");
  EXPECT_TRUE(statuses[1].ok());
  EXPECT_EQ(values[1], "2");
  EXPECT_TRUE(statuses[2].IsNotFound());
  EXPECT_EQ(values[2], "");
}

// PutMany's write options apply to every pair: their TTL and their metadata.
TEST_F(CacheTest, PutManyGivesEveryPairItsTtlAndMetadata) {
  auto cache = Open();
  WriteOptions write;
  write.ttl = std::chrono::seconds(10);
  write.metadata = {{"batch", "1"}};
  ASSERT_TRUE(cache->PutMany("ns", {{"a", "1"}, {"b", "2"}}, write).ok());
  for (const char* key : {"a", "b"}) {
    Entry entry;
    ASSERT_TRUE(cache->GetEntry("ns", key, &entry).ok()) << key;
    ASSERT_TRUE(entry.expires_at.has_value()) << key;
    EXPECT_EQ(*entry.expires_at, clock_->Now() + std::chrono::seconds(10)) << key;
    EXPECT_EQ(entry.metadata, write.metadata) << key;
  }
  clock_->Advance(std::chrono::seconds(10));
  EXPECT_TRUE(cache->Contains("ns", "a").IsNotFound());
  EXPECT_TRUE(cache->Contains("ns", "b").IsNotFound());
}

// What L1 misses is read below in one go: from the write buffer (a buffered
// delete included) and from RocksDB; expired and absent keys are misses, a
// repeated key gets the same answer twice, and the keys read come back in L1.
TEST_F(CacheTest, GetManyReadsWhatL1MissedFromTheBufferAndTheStore) {
  options_.write_policy = WritePolicy::kWriteBehind;
  options_.write_buffer.flush_interval = std::chrono::hours(1);
  options_.l1_max_entries = 1;  // only the last write stays in L1
  options_.l1_shards = 1;
  auto cache = Open();
  WriteOptions short_lived;
  short_lived.ttl = milliseconds(10);
  ASSERT_TRUE(cache->Put("ns", "disk", "on disk").ok());
  ASSERT_TRUE(cache->Put("ns", "expired", "gone", short_lived).ok());
  ASSERT_TRUE(cache->Put("ns", "deleted", "x").ok());
  ASSERT_TRUE(cache->Flush(kDeadline).ok());
  ASSERT_TRUE(cache->Delete("ns", "deleted").ok());
  ASSERT_TRUE(cache->Put("ns", "buffered", "in the buffer").ok());
  ASSERT_TRUE(cache->Put("ns", "hot", "in L1").ok());
  clock_->Advance(milliseconds(10));
  const CacheStats before = cache->GetStats();

  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"hot", "disk", "buffered", "deleted", "expired", "absent", "disk"},
                 &statuses, &values);
  ASSERT_EQ(statuses.size(), 7u);
  EXPECT_EQ(values, (std::vector<std::string>{"in L1", "on disk", "in the buffer", "", "", "",
                                              "on disk"}));
  for (int i : {0, 1, 2, 6}) EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].ToString();
  for (int i : {3, 4, 5}) {
    EXPECT_TRUE(statuses[i].IsNotFound()) << i << ": " << statuses[i].ToString();
    EXPECT_THAT(statuses[i].message(), HasSubstr("in namespace 'ns'"));
  }
  const CacheStats after = cache->GetStats();
  EXPECT_EQ(after.memory.hits - before.memory.hits, 1u);
  EXPECT_EQ(after.disk.hits - before.disk.hits, 2u);      // "disk" twice
  EXPECT_EQ(after.disk.misses - before.disk.misses, 2u);  // "expired", "absent"
  EXPECT_EQ(Get(*cache, "ns", "disk"), "on disk");
  EXPECT_EQ(cache->GetStats().memory.hits - after.memory.hits, 1u) << "promoted into L1";
}

TEST_F(CacheTest, GetManyLoadsWhatNeitherTierHoldsOncePerKey) {
  std::atomic<int> calls{0};
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.loader = [&](std::string_view, std::string_view key, LoadedValue* out) {
    ++calls;
    if (key == "missing") return Status::NotFound("no such thing");
    out->value = "loaded " + std::string(key);
    return Status::OK();
  };
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "stored", "v").ok());
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"stored", "a", "missing", "a"}, &statuses, &values);
  EXPECT_EQ(values, (std::vector<std::string>{"v", "loaded a", "", "loaded a"}));
  EXPECT_TRUE(statuses[2].IsNotFound()) << statuses[2].ToString();
  EXPECT_EQ(calls, 2);
  // A namespace that does not exist yet: every key is loaded.
  cache->GetMany("fresh", {"b"}, &statuses, &values);
  EXPECT_EQ(values, std::vector<std::string>{"loaded b"});
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace tiercache
