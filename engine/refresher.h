#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

namespace tiercache::engine {

// Refreshes in the background (Options::refresh_after_write): a Get that finds
// an entry due for a refresh asks for one and returns the entry it found; a
// few threads run the refreshes in the order asked. A key is asked for at most
// once until its refresh has run, so however many Gets find it due, it is
// refreshed once. Bounded: past kMaxQueued waiting refreshes, more are turned
// away (the next Get that finds the entry due asks again).
//
// Thread-safety: thread-safe. mu_ guards everything below it; the work runs
// with no lock held.
class Refresher {
 public:
  static constexpr std::size_t kMaxQueued = 10'000;

  // One refresh: the key, and the version the Get found.
  struct Job {
    std::string ns;
    std::string key;
    std::uint64_t version = 0;
  };
  using Work = std::function<void(const Job& job)>;

  // Starts `threads` threads, which run `work` for each job.
  Refresher(std::size_t threads, Work work);
  // Stop().
  ~Refresher();
  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // Queues a refresh of the key. False, with nothing queued, when the key's
  // refresh is queued or running already, when kMaxQueued are waiting
  // (counted in dropped()), or once Stop has begun.
  bool Request(std::string_view ns, std::string_view key, std::uint64_t version);

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

  void Run();
  // The lowest sequence number not yet run; REQUIRES: mu_ held.
  std::uint64_t FirstUnfinished() const;

  const Work work_;
  mutable std::mutex mu_;
  std::condition_variable queued_;    // a job was queued, or Stop began
  std::condition_variable finished_;  // a job ended
  std::deque<Queued> queue_;
  std::unordered_set<std::string> pending_;  // queued or running, by FlightKey
  std::set<std::uint64_t> running_;          // sequence numbers
  std::uint64_t next_seq_ = 1;
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is set up
};

}  // namespace tiercache::engine
