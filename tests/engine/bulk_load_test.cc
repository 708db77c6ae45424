// GetMany under read-through with a bulk loader: the keys neither tier holds
// reach the application in one call, each answer is handled as a Get's load
// would handle it, and a key is never loaded twice at once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kPatience = std::chrono::seconds(30);

// A bulk loader that records each call's keys and answers as `answer` says.
class RecordingBulkLoader {
 public:
  using Answer = std::function<LoadedKey(std::string_view key)>;
  explicit RecordingBulkLoader(Answer answer) : answer_(std::move(answer)) {}

  Status operator()(std::string_view, const std::vector<std::string_view>& keys,
                    std::vector<LoadedKey>* out) {
    {
      std::lock_guard lock(mu_);
      calls_.emplace_back(keys.begin(), keys.end());
    }
    for (const std::string_view key : keys) out->push_back(answer_(key));
    return Status::OK();
  }
  std::vector<std::vector<std::string>> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  Answer answer_;
  std::mutex mu_;
  std::vector<std::vector<std::string>> calls_;
};

LoadedKey Found(std::string_view key) {
  LoadedKey answer;
  answer.loaded.value = "bulk " + std::string(key);
  return answer;
}

class BulkLoadTest : public ::testing::Test {
 protected:
  BulkLoadTest() {
    options_.path = dir_.Sub("store");
    options_.clock = clock_;
    options_.free_space_reserve = 1024 * 1024;
    options_.read_policy = ReadPolicy::kReadThrough;
    options_.loader = [this](std::string_view, std::string_view key, LoadedValue* out) {
      ++single_calls_;
      out->value = "single " + std::string(key);
      return Status::OK();
    };
  }

  void UseBulkLoader(const std::shared_ptr<RecordingBulkLoader>& loader) {
    options_.bulk_loader = [loader](std::string_view ns,
                                    const std::vector<std::string_view>& keys,
                                    std::vector<LoadedKey>* out) { return (*loader)(ns, keys, out); };
  }

  // A bulk loader that, once called, sets bulk_loading_ and answers Found
  // for every key when bulk_release_ is set.
  void UseHeldBulkLoader() {
    options_.bulk_loader = [this](std::string_view, const std::vector<std::string_view>& keys,
                                  std::vector<LoadedKey>* out) {
      bulk_loading_.set_value();
      bulk_released_.wait();
      for (const std::string_view key : keys) out->push_back(Found(key));
      return Status::OK();
    };
  }

  std::unique_ptr<Cache> Open() {
    std::unique_ptr<Cache> cache;
    Status s = Cache::Open(options_, &cache);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return cache;
  }

  test_util::TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Options options_;
  std::atomic<int> single_calls_{0};
  std::vector<Status> statuses_;
  std::vector<std::string> values_;
  std::promise<void> bulk_loading_;
  std::promise<void> bulk_release_;
  std::shared_future<void> bulk_released_ = bulk_release_.get_future().share();
};

TEST_F(BulkLoadTest, TheKeysNeitherTierHoldsAreLoadedInOneCallAndStored) {
  auto loader = std::make_shared<RecordingBulkLoader>(Found);
  UseBulkLoader(loader);
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "stored", "v").ok());
  cache->GetMany("ns", {"a", "stored", "b", "a"}, &statuses_, &values_);
  for (const Status& s : statuses_) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_THAT(values_, ElementsAre("bulk a", "v", "bulk b", "bulk a"));
  // The repeated key is loaded once.
  EXPECT_THAT(loader->calls(), ElementsAre(ElementsAre("a", "b")));
  EXPECT_EQ(single_calls_, 0);
  const CacheStats stats = cache->GetStats();
  EXPECT_EQ(stats.loads.bulk_calls, 1u);
  EXPECT_EQ(stats.loads.calls, 0u);

  // Stored by the write policy: found again after a restart, with no load.
  ASSERT_TRUE(cache->Close(kPatience).ok());
  cache = Open();
  Entry entry;
  ASSERT_TRUE(cache->GetEntry("ns", "b", &entry).ok());
  EXPECT_EQ(entry.value, "bulk b");
  EXPECT_GT(entry.version, 0u);
  EXPECT_EQ(loader->calls().size(), 1u);
}

// A clock that runs a hook at its n-th reading after Arm: a way to act between
// two steps of a call. The hook's own readings do not count.
class HookedClock : public Clock {
 public:
  TimePoint Now() const override {
    if (hook_ && !in_hook_ && ++readings_ == at_) {
      in_hook_ = true;
      hook_();
      in_hook_ = false;
    }
    return base_.Now();
  }
  void Arm(int at, std::function<void()> hook) {
    readings_ = 0;
    at_ = at;
    hook_ = std::move(hook);
  }

 private:
  ManualClock base_;
  std::function<void()> hook_;
  int at_ = 0;
  mutable int readings_ = 0;
  mutable bool in_hook_ = false;
};

// Another caller stores the key between GetMany's read of the store and its
// load: the load finds the stored entry and answers it, as a Get's would.
TEST_F(BulkLoadTest, AKeyStoredAfterTheReadIsAnsweredFromTheStore) {
  auto clock = std::make_shared<HookedClock>();
  options_.clock = clock;
  options_.negative_ttl = milliseconds(1000);
  auto loader = std::make_shared<RecordingBulkLoader>(Found);
  UseBulkLoader(loader);
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "other", "v").ok());
  // GetMany's second reading of the clock is the negative cache's, just before
  // it starts the load; the first was L1's lookup. The writer runs on a thread
  // of its own: should GetMany hold the key's lock there, the hook gives up
  // waiting, and the test fails rather than hangs.
  std::promise<bool> stored;
  std::future<bool> written = stored.get_future();
  std::thread writer;
  clock->Arm(2, [&] {
    writer = std::thread([&] { stored.set_value(cache->Put("ns", "k", "stored").ok()); });
    written.wait_for(kPatience);
  });
  cache->GetMany("ns", {"k"}, &statuses_, &values_);
  clock->Arm(0, nullptr);
  ASSERT_TRUE(writer.joinable());
  writer.join();
  ASSERT_TRUE(written.get());
  EXPECT_TRUE(statuses_[0].ok()) << statuses_[0].ToString();
  EXPECT_THAT(values_, ElementsAre("stored"));
  EXPECT_TRUE(loader->calls().empty());
}

// A GetMany whose keys another caller's bulk load holds waits
// load_wait_timeout for the call as a whole, not once per key in turn: the
// first key gives up at the bound, the rest at once. Checked by the time it
// takes, against a bound ten times above the expected wait and half the
// per-key sum; the loader is held until the call has returned.
TEST_F(BulkLoadTest, AGetManyWaitsForOthersLoadsNoLongerThanTheLoadWaitTimeoutInAll) {
  constexpr int kKeys = 20;
  constexpr milliseconds kWait{100};
  options_.load_wait_timeout = kWait;
  UseHeldBulkLoader();
  auto cache = Open();
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("k" + std::to_string(i));
  std::vector<Status> first_statuses;
  std::vector<std::string> first_values;
  std::thread first([&] { cache->GetMany("ns", keys, &first_statuses, &first_values); });
  ASSERT_EQ(bulk_loading_.get_future().wait_for(kPatience), std::future_status::ready);

  const auto start = std::chrono::steady_clock::now();
  cache->GetMany("ns", keys, &statuses_, &values_);
  const auto took = std::chrono::steady_clock::now() - start;
  bulk_release_.set_value();
  first.join();

  for (const Status& s : statuses_) {
    EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("load_wait_timeout (100ms)"));
  }
  EXPECT_LT(took, kWait * kKeys / 2);
  EXPECT_EQ(cache->GetStats().loads.wait_timeouts, static_cast<std::uint64_t>(kKeys));
  for (const Status& s : first_statuses) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(first_values[kKeys - 1], "bulk k19");
  EXPECT_EQ(single_calls_, 0);
}

TEST_F(BulkLoadTest, AKeyAskedForTwiceIsLoadedOnceEvenWhenAbsent) {
  auto loader = std::make_shared<RecordingBulkLoader>([](std::string_view key) {
    LoadedKey answer = Found(key);
    if (key == "absent") answer.status = Status::NotFound("not at the source");
    return answer;
  });
  UseBulkLoader(loader);
  auto cache = Open();
  cache->GetMany("ns", {"absent", "a", "absent"}, &statuses_, &values_);
  EXPECT_TRUE(statuses_[0].IsNotFound() && statuses_[2].IsNotFound());
  EXPECT_THAT(values_, ElementsAre("", "bulk a", ""));
  EXPECT_THAT(loader->calls(), ElementsAre(ElementsAre("absent", "a")));
  EXPECT_EQ(single_calls_, 0);
}

TEST_F(BulkLoadTest, EachAnswerIsHandledAsAGetsLoadWouldBe) {
  options_.negative_ttl = milliseconds(1000);
  int round = 0;
  auto loader = std::make_shared<RecordingBulkLoader>([&round](std::string_view key) {
    LoadedKey answer = Found(key);
    if (key == "absent") answer.status = Status::NotFound("not at the source");
    if (key == "failing" && round == 0) answer.status = Status::IOError("backend down");
    if (key == "short-lived") answer.loaded.ttl = milliseconds(50);
    return answer;
  });
  UseBulkLoader(loader);
  auto cache = Open();
  const std::vector<std::string> keys = {"absent", "failing", "short-lived"};
  cache->GetMany("ns", keys, &statuses_, &values_);
  EXPECT_TRUE(statuses_[0].IsNotFound()) << statuses_[0].ToString();
  EXPECT_TRUE(statuses_[1].IsIOError()) << statuses_[1].ToString();
  EXPECT_THAT(statuses_[1].ToString(), HasSubstr("backend down"));
  EXPECT_TRUE(statuses_[2].ok());
  EXPECT_THAT(values_, ElementsAre("", "", "bulk short-lived"));
  EXPECT_EQ(cache->GetStats().loads.errors, 1u);

  // "Not found" is remembered and the error is not; the short-lived entry
  // expires after its own TTL and is loaded again.
  round = 1;
  clock_->Advance(milliseconds(60));
  cache->GetMany("ns", keys, &statuses_, &values_);
  EXPECT_TRUE(statuses_[0].IsNotFound());
  EXPECT_THAT(values_, ElementsAre("", "bulk failing", "bulk short-lived"));
  EXPECT_THAT(loader->calls()[1], ElementsAre("failing", "short-lived"));
  EXPECT_EQ(cache->GetStats().loads.negative_hits, 1u);
}

// The whole call's status reaches each key as the key's own answer would: an
// error is not remembered, "not found" is (for the negative TTL).
TEST_F(BulkLoadTest, AFailedCallOrAMiscountReachesEveryKey) {
  options_.negative_ttl = milliseconds(1000);
  int calls = 0;
  options_.bulk_loader = [&calls](std::string_view, const std::vector<std::string_view>& keys,
                                  std::vector<LoadedKey>* out) {
    ++calls;
    if (calls == 1) return Status::IOError("backend down");
    if (calls == 2) throw std::runtime_error("bad answer");
    if (calls == 4) return Status::NotFound("the source has none of them");
    out->push_back(Found(keys[0]));  // one answer, whatever the keys
    return Status::OK();
  };
  auto cache = Open();
  const std::vector<std::string> keys = {"a", "b"};
  cache->GetMany("ns", keys, &statuses_, &values_);
  for (const Status& s : statuses_) EXPECT_THAT(s.ToString(), HasSubstr("backend down"));
  cache->GetMany("ns", keys, &statuses_, &values_);
  for (const Status& s : statuses_) {
    EXPECT_TRUE(s.IsIOError());
    EXPECT_THAT(s.ToString(), HasSubstr("the bulk loader threw: bad answer"));
  }
  cache->GetMany("ns", keys, &statuses_, &values_);
  for (const Status& s : statuses_) {
    EXPECT_TRUE(s.IsInvalidArgument());
    EXPECT_THAT(s.ToString(), HasSubstr("the bulk loader answered 1 of 2 keys"));
  }
  EXPECT_THAT(values_, ElementsAre("", ""));
  EXPECT_EQ(cache->GetStats().loads.errors, 6u);  // per key
  EXPECT_EQ(calls, 3);

  cache->GetMany("ns", keys, &statuses_, &values_);
  for (const Status& s : statuses_) EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  cache->GetMany("ns", keys, &statuses_, &values_);
  for (const Status& s : statuses_) EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(cache->GetStats().loads.negative_hits, 2u);
}

// A Get's load of a key is running when GetMany asks for it: GetMany leaves
// the key out of its bulk call, waits for that load, and shares its value.
TEST_F(BulkLoadTest, AKeyAGetIsLoadingIsLeftOutOfTheBulkCallAndShared) {
  std::promise<void> loading;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  options_.loader = [&](std::string_view, std::string_view key, LoadedValue* out) {
    ++single_calls_;
    loading.set_value();
    released.wait();
    out->value = "single " + std::string(key);
    return Status::OK();
  };
  std::promise<void> bulk_called;
  auto loader = std::make_shared<RecordingBulkLoader>([&](std::string_view key) {
    bulk_called.set_value();
    return Found(key);
  });
  UseBulkLoader(loader);
  auto cache = Open();

  std::string from_get;
  std::thread get([&] { ASSERT_TRUE(cache->Get("ns", "slow", &from_get).ok()); });
  ASSERT_EQ(loading.get_future().wait_for(kPatience), std::future_status::ready);
  std::thread get_many([&] { cache->GetMany("ns", {"slow", "other"}, &statuses_, &values_); });
  ASSERT_EQ(bulk_called.get_future().wait_for(kPatience), std::future_status::ready);
  release.set_value();
  get.join();
  get_many.join();

  EXPECT_EQ(from_get, "single slow");
  EXPECT_TRUE(statuses_[0].ok() && statuses_[1].ok());
  EXPECT_THAT(values_, ElementsAre("single slow", "bulk other"));
  EXPECT_THAT(loader->calls(), ElementsAre(ElementsAre("other")));
  EXPECT_EQ(single_calls_, 1);
}

// And the other way round: a Get of a key in a running bulk call waits for it.
TEST_F(BulkLoadTest, AGetOfAKeyInARunningBulkCallWaitsForIt) {
  UseHeldBulkLoader();
  auto cache = Open();
  ASSERT_TRUE(cache->Put("ns", "other", "v").ok());  // the namespace exists: misses are counted
  std::thread get_many([&] { cache->GetMany("ns", {"k"}, &statuses_, &values_); });
  ASSERT_EQ(bulk_loading_.get_future().wait_for(kPatience), std::future_status::ready);
  std::string from_get;
  std::thread get([&] { ASSERT_TRUE(cache->Get("ns", "k", &from_get).ok()); });
  // The Get has missed both tiers (GetMany's miss was the first) and goes on
  // to load: it finds the bulk call's load running and waits for it. Released
  // any sooner, it would find the stored value; either way it never loads.
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (cache->GetStats().disk.misses < 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  bulk_release_.set_value();
  get_many.join();
  get.join();
  EXPECT_EQ(from_get, "bulk k");
  EXPECT_THAT(values_, ElementsAre("bulk k"));
  EXPECT_EQ(single_calls_, 0);
}

}  // namespace
}  // namespace tiercache
