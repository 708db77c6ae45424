#include "engine/single_flight.h"

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
  const Status status = work(entry);
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
  // Nobody joins once the run is erased below: with no one waiting now, the
  // result is nobody's to copy.
  if (call.waiting > 0) {
    call.status = status;
    call.entry = entry;
  }
  call.done = true;
  calls_.erase(it);
  done_.notify_all();
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
