#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tiercache/entry.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// Runs a piece of work once per key at a time: callers that ask for a key
// whose work is already running wait for it and share its result. Read-
// through uses it so that the loader runs once however many callers miss.
//
// Thread-safety: thread-safe. mu_ guards calls_; the work runs with no lock
// held.
class SingleFlight {
 public:
  using Work = std::function<Status(Entry* entry)>;
  using Deadline = std::chrono::steady_clock::time_point;

  // How a caller of Do came by its result.
  enum class Outcome {
    kRan,     // it ran `work` itself
    kShared,  // it waited for another caller's run and shares its result
    kGaveUp,  // it waited longer than it would: TimedOut
  };

  // The result of `work`, run now or by the caller already running it for
  // `key`. A run that was sealed is not joined: the caller waits for its end
  // and then runs `work` itself (or joins a run begun meanwhile). A caller
  // still waiting for other callers' runs at `deadline` (when given) gives up
  // with TimedOut, and the run goes on without it. Its own run is not bounded.
  Status Do(const std::string& key, const Work& work, Entry* entry, Outcome* outcome,
            std::optional<Deadline> deadline = std::nullopt);

  // For a caller that runs the work of many keys at once: starts a run of
  // `key` unless one is running, without waiting. True: the caller now runs
  // it, and must Finish it (Seal applies as for Do). False: another caller
  // runs it; Do waits for it.
  bool TryStart(const std::string& key);
  // Ends the caller's run of `key` with its result, which the callers waiting
  // for it share. REQUIRES: TryStart(key) returned true, and no Finish since.
  void Finish(const std::string& key, const Status& status, const Entry& entry);

  // Callers that ask for `key` from now on do not share this run's result:
  // they wait for it to end and then start a run of their own. The work calls
  // it as its result is settled: a caller arriving later may have seen a newer
  // state since, which the result must not undo; and by the time its own run
  // starts, what this one stored is there to be found. REQUIRES: called by the
  // work running for `key`, at most once.
  void Seal(const std::string& key);

  // How many callers wait now for the run of `key` (0 if none runs): lets a
  // test hold a run until its joiners are all waiting.
  int Waiting(const std::string& key);

 private:
  struct Call {
    bool done = false;
    bool sealed = false;
    int waiting = 0;
    Status status;
    Entry entry;
  };

  std::mutex mu_;
  std::condition_variable done_;
  std::unordered_map<std::string, std::shared_ptr<Call>> calls_;  // GUARDED_BY(mu_)
};

// The runs one caller started with TryStart, numbered in the order added.
// Those not finished when it is destroyed (an exception on the way) end with
// IOError: no caller waits for them forever.
//
// Thread-safety: not thread-safe; one caller's.
class StartedRuns {
 public:
  explicit StartedRuns(SingleFlight* flight) : flight_(flight) {}
  ~StartedRuns();
  StartedRuns(const StartedRuns&) = delete;
  StartedRuns& operator=(const StartedRuns&) = delete;

  // REQUIRES: TryStart(key) returned true to this caller. The run's number.
  std::size_t Add(std::string key);
  const std::string& key(std::size_t run) const { return keys_[run]; }
  void Finish(std::size_t run, const Status& status, const Entry& entry);

 private:
  SingleFlight* const flight_;
  std::vector<std::string> keys_;
  std::vector<bool> finished_;
};

}  // namespace tiercache::engine
