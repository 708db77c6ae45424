#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tiercache/clock.h"

namespace tiercache::engine {

// Refreshes in the background (Options::refresh_after_write): a Get that finds
// an entry due for a refresh asks for one and returns the entry it found; a
// few threads run the refreshes in the order asked. A key is asked for at most
// once until its refresh has run, so however many Gets find it due, it is
// refreshed once. Bounded: past kMaxQueued waiting refreshes, more are turned
// away (the next Get that finds the entry due asks again).
//
// A key whose refresh failed is turned away for a while, so that a failing
// loader is not called again at once by every Get that finds the key due:
// kFirstRetry after one failure, twice as long after each further failure in
// a row, at most max_backoff. A refresh that does not fail ends the run of
// failures, and so does a failure that comes a whole backoff after the last
// one ended. Up to kMaxBackoffs keys are remembered; past that, or with no
// memory to remember one more, a failed key is not held back.
//
// Keys are known by their HashKey: two keys whose 64-bit hashes are equal
// would share a refresh's turn and a backoff, the second asked for again once
// the first's refresh has run. Every Get of a due entry asks until its
// refresh has run, or while its backoff lasts, so the answer for a key
// already asked for, or backing off, comes from hints_ without a lock, most
// of the time.
//
// Thread-safety: thread-safe. mu_ guards the members below it; the work runs
// with no lock held. hints_ and hint_ends_ are written under mu_ and read
// without it.
class Refresher {
 public:
  static constexpr std::size_t kMaxQueued = 10'000;
  // Slots of hints_ (and of hint_ends_): 64 KiB each. With 1,000 keys
  // awaiting their refreshes, a Get of one of them ran at 0.70x an L1 hit not
  // due with 1,024 slots, 0.88x with these (bench store).
  static constexpr std::size_t kHints = 8192;
  static_assert(kHints > 1, "Mark(0) and Mark(1) must fall in different slots");
  static constexpr std::size_t kMaxBackoffs = 10'000;
  static constexpr std::chrono::milliseconds kFirstRetry{1000};

  // One refresh: the key, and the version the Get found.
  struct Job {
    std::uint64_t hash = 0;  // HashKey of the key and its namespace's id
    std::string ns;
    std::string key;
    std::uint64_t version = 0;
  };
  // What running one refresh came to.
  enum class Outcome {
    kRefreshed,  // done: ends the key's run of failures
    kFailed,     // starts or lengthens the key's backoff
    kNotRun,     // nothing done (a load of the key was running): leaves it as it was
  };
  using Work = std::function<Outcome(const Job& job)>;

  // Starts `threads` threads, which run `work` for each job. `clock` times the
  // backoff after a failure, at most `max_backoff`. An exception from `work`
  // counts as kFailed. Throws what starting a thread threw (std::system_error,
  // std::bad_alloc), once the threads already started have ended.
  Refresher(std::size_t threads, std::chrono::milliseconds max_backoff,
            std::shared_ptr<Clock> clock, Work work);
  // Stop().
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // Queues a refresh of the key, whose HashKey is `hash`. False, with nothing
  // queued, when a refresh of that hash is queued or running already (or has
  // just ended, read from a stale hint), when its last refresh failed and its
  // backoff has not passed, when kMaxQueued are waiting or there is no memory
  // to queue it (both counted in dropped()), or once Stop has begun.
  bool Request(std::uint64_t hash, std::string_view ns, std::string_view key,
               std::uint64_t version);

  // Waits until every refresh queued before the call has run, or until
  // `deadline`: true when they have, false at the deadline.
  bool WaitFor(std::chrono::steady_clock::time_point deadline);

  // Drops the refreshes still queued, waits for those running, and ends the
  // threads. Idempotent.
  void Stop();

  std::uint64_t dropped() const;
  // Refreshes queued and not yet begun.
  std::size_t queued() const;

 private:
  struct Queued {
    Job job;
    std::uint64_t seq = 0;
  };

  // The loop of the thread that runs in running_[slot].
  void Run(std::size_t slot);
  // REQUIRES: mu_ held. Queues a job for the key and marks it pending; false,
  // with neither done, when there is no memory for it.
  bool Enqueue(std::uint64_t hash, std::string_view ns, std::string_view key,
               std::uint64_t version) noexcept;
  Outcome Attempt(const Job& job) noexcept;
  // The lowest sequence number not yet run; REQUIRES: mu_ held.
  std::uint64_t FirstUnfinished() const;
  // A hint's value for `hash`: never 0, which marks an empty hint.
  static std::uint64_t Mark(std::uint64_t hash) { return hash == 0 ? 1 : hash; }
  std::atomic<std::uint64_t>& HintOf(std::uint64_t hash) { return hints_[hash % kHints]; }
  // REQUIRES: mu_ held. The key's refresh has run, or will not.
  void Forget(std::uint64_t hash);
  std::atomic<std::int64_t>& HintEndOf(std::uint64_t hash) { return hint_ends_[hash % kHints]; }
  // REQUIRES: mu_ held. Whether the key's backoff holds a refresh back now.
  bool BackingOff(std::uint64_t hash) const;
  // REQUIRES: mu_ held. Starts or lengthens the key's backoff; its end, or
  // nothing when there is no room or no memory to remember it.
  std::optional<TimePoint> Failed(std::uint64_t hash);
  // The backoff after `failures` failures in a row.
  std::chrono::milliseconds BackoffAfter(int failures) const;

  // A key whose refreshes failed, the last ones in a row.
  struct Backoff {
    TimePoint until;
    int failures = 0;
  };

  const std::chrono::milliseconds max_backoff_;
  const std::shared_ptr<Clock> clock_;
  const Work work_;
  // Per slot, the Mark of one key queued, running or backing off whose hash
  // falls there, or 0; and for a key backing off, when the backoff ends (ms
  // since the epoch), else 0. A Get that finds its own Mark needs no lock to
  // learn its answer.
  std::array<std::atomic<std::uint64_t>, kHints> hints_{};
  std::array<std::atomic<std::int64_t>, kHints> hint_ends_{};
  mutable std::mutex mu_;
  std::condition_variable queued_;    // a job was queued, or Stop began
  std::condition_variable finished_;  // a job ended
  std::deque<Queued> queue_;
  std::unordered_set<std::uint64_t> pending_;  // queued or running, by hash
  // Per thread, the sequence number of the job it runs, or kIdle: sized
  // once, so that running a job allocates nothing.
  static constexpr std::uint64_t kIdle = 0;  // sequence numbers start at 1
  std::vector<std::uint64_t> running_;
  std::unordered_map<std::uint64_t, Backoff> backoffs_;  // by hash
  TimePoint next_sweep_{};  // no backoff in backoffs_ ends before this
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is set up
};

}  // namespace tiercache::engine
