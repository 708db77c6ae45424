// The refresh queue: each key at most once queued or running, known by its
// hash, bounded, a wait for what was asked before it, and a stop that drops
// what has not begun.

#include "engine/refresher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "engine/key_hash.h"
#include "tests/util/failing_new.h"
#include "tiercache/clock.h"

namespace tiercache::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAreArray;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kPatience = std::chrono::seconds(30);

// Work that records each job as "ns/key@version" and, while held, makes the
// first job wait until Release.
class Recorder {
 public:
  explicit Recorder(bool hold_first) : hold_(hold_first) {}

  // Comes to kRefreshed unless answer() said otherwise.
  Refresher::Outcome operator()(const Refresher::Job& job) {
    bool hold = false;
    Refresher::Outcome outcome;
    {
      std::lock_guard lock(mu_);
      ran_.push_back(job.ns + "/" + job.key + "@" + std::to_string(job.version));
      hold = std::exchange(hold_, false);
      outcome = outcome_;
    }
    if (hold) {
      started_.set_value();
      released_.wait();
    }
    return outcome;
  }

  void answer(Refresher::Outcome outcome) {
    std::lock_guard lock(mu_);
    outcome_ = outcome;
  }

  void WaitUntilHeld() { started_.get_future().wait(); }
  void Release() { release_.set_value(); }
  std::vector<std::string> ran() {
    std::lock_guard lock(mu_);
    return ran_;
  }

 private:
  std::mutex mu_;
  bool hold_;
  Refresher::Outcome outcome_ = Refresher::Outcome::kRefreshed;
  std::vector<std::string> ran_;
  std::promise<void> started_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

// Asks for a refresh of ns/key; the namespaces "ns" and "other" have the ids
// 1 and 2.
bool Ask(Refresher& refresher, std::string_view ns, std::string_view key, std::uint64_t version) {
  return refresher.Request(HashKey(ns == "ns" ? 1 : 2, key), ns, key, version);
}

Refresher::Work RunOn(Recorder* recorder) {
  return [recorder](const Refresher::Job& job) { return (*recorder)(job); };
}

// A refresher whose backoff after failures runs on `clock`, up to
// `max_backoff`.
Refresher Make(std::size_t threads, Refresher::Work work,
               std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(),
               milliseconds max_backoff = std::chrono::minutes(1)) {
  return Refresher(threads, max_backoff, std::move(clock), std::move(work));
}

TEST(RefresherTest, AKeyIsQueuedOnceUntilItsRefreshHasRun) {
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  EXPECT_TRUE(Ask(refresher, "ns", "a", 1));
  recorder.WaitUntilHeld();
  EXPECT_FALSE(Ask(refresher, "ns", "a", 2));  // running
  EXPECT_TRUE(Ask(refresher, "ns", "b", 1));
  EXPECT_FALSE(Ask(refresher, "ns", "b", 1));  // queued
  EXPECT_TRUE(Ask(refresher, "other", "a", 1));  // another namespace's key
  EXPECT_EQ(refresher.queued(), 2u);
  recorder.Release();
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_THAT(recorder.ran(), ElementsAre("ns/a@1", "ns/b@1", "other/a@1"));

  EXPECT_TRUE(Ask(refresher, "ns", "a", 3));  // its refresh has run: asked again
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_EQ(recorder.ran().back(), "ns/a@3");
  EXPECT_EQ(refresher.dropped(), 0u);
}

TEST(RefresherTest, KeysThatShareAHintSlotAreEachQueuedOnce) {
  constexpr std::uint64_t kFirst = 5;
  constexpr std::uint64_t kSecond = 5 + Refresher::kHints * 7;  // the same hint slot
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  ASSERT_TRUE(refresher.Request(kFirst, "ns", "first", 1));
  recorder.WaitUntilHeld();
  EXPECT_TRUE(refresher.Request(kSecond, "ns", "second", 1));
  // The slot's hint is the second key's now: the first's answer is the lock's.
  EXPECT_FALSE(refresher.Request(kFirst, "ns", "first", 2));
  EXPECT_FALSE(refresher.Request(kSecond, "ns", "second", 2));
  recorder.Release();
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_THAT(recorder.ran(), ElementsAre("ns/first@1", "ns/second@1"));
  // Both ran: asked again, the second first, whose hint the slot held last.
  EXPECT_TRUE(refresher.Request(kSecond, "ns", "second", 3));
  EXPECT_TRUE(refresher.Request(kFirst, "ns", "first", 3));
}

TEST(RefresherTest, HashZeroIsQueuedAndForgottenAsAnyOther) {
  Recorder recorder(/*hold_first=*/false);
  Refresher refresher = Make(1, RunOn(&recorder));
  for (const std::uint64_t hash : {std::uint64_t{0}, std::uint64_t{Refresher::kHints}}) {
    ASSERT_TRUE(refresher.Request(hash, "ns", std::to_string(hash), 1)) << hash;
    ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
    EXPECT_TRUE(refresher.Request(hash, "ns", std::to_string(hash), 2)) << hash;
    ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  }
  const std::string slot_mate = "ns/" + std::to_string(Refresher::kHints);
  EXPECT_THAT(recorder.ran(),
              ElementsAre("ns/0@1", "ns/0@2", slot_mate + "@1", slot_mate + "@2"));
}

TEST(RefresherTest, KeysWithOneHashShareARefreshTurn) {
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  ASSERT_TRUE(refresher.Request(42, "ns", "a", 1));
  recorder.WaitUntilHeld();
  EXPECT_FALSE(refresher.Request(42, "ns", "b", 1));
  recorder.Release();
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_TRUE(refresher.Request(42, "ns", "b", 1));  // its turn, once a's refresh has run
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_THAT(recorder.ran(), ElementsAre("ns/a@1", "ns/b@1"));
}

TEST(RefresherTest, WaitForEndsAtItsDeadlineWhileARefreshRuns) {
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  EXPECT_TRUE(refresher.WaitFor(SteadyClock::now()));  // nothing asked
  ASSERT_TRUE(Ask(refresher, "ns", "a", 1));
  recorder.WaitUntilHeld();
  EXPECT_FALSE(refresher.WaitFor(SteadyClock::now()));
  recorder.Release();
  EXPECT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
}

TEST(RefresherTest, RequestsPastTheBoundAreDroppedAndCounted) {
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  ASSERT_TRUE(Ask(refresher, "ns", "running", 1));
  recorder.WaitUntilHeld();
  for (std::size_t i = 0; i < Refresher::kMaxQueued; ++i) {
    ASSERT_TRUE(Ask(refresher, "ns", std::to_string(i), 1)) << i;
  }
  EXPECT_FALSE(Ask(refresher, "ns", "one too many", 1));
  EXPECT_EQ(refresher.dropped(), 1u);
  EXPECT_EQ(refresher.queued(), Refresher::kMaxQueued);
  recorder.Release();
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_EQ(recorder.ran().size(), Refresher::kMaxQueued + 1);
  EXPECT_TRUE(Ask(refresher, "ns", "one too many", 1));  // room again
}

TEST(RefresherTest, StopDropsWhatIsQueuedAndWaitsForWhatRuns) {
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  ASSERT_TRUE(Ask(refresher, "ns", "a", 1));
  recorder.WaitUntilHeld();
  ASSERT_TRUE(Ask(refresher, "ns", "b", 1));
  std::thread stopper([&] { refresher.Stop(); });
  // Stop drops b at once and then waits for a.
  while (refresher.queued() != 0) std::this_thread::yield();
  EXPECT_FALSE(Ask(refresher, "ns", "c", 1));
  recorder.Release();
  stopper.join();
  EXPECT_THAT(recorder.ran(), ElementsAre("ns/a@1"));
  refresher.Stop();  // again: nothing to do
}

TEST(RefresherTest, SeveralThreadsRunEveryKeyOnce) {
  std::mutex mu;
  std::vector<std::string> ran;
  Refresher refresher = Make(4, [&](const Refresher::Job& job) {
    std::lock_guard lock(mu);
    ran.push_back(job.key);
    return Refresher::Outcome::kRefreshed;
  });
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(std::to_string(i));
    ASSERT_TRUE(Ask(refresher, "ns", keys.back(), 1));
  }
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  std::lock_guard lock(mu);
  EXPECT_THAT(ran, UnorderedElementsAreArray(keys));
}

// Fails the refresh of ns/a (which must not be backing off) and waits for it.
void FailOnce(Refresher& refresher, Recorder& recorder) {
  recorder.answer(Refresher::Outcome::kFailed);
  ASSERT_TRUE(Ask(refresher, "ns", "a", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
}

// Expects ns/a to be held back for `backoff` from now, and no longer.
void ExpectBackoff(Refresher& refresher, ManualClock& clock, milliseconds backoff) {
  clock.Advance(backoff - milliseconds(1));
  EXPECT_FALSE(Ask(refresher, "ns", "a", 1));
  clock.Advance(milliseconds(1));
}

// After a failure the key waits 1 s, after each further one twice as long,
// at most max_backoff (a minute here); a refresh that does not fail ends it.
TEST(RefresherTest, AKeyWhoseRefreshFailedWaitsLongerAfterEachFailure) {
  Recorder recorder(/*hold_first=*/false);
  auto clock = std::make_shared<ManualClock>();
  Refresher refresher = Make(1, RunOn(&recorder), clock);
  ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
  for (const int ms : {1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 60'000, 60'000}) {
    SCOPED_TRACE(ms);
    ExpectBackoff(refresher, *clock, milliseconds(ms));
    recorder.answer(Refresher::Outcome::kRefreshed);
    EXPECT_TRUE(Ask(refresher, "ns", "other" + std::to_string(ms), 1));  // other keys go on
    ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
    ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
  }
  clock->Advance(std::chrono::minutes(1));
  recorder.answer(Refresher::Outcome::kRefreshed);
  ASSERT_TRUE(Ask(refresher, "ns", "a", 1));  // does not fail: the run of failures ends
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_TRUE(Ask(refresher, "ns", "a", 2));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
  ExpectBackoff(refresher, *clock, milliseconds(1'000));  // a first failure again
  EXPECT_EQ(refresher.dropped(), 0u);
}

// Work that throws (the system refusing memory on the way) fails the refresh:
// the key backs off, and the thread goes on with the next.
TEST(RefresherTest, WorkThatThrowsFailsTheRefreshAndTheThreadGoesOn) {
  Recorder recorder(/*hold_first=*/false);
  auto clock = std::make_shared<ManualClock>();
  Refresher refresher = Make(
      1,
      [&recorder](const Refresher::Job& job) {
        if (job.key == "a") throw std::bad_alloc();
        return recorder(job);
      },
      clock);
  ASSERT_TRUE(Ask(refresher, "ns", "a", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  ExpectBackoff(refresher, *clock, milliseconds(1'000));
  EXPECT_TRUE(Ask(refresher, "ns", "b", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_THAT(recorder.ran(), ElementsAre("ns/b@1"));
}

// A refresh that did not run (a load of the key was running) leaves the run
// of failures as it was; a failure a whole backoff after the last one ended
// begins a new run.
TEST(RefresherTest, ARunOfFailuresOutlivesARefreshNotRunButNotAQuietSpell) {
  Recorder recorder(/*hold_first=*/false);
  auto clock = std::make_shared<ManualClock>();
  Refresher refresher = Make(1, RunOn(&recorder), clock);
  ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
  ExpectBackoff(refresher, *clock, milliseconds(1'000));
  ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
  ExpectBackoff(refresher, *clock, milliseconds(2'000));
  recorder.answer(Refresher::Outcome::kNotRun);
  ASSERT_TRUE(Ask(refresher, "ns", "a", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));  // the third in a row
  ExpectBackoff(refresher, *clock, milliseconds(4'000));
  clock->Advance(milliseconds(4'000));  // a whole backoff without a failure
  ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
  ExpectBackoff(refresher, *clock, milliseconds(1'000));
}

// A key backing off whose hint slot another key took is held back by the
// lock's answer.
TEST(RefresherTest, ABackoffHoldsWhenAnotherKeyTakesItsHintSlot) {
  constexpr std::uint64_t kFailing = 5;
  constexpr std::uint64_t kSlotMate = 5 + Refresher::kHints * 3;
  Recorder recorder(/*hold_first=*/false);
  auto clock = std::make_shared<ManualClock>();
  Refresher refresher = Make(1, RunOn(&recorder), clock);
  recorder.answer(Refresher::Outcome::kFailed);
  ASSERT_TRUE(refresher.Request(kFailing, "ns", "failing", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_FALSE(refresher.Request(kFailing, "ns", "failing", 1));
  recorder.answer(Refresher::Outcome::kRefreshed);
  ASSERT_TRUE(refresher.Request(kSlotMate, "ns", "mate", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_FALSE(refresher.Request(kFailing, "ns", "failing", 1));
  clock->Advance(milliseconds(1'000));
  EXPECT_TRUE(refresher.Request(kFailing, "ns", "failing", 2));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_THAT(recorder.ran(), ElementsAre("ns/failing@1", "ns/mate@1", "ns/failing@2"));
}

TEST(RefresherTest, ABackoffIsAtMostMaxBackoffEvenBelowASecond) {
  Recorder recorder(/*hold_first=*/false);
  auto clock = std::make_shared<ManualClock>();
  Refresher refresher = Make(1, RunOn(&recorder), clock, milliseconds(10));
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(FailOnce(refresher, recorder));
    ExpectBackoff(refresher, *clock, milliseconds(10));
  }
}

// Past kMaxBackoffs keys in backoff, a failed key is not held back, until the
// keys whose backoffs have ended make room.
TEST(RefresherTest, BackoffsAreBounded) {
  Recorder recorder(/*hold_first=*/false);
  recorder.answer(Refresher::Outcome::kFailed);
  auto clock = std::make_shared<ManualClock>();
  Refresher refresher = Make(1, RunOn(&recorder), clock);
  for (std::size_t i = 0; i < Refresher::kMaxBackoffs; ++i) {
    ASSERT_TRUE(Ask(refresher, "ns", std::to_string(i), 1)) << i;
  }
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_FALSE(Ask(refresher, "ns", "0", 1));
  ASSERT_TRUE(Ask(refresher, "ns", "one too many", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_TRUE(Ask(refresher, "ns", "one too many", 1));  // not remembered: asked again at once
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  clock->Advance(milliseconds(1'000));  // every backoff has ended
  ASSERT_TRUE(Ask(refresher, "ns", "newcomer", 1));
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_FALSE(Ask(refresher, "ns", "newcomer", 1));  // remembered, in the room made
}

// A request there is no memory to queue is turned away whole, counted as
// dropped: the key is not left marked as asked for, so the next request
// queues it. The refresh thread is held meanwhile, so that the queue grows
// across its blocks and the set of pending keys across its rehashes.
TEST(RefresherTest, ARequestWithNoMemoryToQueueItIsDroppedWhole) {
  if (!test_util::AllocationsCanFail()) GTEST_SKIP() << "no allocation can fail here";
  constexpr std::size_t kKeys = 40;
  Recorder recorder(/*hold_first=*/true);
  Refresher refresher = Make(1, RunOn(&recorder));
  ASSERT_TRUE(Ask(refresher, "ns", "held", 1));
  recorder.WaitUntilHeld();
  std::vector<std::string> asked = {"ns/held@1"};
  std::uint64_t refused = 0;
  for (std::size_t k = 0; k < kKeys; ++k) {
    const std::string key = "k" + std::to_string(k);
    for (long n = 0;; ++n) {
      SCOPED_TRACE(key + ", allocation " + std::to_string(n) + " failing");
      ASSERT_LT(n, 100) << "a request makes more allocations than expected";
      test_util::FailAllocation(n);
      const bool queued = Ask(refresher, "ns", key, 1);
      const bool failed = test_util::AllocationFailed();
      test_util::FailAllocation(-1);
      ASSERT_NE(queued, failed);
      if (queued) break;
      EXPECT_EQ(refresher.dropped(), ++refused);
    }
    asked.push_back("ns/" + key + "@1");
  }
  EXPECT_EQ(refresher.queued(), kKeys);
  // Each request allocates the key's place among the pending; some also a
  // block of the queue or a larger table.
  EXPECT_GT(refused, kKeys);
  recorder.Release();
  ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
  EXPECT_THAT(recorder.ran(), ElementsAreArray(asked));  // queued once each
}

// A refresher whose threads the system will not all start throws what
// starting one threw, once those it started have ended.
TEST(RefresherTest, AThreadThatCannotStartFailsTheConstructionWhole) {
  if (!test_util::AllocationsCanFail()) GTEST_SKIP() << "no allocation can fail here";
  Recorder recorder(/*hold_first=*/false);
  for (long n = 0;; ++n) {
    SCOPED_TRACE("allocation " + std::to_string(n) + " failing");
    ASSERT_LT(n, 100) << "making a refresher makes more allocations than expected";
    std::unique_ptr<Refresher> refresher;
    bool thrown = false;
    test_util::FailAllocation(n);
    try {
      refresher = std::make_unique<Refresher>(3, std::chrono::minutes(1),
                                              std::make_shared<ManualClock>(), RunOn(&recorder));
    } catch (const std::bad_alloc&) {
      thrown = true;
    }
    const bool failed = test_util::AllocationFailed();
    test_util::FailAllocation(-1);
    ASSERT_EQ(thrown, failed);
    if (!failed) {
      ASSERT_TRUE(Ask(*refresher, "ns", "k", 1));
      ASSERT_TRUE(refresher->WaitFor(SteadyClock::now() + kPatience));
      EXPECT_THAT(recorder.ran(), ElementsAre("ns/k@1"));
      EXPECT_GE(n, 3);  // at least each thread's state
      return;
    }
  }
}

// The refresh thread's own bookkeeping after a failed refresh (the backoff
// table) and before the next (what runs) may be refused memory: the thread
// goes on, and a failed key it has no memory to remember is not held back.
TEST(RefresherTest, AllocationsRefusedToTheRefreshThreadEndNothing) {
  if (!test_util::AllocationsCanFail()) GTEST_SKIP() << "no allocation can fail here";
  Recorder recorder(/*hold_first=*/false);
  long fail_at = -1;
  bool refused = false;  // in the bookkeeping since the last failed refresh
  Refresher refresher = Make(1, [&](const Refresher::Job& job) {
    if (job.key.starts_with("failing")) {
      test_util::FailAllocation(fail_at);  // counts this thread's allocations from here
      return Refresher::Outcome::kFailed;
    }
    refused = test_util::AllocationFailed();
    test_util::FailAllocation(-1);
    return recorder(job);
  });
  std::vector<std::string> probes;
  for (fail_at = 0;; ++fail_at) {
    SCOPED_TRACE(fail_at);
    ASSERT_LT(fail_at, 100) << "the bookkeeping makes more allocations than expected";
    const std::string failing = "failing" + std::to_string(fail_at);
    const std::string probe = "probe" + std::to_string(fail_at);
    ASSERT_TRUE(Ask(refresher, "ns", failing, 1));
    ASSERT_TRUE(Ask(refresher, "ns", probe, 1));
    ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
    probes.push_back("ns/" + probe + "@1");
    EXPECT_THAT(recorder.ran(), ElementsAreArray(probes));
    // Held back when its backoff was remembered, asked for again when not.
    if (Ask(refresher, "ns", failing, 2)) {
      EXPECT_TRUE(refused);
      ASSERT_TRUE(refresher.WaitFor(SteadyClock::now() + kPatience));
    }
    if (!refused) break;
  }
  EXPECT_GT(fail_at, 0);
  EXPECT_EQ(refresher.dropped(), 0u);
}

}  // namespace
}  // namespace tiercache::engine
