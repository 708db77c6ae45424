// Refresh after write under read-through: a Get that finds an entry due for a
// refresh returns it at once, and the loader reads the key again in the
// background, once however many Gets find it due. Flush waits for the
// refreshes asked for before it, which is how these tests see them end.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kPatience = seconds(30);
constexpr auto kRefreshAfter = std::chrono::minutes(1);

// The loader's source of truth: a map the test edits, an error it can turn
// on, and a hold that keeps the next call waiting until released.
class Source {
 public:
  Status Load(std::string_view key, LoadedValue* out) {
    std::shared_future<void> released;
    {
      std::lock_guard lock(mu_);
      ++calls_[std::string(key)];
      if (hold_) {
        hold_ = false;
        loading_.set_value();
        released = released_;
      }
    }
    if (released.valid()) released.wait();
    std::lock_guard lock(mu_);
    if (fail_) return Status::IOError("the source is down");
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return Status::NotFound("not at the source");
    out->value = it->second;
    return Status::OK();
  }

  void Set(const std::string& key, const std::string& value) {
    std::lock_guard lock(mu_);
    values_[key] = value;
  }
  void Erase(const std::string& key) {
    std::lock_guard lock(mu_);
    values_.erase(key);
  }
  void Fail(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
  }
  // The next call waits, once it has begun (WaitUntilLoading), for Release.
  void HoldNext() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void WaitUntilLoading() { loading_.get_future().wait(); }
  void Release() { release_.set_value(); }
  int calls(const std::string& key) {
    std::lock_guard lock(mu_);
    return calls_[key];
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> values_;
  std::map<std::string, int> calls_;
  bool fail_ = false;
  bool hold_ = false;
  std::promise<void> loading_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

class RefreshTest : public ::testing::Test {
 protected:
  RefreshTest() {
    options_.path = dir_.Sub("store");
    options_.clock = clock_;
    options_.free_space_reserve = 1024 * 1024;
    options_.read_policy = ReadPolicy::kReadThrough;
    options_.refresh_after_write = kRefreshAfter;
    options_.loader = [source = source_](std::string_view, std::string_view key,
                                         LoadedValue* out) { return source->Load(key, out); };
    source_->Set("k", "v1");
  }

  std::unique_ptr<Cache> Open() {
    std::unique_ptr<Cache> cache;
    Status s = Cache::Open(options_, &cache);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return cache;
  }

  std::string Get(Cache& cache, std::string_view key) {
    std::string value;
    const Status s = cache.Get("ns", key, &value);
    return s.ok() ? value : s.ToString();
  }

  // Loads "k" as v1, then makes the source say v2 and the entry due.
  void LoadAndAge(Cache& cache) {
    ASSERT_EQ(Get(cache, "k"), "v1");
    source_->Set("k", "v2");
    clock_->Advance(kRefreshAfter);
  }

  // LoadAndAge, then a Get that starts k's refresh, held in the loader until
  // source_->Release().
  void StartHeldRefresh(Cache& cache) {
    LoadAndAge(cache);
    source_->HoldNext();
    EXPECT_EQ(Get(cache, "k"), "v1");
    source_->WaitUntilLoading();
  }

  test_util::TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<Source> source_ = std::make_shared<Source>();
  Options options_;
};

TEST_F(RefreshTest, ADueEntryIsReturnedAsItIsAndRefreshedBehindTheGet) {
  auto cache = Open();
  Entry first;
  ASSERT_EQ(Get(*cache, "k"), "v1");
  ASSERT_TRUE(cache->GetEntry("ns", "k", &first).ok());
  source_->Set("k", "v2");

  clock_->Advance(kRefreshAfter - milliseconds(1));
  EXPECT_EQ(Get(*cache, "k"), "v1");
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(source_->calls("k"), 1);  // not due yet

  clock_->Advance(milliseconds(1));
  EXPECT_EQ(Get(*cache, "k"), "v1");  // due: the Get answers with what it found
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(source_->calls("k"), 2);
  Entry refreshed;
  ASSERT_TRUE(cache->GetEntry("ns", "k", &refreshed).ok());
  EXPECT_EQ(refreshed.value, "v2");
  EXPECT_GT(refreshed.version, first.version);
  EXPECT_EQ(refreshed.created_at, clock_->Now());

  // Fresh again: not refreshed until it is due once more.
  EXPECT_EQ(Get(*cache, "k"), "v2");
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(source_->calls("k"), 2);
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.loads.refreshes, 1u);
  EXPECT_EQ(stats.loads.calls, 2u);
  EXPECT_EQ(stats.loads.refreshes_waiting, 0u);
}

TEST_F(RefreshTest, ManyGetsOfADueEntryRefreshItOnceAndNoneWaitsForIt) {
  auto cache = Open();
  StartHeldRefresh(*cache);
  // The refresh is held in the loader: these Gets answer without it.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Get(*cache, "k"), "v1");
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"k", "k"}, &statuses, &values);
  EXPECT_THAT(values, ElementsAre("v1", "v1"));
  source_->Release();
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(source_->calls("k"), 2);
  EXPECT_EQ(cache->GetStats().loads.refreshes, 1u);
  EXPECT_EQ(Get(*cache, "k"), "v2");
}

TEST_F(RefreshTest, AWriteMadeWhileTheLoaderRunsIsKept) {
  auto cache = Open();
  StartHeldRefresh(*cache);
  ASSERT_TRUE(cache->Put("ns", "k", "written").ok());
  source_->Release();
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(Get(*cache, "k"), "written");

  // The same below L1, after a restart.
  ASSERT_TRUE(cache->Close(kPatience).ok());
  cache = Open();
  EXPECT_EQ(Get(*cache, "k"), "written");
}

TEST_F(RefreshTest, AKeyTheSourceNoLongerHasIsDeleted) {
  auto cache = Open();
  LoadAndAge(*cache);
  source_->Erase("k");
  EXPECT_EQ(Get(*cache, "k"), "v1");
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
  ASSERT_TRUE(cache->Close(kPatience).ok());
  cache = Open();
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());  // below L1 too
}

TEST_F(RefreshTest, NotFoundLeavesAWriteMadeWhileTheLoaderRan) {
  auto cache = Open();
  StartHeldRefresh(*cache);
  source_->Erase("k");
  ASSERT_TRUE(cache->Put("ns", "k", "written").ok());
  source_->Release();
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(Get(*cache, "k"), "written");
}

TEST_F(RefreshTest, AKeyDeletedWhileTheLoaderRanStaysDeleted) {
  auto cache = Open();
  StartHeldRefresh(*cache);
  ASSERT_TRUE(cache->Delete("ns", "k").ok());
  source_->Release();
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_TRUE(cache->Contains("ns", "k").IsNotFound());
  EXPECT_EQ(cache->GetStats().loads.unstored, 0u);  // no caller asked for the refresh's value
}

TEST_F(RefreshTest, ANamespaceDroppedWhileTheLoaderRanIsNotMadeAgain) {
  auto cache = Open();
  StartHeldRefresh(*cache);
  ASSERT_TRUE(cache->DropNamespace("ns").ok());
  source_->Release();
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_TRUE(cache->DropNamespace("ns").IsNotFound());
}

TEST_F(RefreshTest, NotFoundIsRememberedUnderNegativeTtl) {
  options_.negative_ttl = std::chrono::hours(1);
  auto cache = Open();
  LoadAndAge(*cache);
  source_->Erase("k");
  EXPECT_EQ(Get(*cache, "k"), "v1");
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  std::string value;
  EXPECT_TRUE(cache->Get("ns", "k", &value).IsNotFound());
  EXPECT_EQ(source_->calls("k"), 2);  // the load and the refresh: the miss asked nobody
  EXPECT_EQ(cache->GetStats().loads.negative_hits, 1u);
}

// The key whose refresh failed is not refreshed again until its backoff has
// passed: 1 s after one failure, 2 s after two in a row.
TEST_F(RefreshTest, ALoaderErrorLeavesTheEntryAndTheKeyIsTriedAgainAfterABackoff) {
  auto cache = Open();
  LoadAndAge(*cache);
  source_->Fail(true);
  const auto get_and_settle = [&] {
    EXPECT_EQ(Get(*cache, "k"), "v1");  // kept, and still due
    ASSERT_TRUE(cache->Flush(kPatience).ok());
  };
  ASSERT_NO_FATAL_FAILURE(get_and_settle());
  EXPECT_EQ(source_->calls("k"), 2);
  clock_->Advance(milliseconds(999));
  ASSERT_NO_FATAL_FAILURE(get_and_settle());
  EXPECT_EQ(source_->calls("k"), 2);  // within the backoff
  clock_->Advance(milliseconds(1));
  ASSERT_NO_FATAL_FAILURE(get_and_settle());
  EXPECT_EQ(source_->calls("k"), 3);  // tried again, and failed again
  clock_->Advance(milliseconds(1'999));
  ASSERT_NO_FATAL_FAILURE(get_and_settle());
  EXPECT_EQ(source_->calls("k"), 3);
  EXPECT_EQ(cache->GetStats().loads.errors, 2u);

  source_->Fail(false);
  clock_->Advance(milliseconds(1));
  ASSERT_NO_FATAL_FAILURE(get_and_settle());
  EXPECT_EQ(source_->calls("k"), 4);
  EXPECT_EQ(Get(*cache, "k"), "v2");
}

// A value the cache cannot keep leaves the entry due, as an error does: the
// key backs off rather than have the loader read it again at each Get.
TEST_F(RefreshTest, AValueTheCacheCannotKeepBacksTheKeyOff) {
  options_.max_value_bytes = 100;
  options_.compression_threshold = 100;
  auto cache = Open();
  ASSERT_NE(cache, nullptr);
  ASSERT_EQ(Get(*cache, "k"), "v1");
  source_->Set("k", std::string(200, 'x'));
  clock_->Advance(kRefreshAfter);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Get(*cache, "k"), "v1");
    ASSERT_TRUE(cache->Flush(kPatience).ok());
  }
  EXPECT_EQ(source_->calls("k"), 2);
  clock_->Advance(seconds(1));
  EXPECT_EQ(Get(*cache, "k"), "v1");
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(source_->calls("k"), 3);
}

TEST_F(RefreshTest, EntriesReadFromDiskAreRefreshedByEveryKindOfGet) {
  constexpr const char* kKeys[] = {"a", "b", "c", "d"};
  for (const char* key : kKeys) source_->Set(key, std::string(key) + "1");
  auto cache = Open();
  for (const char* key : kKeys) ASSERT_EQ(Get(*cache, key), std::string(key) + "1");
  ASSERT_TRUE(cache->Close(kPatience).ok());
  for (const char* key : kKeys) source_->Set(key, std::string(key) + "2");
  clock_->Advance(kRefreshAfter);

  // Written before the restart: due, though L1 starts empty.
  cache = Open();
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany("ns", {"a", "b"}, &statuses, &values);
  EXPECT_THAT(values, ElementsAre("a1", "b1"));
  Entry entry;
  ASSERT_TRUE(cache->GetEntry("ns", "c", &entry).ok());
  EXPECT_EQ(entry.value, "c1");
  EXPECT_EQ(Get(*cache, "d"), "d1");
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  cache->GetMany("ns", {"a", "b", "c", "d"}, &statuses, &values);
  EXPECT_THAT(values, ElementsAre("a2", "b2", "c2", "d2"));

  // And from L1: GetMany's hits.
  source_->Set("a", "a3");
  clock_->Advance(kRefreshAfter);
  cache->GetMany("ns", {"a"}, &statuses, &values);
  EXPECT_THAT(values, ElementsAre("a2"));
  ASSERT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(Get(*cache, "a"), "a3");
  EXPECT_EQ(cache->GetStats().loads.refreshes, 5u);
}

TEST_F(RefreshTest, FlushWaitsForRefreshesUpToItsDeadline) {
  auto cache = Open();
  StartHeldRefresh(*cache);
  const Status s = cache->Flush(milliseconds(0));
  EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("refreshes"));
  source_->Release();
  EXPECT_TRUE(cache->Flush(kPatience).ok());
  EXPECT_EQ(Get(*cache, "k"), "v2");
}

TEST_F(RefreshTest, CloseDropsWaitingRefreshesAndWaitsForTheRunningOne) {
  source_->Set("waiting", "w1");
  auto cache = Open();
  ASSERT_EQ(Get(*cache, "waiting"), "w1");
  StartHeldRefresh(*cache);
  EXPECT_EQ(Get(*cache, "waiting"), "w1");  // queued behind k's (one refresh thread)
  ASSERT_EQ(cache->GetStats().loads.refreshes_waiting, 1u);

  std::future<Status> closed =
      std::async(std::launch::async, [&] { return cache->Close(kPatience); });
  while (cache->GetStats().loads.refreshes_waiting != 0) std::this_thread::yield();
  source_->Release();
  const Status s = closed.get();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(source_->calls("waiting"), 1);  // its refresh never began

  // k's refresh ended after Close had begun: it stored nothing.
  cache = Open();
  EXPECT_EQ(Get(*cache, "k"), "v1");
}

TEST_F(RefreshTest, AnOptionOutsideReadThroughIsRefused) {
  options_.read_policy = ReadPolicy::kCacheAside;
  std::unique_ptr<Cache> cache;
  const Status s = Cache::Open(options_, &cache);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("refresh_after_write"));
}

}  // namespace
}  // namespace tiercache
