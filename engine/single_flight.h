#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

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

  // The result of `work`, run now or by the caller already running it for
  // `key`; *shared is set when this caller waited for another's run. A run
  // that was sealed is not joined: the caller waits for its end and then runs
  // `work` itself (or joins a run begun meanwhile).
  Status Do(const std::string& key, const Work& work, Entry* entry, bool* shared);

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

}  // namespace tiercache::engine
