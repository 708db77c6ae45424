#include "engine/single_flight.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <new>
#include <thread>
#include <vector>

namespace tiercache::engine {
namespace {

// Does the work of setting the value "v" for the key "k", with no one else
// asking for it: the work runs, and the call gets its result.
void ExpectALoneRun(SingleFlight& flight) {
  Entry entry;
  SingleFlight::Outcome outcome = SingleFlight::Outcome::kShared;
  const Status s = flight.Do(
      "k",
      [](Entry* out) {
        out->value = "v";
        return Status::OK();
      },
      &entry, &outcome);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(entry.value, "v");
  EXPECT_EQ(outcome, SingleFlight::Outcome::kRan);
}

TEST(SingleFlightTest, ALoneCallerRunsTheWorkAndGetsItsResult) {
  SingleFlight flight;
  ExpectALoneRun(flight);
}

// Callers that join a run share its result, an error included: the work runs
// once for all of them.
TEST(SingleFlightTest, CallersThatJoinARunShareItsResult) {
  SingleFlight flight;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> runs{0};
  std::promise<void> started;
  std::thread leader([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
    const Status s = flight.Do(
        "k",
        [&](Entry*) {
          ++runs;
          started.set_value();
          released.wait();
          return Status::IOError("the loader failed");
        },
        &entry, &outcome);
    EXPECT_TRUE(s.IsIOError());
  });
  started.get_future().wait();
  constexpr int kJoiners = 4;
  std::atomic<int> joined_errors{0};
  std::vector<std::thread> joiners;
  for (int i = 0; i < kJoiners; ++i) {
    joiners.emplace_back([&] {
      Entry entry;
      SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
      const Status s = flight.Do(
          "k",
          [&](Entry*) {
            ++runs;
            return Status::OK();
          },
          &entry, &outcome);
      if (outcome == SingleFlight::Outcome::kShared && s.IsIOError()) ++joined_errors;
    });
  }
  while (flight.Waiting("k") < kJoiners) std::this_thread::yield();
  release.set_value();
  leader.join();
  for (std::thread& t : joiners) t.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(joined_errors.load(), kJoiners);
}

// A caller that arrives after the run sealed its result does not share it: it
// waits for the run to end and runs its own work, which sees what the run
// left behind.
TEST(SingleFlightTest, ACallerAfterTheSealRunsItsOwnWorkOnceTheRunEnds) {
  SingleFlight flight;
  std::atomic<int> stored{0};
  std::promise<void> sealed;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread leader([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
    EXPECT_TRUE(flight
                    .Do(
                        "k",
                        [&](Entry* out) {
                          flight.Seal("k");
                          sealed.set_value();
                          released.wait();
                          stored = 1;  // what the run stores after its seal
                          out->value = "first";
                          return Status::OK();
                        },
                        &entry, &outcome)
                    .ok());
  });
  sealed.get_future().wait();
  std::thread late([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kShared;
    const Status s = flight.Do(
        "k",
        [&](Entry* out) {
          out->value = stored == 1 ? "saw the first run's store" : "ran too early";
          return Status::OK();
        },
        &entry, &outcome);
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(outcome, SingleFlight::Outcome::kRan);
    EXPECT_EQ(entry.value, "saw the first run's store");
  });
  while (flight.Waiting("k") < 1) std::this_thread::yield();
  release.set_value();
  leader.join();
  late.join();
}

// A caller with a bound on its wait gives up at the bound with TimedOut while
// the run goes on (its work is the application's: nothing can stop it); the
// run's result then reaches those still waiting, and nobody else.
TEST(SingleFlightTest, ACallerThatWouldWaitPastItsBoundGivesUpAndTheRunGoesOn) {
  SingleFlight flight;
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread leader([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
    const Status s = flight.Do(
        "k",
        [&](Entry* out) {
          started.set_value();
          released.wait();
          out->value = "loaded";
          return Status::OK();
        },
        &entry, &outcome, std::chrono::steady_clock::now());
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(outcome, SingleFlight::Outcome::kRan);  // its own run is not bounded
    EXPECT_EQ(entry.value, "loaded");
  });
  started.get_future().wait();
  std::promise<void> patient_waits;
  std::thread patient([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
    const Status s = flight.Do(
        "k", [](Entry*) { return Status::IOError("the joiner must not run the work"); }, &entry,
        &outcome);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(outcome, SingleFlight::Outcome::kShared);
    EXPECT_EQ(entry.value, "loaded");
  });
  while (flight.Waiting("k") < 1) std::this_thread::yield();

  // The leader's work is held until these callers have given up: one at a
  // deadline ahead, one whose deadline passed before it came.
  for (const SingleFlight::Deadline deadline :
       {std::chrono::steady_clock::now() + std::chrono::milliseconds(5),
        std::chrono::steady_clock::now() - std::chrono::milliseconds(5)}) {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kRan;
    const Status s = flight.Do(
        "k", [](Entry*) { return Status::IOError("the joiner must not run the work"); }, &entry,
        &outcome, deadline);
    EXPECT_TRUE(s.IsTimedOut()) << s.ToString();
    EXPECT_EQ(s.message(), "gave up waiting for another caller's run at the deadline");
    EXPECT_EQ(outcome, SingleFlight::Outcome::kGaveUp);
    EXPECT_EQ(flight.Waiting("k"), 1);  // the patient caller alone
  }

  release.set_value();
  leader.join();
  patient.join();
  EXPECT_EQ(flight.Waiting("k"), 0);
}

// Work that throws (the system refusing memory) ends its run all the same:
// the exception reaches the runner, a caller joined meanwhile gets NoSpace,
// and the key is free to run again.
TEST(SingleFlightTest, WorkThatThrowsEndsItsRun) {
  SingleFlight flight;
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread leader([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
    EXPECT_THROW(static_cast<void>(flight.Do(
                     "k",
                     [&](Entry*) -> Status {
                       started.set_value();
                       released.wait();
                       throw std::bad_alloc();
                     },
                     &entry, &outcome)),
                 std::bad_alloc);
  });
  started.get_future().wait();
  std::thread joiner([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kRan;
    const Status s = flight.Do(
        "k", [](Entry*) { return Status::IOError("the joiner must not run the work"); }, &entry,
        &outcome);
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    EXPECT_EQ(outcome, SingleFlight::Outcome::kShared);
  });
  while (flight.Waiting("k") < 1) std::this_thread::yield();
  release.set_value();
  leader.join();
  joiner.join();
  ExpectALoneRun(flight);
}

// A run started with TryStart is one like Do's: a caller asking for the key
// meanwhile waits for Finish and shares its result, and a second TryStart is
// refused. Once finished, the key is free to run again.
TEST(SingleFlightTest, ARunStartedWithoutWorkIsJoinedUntilFinished) {
  SingleFlight flight;
  ASSERT_TRUE(flight.TryStart("k"));
  EXPECT_FALSE(flight.TryStart("k"));
  EXPECT_TRUE(flight.TryStart("other"));
  std::promise<Status> joined;
  std::thread joiner([&] {
    Entry entry;
    SingleFlight::Outcome outcome = SingleFlight::Outcome::kGaveUp;
    const Status s = flight.Do(
        "k", [](Entry*) { return Status::IOError("the joiner must not run the work"); }, &entry,
        &outcome);
    EXPECT_EQ(outcome, SingleFlight::Outcome::kShared);
    EXPECT_EQ(entry.value, "finished");
    joined.set_value(s);
  });
  while (flight.Waiting("k") == 0) std::this_thread::yield();
  Entry result;
  result.value = "finished";
  flight.Finish("k", Status::OK(), result);
  joiner.join();
  EXPECT_TRUE(joined.get_future().get().ok());
  EXPECT_TRUE(flight.TryStart("k"));
  flight.Finish("k", Status::OK(), result);
  flight.Finish("other", Status::OK(), result);
}

}  // namespace
}  // namespace tiercache::engine
