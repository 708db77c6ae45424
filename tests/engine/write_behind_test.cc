#include "engine/write_behind.h"
#include "engine/write_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::engine {
namespace {

using std::chrono::milliseconds;

// A store stand-in: writes a batch in key order and records what it took;
// can fail (after taking part of a batch) or block on demand.
class FakeStore {
 public:
  Status Write(std::vector<BufferedWrite>* batch, std::size_t* written) {
    std::unique_lock lock(mu_);
    ++entered_;
    entered_at_.push_back(std::chrono::steady_clock::now());
    changed_.notify_all();
    changed_.wait(lock, [&] { return !blocked_; });
    std::sort(batch->begin(), batch->end(),
              [](const BufferedWrite& a, const BufferedWrite& b) { return a.key < b.key; });
    if (throws_left_ > 0) {
      --throws_left_;
      throw std::bad_alloc();
    }
    Status s;
    *written = batch->size();
    if (failures_left_ > 0) {
      --failures_left_;
      *written = std::min(taken_before_failing_, batch->size());
      s = Status::IOError("injected failure");
    }
    if (*written == 0) return s;
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < *written; ++i) {
      const BufferedWrite& w = (*batch)[i];
      keys.push_back(std::string(w.key) + (w.is_delete ? "=deleted" : "=" + std::string(w.record)));
    }
    batches_.push_back(keys);
    changed_.notify_all();
    return s;
  }

  void Block(bool blocked) {
    std::lock_guard lock(mu_);
    blocked_ = blocked;
    changed_.notify_all();
  }
  // The next `times` batches fail, each after the store took its first
  // `taken` writes.
  void FailNext(int times, std::size_t taken = 0) {
    std::lock_guard lock(mu_);
    failures_left_ = times;
    taken_before_failing_ = taken;
  }
  // The next `times` batches throw std::bad_alloc before the store takes any.
  void ThrowNext(int times) {
    std::lock_guard lock(mu_);
    throws_left_ = times;
  }
  // Waits (real time, generously) until the flusher has called Write.
  bool WaitUntilEntered() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return entered_ > 0; });
  }
  // Waits (real time, generously) until `count` batches were written.
  bool WaitForBatches(std::size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return batches_.size() >= count; });
  }
  std::vector<std::vector<std::string>> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  // When each call of Write began (real time).
  std::vector<std::chrono::steady_clock::time_point> entered_at() {
    std::lock_guard lock(mu_);
    return entered_at_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool blocked_ = false;
  int failures_left_ = 0;
  int throws_left_ = 0;
  std::size_t taken_before_failing_ = 0;
  int entered_ = 0;
  std::vector<std::chrono::steady_clock::time_point> entered_at_;
  std::vector<std::vector<std::string>> batches_;
};

WriteBufferOptions Small() {
  WriteBufferOptions o;
  o.max_entries = 100;
  o.max_bytes = 1 << 20;
  o.flush_interval = std::chrono::hours(1);
  o.max_wait = milliseconds(0);
  return o;
}

class WriteBehindTest : public ::testing::Test {
 protected:
  std::unique_ptr<WriteBehind> Make(WriteBufferOptions options) {
    return std::make_unique<WriteBehind>(
        options, clock_,
        [this](auto* batch, std::size_t* written) { return store_.Write(batch, written); },
        [this](const Status& status, std::size_t, std::uint64_t attempt) {
          attempts_.push_back(attempt);
          failures_.push_back(status.ToString());
        });
  }

  // A buffer of two writes at most, full: the flusher holds a and b, blocked
  // in the store until store_.Block(false), and c and d wait for it.
  std::unique_ptr<WriteBehind> MakeFullWithTheFlusherHeld(milliseconds max_wait) {
    WriteBufferOptions o = Small();
    o.max_entries = 2;
    o.max_wait = max_wait;
    store_.Block(true);
    auto buffer = Make(o);
    EXPECT_TRUE(Add(*buffer, Put("a", "v")).ok());
    EXPECT_TRUE(Add(*buffer, Put("b", "v")).ok());  // full: the flusher takes it, then blocks
    EXPECT_TRUE(store_.WaitUntilEntered());
    EXPECT_TRUE(Add(*buffer, Put("c", "v")).ok());
    EXPECT_TRUE(Add(*buffer, Put("d", "v")).ok());
    return buffer;
  }

  // Adds the write at the clock's time.
  Status Add(WriteBehind& buffer, const BufferedWrite& write) {
    TimePoint now = clock_->Now();
    return buffer.Add(write, &now);
  }

  static BufferedWrite Put(const std::string& key, const std::string& value) {
    BufferedWrite w;
    w.ns = 1;
    w.key = key;
    w.record = value;
    return w;
  }
  static BufferedWrite Del(const std::string& key) {
    BufferedWrite w;
    w.ns = 1;
    w.key = key;
    w.is_delete = true;
    return w;
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  FakeStore store_;
  // Written by the flusher thread only.
  std::vector<std::uint64_t> attempts_;
  std::vector<std::string> failures_;
};

TEST_F(WriteBehindTest, CoalescesWritesOfAKeyIntoItsLast) {
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "1")).ok());
  ASSERT_TRUE(Add(*buffer, Put("a", "2")).ok());
  ASSERT_TRUE(Add(*buffer, Put("b", "1")).ok());
  ASSERT_TRUE(Add(*buffer, Del("b")).ok());
  ASSERT_TRUE(Add(*buffer, Put("a", "3")).ok());
  EXPECT_EQ(buffer->GetStats().entries, 2u);
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  auto batches = store_.batches();
  ASSERT_EQ(batches.size(), 1u);
  std::sort(batches[0].begin(), batches[0].end());
  EXPECT_EQ(batches[0], (std::vector<std::string>{"a=3", "b=deleted"}));
}

TEST_F(WriteBehindTest, FindSeesTheLatestBufferedWrite) {
  auto buffer = Make(Small());
  std::string record;
  EXPECT_EQ(buffer->Find(1, "a", &record), WriteBehind::Found::kNo);
  ASSERT_TRUE(Add(*buffer, Put("a", "1")).ok());
  ASSERT_EQ(buffer->Find(1, "a", &record), WriteBehind::Found::kPut);
  EXPECT_EQ(record, "1");
  EXPECT_EQ(buffer->Find(2, "a", &record), WriteBehind::Found::kNo);
  ASSERT_TRUE(Add(*buffer, Del("a")).ok());
  EXPECT_EQ(buffer->Find(1, "a", &record), WriteBehind::Found::kDelete);
}

TEST_F(WriteBehindTest, FlushesWhenTheEntryLimitIsReached) {
  WriteBufferOptions o = Small();
  o.max_entries = 3;
  auto buffer = Make(o);
  for (const char* key : {"a", "b", "c"}) ASSERT_TRUE(Add(*buffer, Put(key, "v")).ok());
  ASSERT_TRUE(store_.WaitForBatches(1));
  EXPECT_EQ(store_.batches()[0].size(), 3u);
}

// Options whose byte limit leaves room for two writes of `value`, not three,
// and whose entry limit and interval are never reached.
WriteBufferOptions RoomForTwo(const std::string& value, milliseconds max_wait) {
  WriteBufferOptions o = Small();
  o.max_entries = 10'000;
  o.max_wait = max_wait;
  BufferedWrite write;
  write.key = "a";
  write.record = value;
  WriteSet one(o.max_bytes);
  one.Add(write);
  o.max_bytes = 2 * one.bytes() + one.bytes() / 2;
  return o;
}

// A write that would take the buffer past max_bytes while it holds less: the
// writer waits, and the flusher, told so, writes the buffer out at once rather
// than at the interval (an hour here), which makes the room.
TEST_F(WriteBehindTest, AWriteOverTheByteLimitHasTheBufferFlushedAtOnce) {
  const std::string value(1000, 'v');
  auto buffer = Make(RoomForTwo(value, milliseconds(10'000)));
  ASSERT_TRUE(Add(*buffer, Put("a", value)).ok());
  ASSERT_TRUE(Add(*buffer, Put("b", value)).ok());
  EXPECT_TRUE(store_.batches().empty()) << "below both limits, nothing is due";
  const Status third = Add(*buffer, Put("c", value));
  EXPECT_TRUE(third.ok()) << third.ToString();
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  const auto batches = store_.batches();
  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[0][0].substr(0, 2), "a=");
  EXPECT_EQ(batches[0][1].substr(0, 2), "b=");
  EXPECT_EQ(buffer->GetStats().refused, 0u);
}

// A writer that may not wait (max_wait 0) is refused, unless the flusher
// made room in the instant its wait gave the lock up; either way the flusher
// learns that the buffer is too full for a write and flushes at once, not at
// the interval (an hour), and the write, tried again, finds room.
TEST_F(WriteBehindTest, AWriterThatMayNotWaitStillHasTheBufferFlushed) {
  const std::string value(1000, 'v');
  auto buffer = Make(RoomForTwo(value, milliseconds(0)));
  ASSERT_TRUE(Add(*buffer, Put("a", value)).ok());
  ASSERT_TRUE(Add(*buffer, Put("b", value)).ok());
  Status again;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((again = Add(*buffer, Put("c", value))).IsBusy() &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_TRUE(again.ok()) << again.ToString();
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  const auto batches = store_.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[1].size(), 1u);
}

TEST_F(WriteBehindTest, FlushesWhenTheOldestWriteReachesTheInterval) {
  WriteBufferOptions o = Small();
  o.flush_interval = milliseconds(5);
  auto buffer = Make(o);
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  clock_->Advance(milliseconds(10));
  ASSERT_TRUE(store_.WaitForBatches(1));
  EXPECT_EQ(store_.batches()[0], (std::vector<std::string>{"a=v"}));
  // The interval's batch was the only one: Flush finds nothing left to write.
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches().size(), 1u);
  EXPECT_EQ(buffer->GetStats().entries, 0u);
}

TEST_F(WriteBehindTest, ReportsTheAgeOfTheOldestUnflushedWrite) {
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  clock_->Advance(milliseconds(1500));
  ASSERT_TRUE(Add(*buffer, Put("b", "v")).ok());
  EXPECT_EQ(buffer->GetStats().oldest_age, milliseconds(1500));
}

// A write that finds room is buffered at the time its writer read, which
// stays as it was.
TEST_F(WriteBehindTest, AWriteThatDidNotWaitKeepsItsWritersTime) {
  auto buffer = Make(Small());
  const TimePoint read = clock_->Now() - milliseconds(400);
  TimePoint now = read;
  ASSERT_TRUE(buffer->Add(Put("a", "v"), &now).ok());
  EXPECT_EQ(now, read);
  EXPECT_EQ(buffer->GetStats().oldest_age, milliseconds(400));
}

TEST_F(WriteBehindTest, AFullBufferRefusesWritersAfterMaxWait) {
  auto buffer = MakeFullWithTheFlusherHeld(milliseconds(0));
  ASSERT_FALSE(HasFailure());
  Status refused = Add(*buffer, Put("e", "v"));
  EXPECT_TRUE(refused.IsBusy()) << refused.ToString();
  EXPECT_NE(refused.message().find("max_wait"), std::string::npos) << refused.message();
  EXPECT_EQ(buffer->GetStats().entries, 4u);
  EXPECT_EQ(buffer->GetStats().refused, 1u);
  store_.Block(false);
  EXPECT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
}

// A writer that finds the buffer full waits for a flush to make room, for up
// to max_wait (real time; here far longer than the flush takes).
TEST_F(WriteBehindTest, AWriterWaitsWithinMaxWaitForAFlushToMakeRoom) {
  auto buffer = MakeFullWithTheFlusherHeld(milliseconds(60'000));
  ASSERT_FALSE(HasFailure());
  const TimePoint asked = clock_->Now();
  TimePoint now = asked;
  auto waiting = std::async(std::launch::async, [&] { return buffer->Add(Put("e", "v"), &now); });
  // Until the writer waits for room (it may start late on a busy machine).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (buffer->GetStats().waiting == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_EQ(buffer->GetStats().waiting, 1u);
  // Still waiting while the store holds the flusher (a writer that did not
  // wait would have answered Busy by now).
  EXPECT_EQ(waiting.wait_for(milliseconds(100)), std::future_status::timeout);
  clock_->Advance(milliseconds(250));
  store_.Block(false);
  const Status added = waiting.get();
  EXPECT_TRUE(added.ok()) << added.ToString();
  // The writer's time is read again after its wait.
  EXPECT_EQ(now, asked + milliseconds(250));
  EXPECT_EQ(buffer->GetStats().refused, 0u);
  EXPECT_EQ(buffer->GetStats().waiting, 0u);
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches(), (std::vector<std::vector<std::string>>{
                                  {"a=v", "b=v"}, {"c=v", "d=v"}, {"e=v"}}));
}

TEST_F(WriteBehindTest, AFailedBatchIsRetriedAndStaysReadable) {
  store_.FailNext(2);
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches().size(), 1u);
  EXPECT_EQ(attempts_, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(buffer->GetStats().failures, 2u);
}

// The flusher waits out each backoff before its next attempt: at least half
// of 10 ms, 20 ms, 40 ms (real time; lower bounds, which a busy machine
// cannot break). A retry at once would take the store down with it.
TEST_F(WriteBehindTest, EachRetryWaitsOutItsBackoff) {
  store_.FailNext(3);
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  const auto entered = store_.entered_at();
  ASSERT_EQ(entered.size(), 4u);
  for (std::size_t k = 1; k < entered.size(); ++k) {
    EXPECT_GE(entered[k] - entered[k - 1], milliseconds(5 << (k - 1)))
        << "before attempt " << k + 1;
  }
}

// Exponential backoff with jitter: 10 ms doubled per attempt up to 5 s, each
// wait a random 0.5 to 1.5 times that, so that caches failing together do not
// retry in step.
TEST(RetryBackoffTest, DoublesFromTenMillisecondsToFiveSecondsWithJitter) {
  for (std::uint64_t attempt = 1; attempt <= 20; ++attempt) {
    SCOPED_TRACE(attempt);
    const std::int64_t base = std::min<std::int64_t>(std::int64_t{10} << (attempt - 1), 5000);
    std::set<std::int64_t> seen;
    for (int i = 0; i < 200; ++i) {
      const std::int64_t wait = RetryBackoff(attempt).count();
      EXPECT_GE(wait, base / 2);
      EXPECT_LT(wait, base + base / 2);
      seen.insert(wait);
    }
    EXPECT_GT(seen.size(), 1u) << "every wait alike: no jitter";
  }
}

// A writer that throws (the system refusing memory for the batch) fails the
// attempt as a store error would: the writes stay buffered and readable, and
// are written at the retry.
TEST_F(WriteBehindTest, AWriterThatThrowsFailsTheAttemptAndIsRetried) {
  store_.ThrowNext(1);
  store_.Block(true);
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  ASSERT_TRUE(Add(*buffer, Del("b")).ok());
  store_.Block(false);
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches(), (std::vector<std::vector<std::string>>{{"a=v", "b=deleted"}}));
  EXPECT_EQ(attempts_, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(failures_, (std::vector<std::string>{"NoSpace: out of memory"}));
  EXPECT_EQ(buffer->GetStats().failures, 1u);
  EXPECT_EQ(buffer->GetStats().entries, 0u);
}

// A failure callback must not throw; one that does loses the exception, and
// the flusher goes on retrying.
TEST_F(WriteBehindTest, AFailureCallbackThatThrowsDoesNotStopTheFlusher) {
  store_.FailNext(2);
  auto buffer = std::make_unique<WriteBehind>(
      Small(), clock_,
      [this](auto* batch, std::size_t* written) { return store_.Write(batch, written); },
      [](const Status&, std::size_t, std::uint64_t) { throw std::runtime_error("listener"); });
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches(), (std::vector<std::vector<std::string>>{{"a=v"}}));
  EXPECT_EQ(buffer->GetStats().failures, 2u);
}

// What the store took before failing leaves the buffer (Find answers kNo, so
// reads go to the store) and is not handed over again.
TEST_F(WriteBehindTest, ARetryHandsOverOnlyWhatTheStoreDidNotTake) {
  store_.FailNext(1, /*taken=*/2);
  store_.Block(true);
  auto buffer = Make(Small());
  for (const char* key : {"d", "b", "a", "c"}) ASSERT_TRUE(Add(*buffer, Put(key, "v")).ok());
  ASSERT_TRUE(Add(*buffer, Del("e")).ok());
  EXPECT_EQ(buffer->GetStats().entries, 5u);
  store_.Block(false);
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches(), (std::vector<std::vector<std::string>>{
                                  {"a=v", "b=v"}, {"c=v", "d=v", "e=deleted"}}));
  EXPECT_EQ(attempts_, (std::vector<std::uint64_t>{1}));
  std::string record;
  EXPECT_EQ(buffer->Find(1, "a", &record), WriteBehind::Found::kNo);
  EXPECT_EQ(buffer->GetStats().entries, 0u);
  EXPECT_EQ(buffer->GetStats().bytes, 0u);
}

// A writer that reports an error after the store took every write has
// flushed the batch: Flush returns and nothing is written again.
TEST_F(WriteBehindTest, AnErrorAfterTheStoreTookEveryWriteStillEndsTheFlush) {
  store_.FailNext(1, /*taken=*/100);
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  ASSERT_TRUE(Add(*buffer, Put("b", "v")).ok());
  ASSERT_TRUE(buffer->Flush(milliseconds(30'000)).ok());
  EXPECT_EQ(store_.batches(), (std::vector<std::vector<std::string>>{{"a=v", "b=v"}}));
  EXPECT_TRUE(attempts_.empty());
  EXPECT_EQ(buffer->GetStats().flushes, 1u);
  EXPECT_EQ(buffer->GetStats().entries, 0u);
}

TEST_F(WriteBehindTest, WritesStayReadableWhileTheStoreFails) {
  store_.FailNext(1'000'000);
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  // Until the flusher's first attempt has failed (real time, generously).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Status s;
  do {
    s = buffer->Flush(milliseconds(50));
  } while (s.message().find("injected failure") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up);
  EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
  EXPECT_NE(s.message().find("injected failure"), std::string::npos) << s.message();
  std::string record;
  EXPECT_EQ(buffer->Find(1, "a", &record), WriteBehind::Found::kPut);
  std::vector<BufferedWrite> unwritten;
  EXPECT_TRUE(buffer->Close(milliseconds(50), &unwritten).IsTimedOut());
  ASSERT_EQ(unwritten.size(), 1u);
  EXPECT_EQ(unwritten[0].key, "a");
}

TEST_F(WriteBehindTest, CloseDrainsAndRefusesLaterWrites) {
  auto buffer = Make(Small());
  ASSERT_TRUE(Add(*buffer, Put("a", "v")).ok());
  std::vector<BufferedWrite> unwritten;
  ASSERT_TRUE(buffer->Close(milliseconds(30'000), &unwritten).ok());
  EXPECT_TRUE(unwritten.empty());
  EXPECT_EQ(store_.batches().size(), 1u);
  EXPECT_TRUE(Add(*buffer, Put("b", "v")).IsInvalidArgument());
}

}  // namespace
}  // namespace tiercache::engine
