#include "engine/single_flight.h"

#include <new>
#include <utility>

namespace tiercache::engine {

Status SingleFlight::Do(const std::string& key, const Work& work, Entry* entry,
                        Outcome* outcome, std::optional<Deadline> deadline) {
  std::unique_lock lock(mu_);
  for (auto it = calls_.find(key); it != calls_.end(); it = calls_.find(key)) {
    const std::shared_ptr<Call> call = it->second;
    const bool joined = !call->sealed;  // else: wait for the run to end, then start one
    const auto ended = [&] { return call->done; };
    ++call->waiting;
    bool in_time = true;
    if (deadline) {
      in_time = done_.wait_until(lock, *deadline, ended);
    } else {
      done_.wait(lock, ended);
    }
    --call->waiting;
    if (!in_time) {
      *outcome = Outcome::kGaveUp;
      return Status::TimedOut("gave up waiting for another caller's run at the deadline");
    }
    if (joined) {
      *outcome = Outcome::kShared;
      *entry = call->entry;
      return call->status;
    }
  }
  calls_.emplace(key, std::make_shared<Call>());
  lock.unlock();

  *outcome = Outcome::kRan;
  Status status;
  try {
    status = work(entry);
  } catch (...) {
    // The run ends all the same, or every later caller of the key would wait
    // for it: those waiting get the failure (an allocation refused, mostly).
    Finish(key, Status::OutOfMemory(), Entry());
    throw;
  }
  Finish(key, status, *entry);
  return status;
}

bool SingleFlight::TryStart(const std::string& key) {
  std::lock_guard lock(mu_);
  return calls_.emplace(key, std::make_shared<Call>()).second;
}

void SingleFlight::Finish(const std::string& key, const Status& status, const Entry& entry) {
  std::lock_guard lock(mu_);
  const auto it = calls_.find(key);
  Call& call = *it->second;
  // The run ends whatever the copy below comes to: done and erased first.
  call.done = true;
  const std::shared_ptr<Call> ended = std::move(it->second);
  calls_.erase(it);
  done_.notify_all();
  // Nobody joins once the run is erased: with no one waiting now, the result
  // is nobody's to copy. One the system has no memory for is a failure.
  if (call.waiting > 0) {
    try {
      call.status = status;
      call.entry = entry;
    } catch (const std::bad_alloc&) {
      call.status = Status::OutOfMemory();
    }
  }
}

void SingleFlight::Seal(const std::string& key) {
  std::lock_guard lock(mu_);
  calls_.at(key)->sealed = true;
}

int SingleFlight::Waiting(const std::string& key) {
  std::lock_guard lock(mu_);
  const auto it = calls_.find(key);
  return it == calls_.end() ? 0 : it->second->waiting;
}

StartedRuns::~StartedRuns() {
  for (std::size_t run = 0; run < keys_.size(); ++run) {
    if (!finished_[run]) Finish(run, Status::IOError("the load was abandoned"), Entry());
  }
}

std::size_t StartedRuns::Add(std::string key) {
  keys_.push_back(std::move(key));
  finished_.push_back(false);
  return keys_.size() - 1;
}

void StartedRuns::Finish(std::size_t run, const Status& status, const Entry& entry) {
  finished_[run] = true;
  flight_->Finish(keys_[run], status, entry);
}

}  // namespace tiercache::engine
