#include "engine/refresher.h"

#include <algorithm>
#include <new>
#include <utility>

namespace tiercache::engine {

Refresher::Refresher(std::size_t threads, std::chrono::milliseconds max_backoff,
                     std::shared_ptr<Clock> clock, Work work)
    : max_backoff_(max_backoff),
      clock_(std::move(clock)),
      work_(std::move(work)) {
  running_.assign(threads, kIdle);
  threads_.reserve(threads);
  try {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { Run(i); });
  } catch (...) {
    Stop();  // a thread the system would not start: those started end first
    throw;
  }
}

Refresher::~Refresher() { Stop(); }

bool Refresher::Request(std::uint64_t hash, std::string_view ns, std::string_view key,
                        std::uint64_t version) {
  std::atomic<std::uint64_t>& hint = HintOf(hash);
  // Relaxed: a hint read stale only sends the Get on to the lock, or keeps it
  // from asking for a refresh that has just run or a backoff that has just
  // ended (the next Get asks).
  if (hint.load(std::memory_order_relaxed) == Mark(hash)) {
    const std::int64_t end = HintEndOf(hash).load(std::memory_order_relaxed);
    if (end == 0 || clock_->Now().time_since_epoch().count() < end) return false;
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_ || pending_.contains(hash) || BackingOff(hash)) return false;
    if (queue_.size() >= kMaxQueued || !Enqueue(hash, ns, key, version)) {
      ++dropped_;
      return false;
    }
    HintEndOf(hash).store(0, std::memory_order_relaxed);
    hint.store(Mark(hash), std::memory_order_relaxed);
  }
  queued_.notify_one();
  return true;
}

bool Refresher::Enqueue(std::uint64_t hash, std::string_view ns, std::string_view key,
                        std::uint64_t version) noexcept {
  try {
    queue_.push_back({Job{hash, std::string(ns), std::string(key), version}, next_seq_});
  } catch (const std::bad_alloc&) {
    return false;
  }
  try {
    pending_.insert(hash);
  } catch (const std::bad_alloc&) {
    queue_.pop_back();
    return false;
  }
  ++next_seq_;
  return true;
}

void Refresher::Forget(std::uint64_t hash) {
  pending_.erase(hash);
  std::atomic<std::uint64_t>& hint = HintOf(hash);
  if (hint.load(std::memory_order_relaxed) == Mark(hash)) hint.store(0, std::memory_order_relaxed);
}

bool Refresher::BackingOff(std::uint64_t hash) const {
  const auto it = backoffs_.find(hash);
  return it != backoffs_.end() && clock_->Now() < it->second.until;
}

// A failure a whole backoff after the last one ended begins a new run: the
// key was not failing all along. Full, the table first lets go of the keys
// whose backoffs have ended, once one may have.
std::optional<TimePoint> Refresher::Failed(std::uint64_t hash) {
  const TimePoint now = clock_->Now();
  auto it = backoffs_.find(hash);
  if (it == backoffs_.end()) {
    if (backoffs_.size() >= kMaxBackoffs && now >= next_sweep_) {
      std::erase_if(backoffs_, [&](const auto& entry) { return entry.second.until <= now; });
      next_sweep_ = TimePoint::max();
      for (const auto& [key, backoff] : backoffs_) {
        next_sweep_ = std::min(next_sweep_, backoff.until);
      }
    }
    if (backoffs_.size() >= kMaxBackoffs) return std::nullopt;
    try {
      it = backoffs_.emplace(hash, Backoff{}).first;
    } catch (const std::bad_alloc&) {
      return std::nullopt;  // no memory to remember it: as no room
    }
  }
  Backoff& backoff = it->second;
  if (backoff.failures > 0 && now - backoff.until >= BackoffAfter(backoff.failures)) {
    backoff.failures = 0;
  }
  // 2^25 seconds is past the 365 days max_backoff may be: counting stops there.
  backoff.failures = std::min(backoff.failures + 1, 26);
  backoff.until = now + BackoffAfter(backoff.failures);
  next_sweep_ = std::min(next_sweep_, backoff.until);
  return backoff.until;
}

std::chrono::milliseconds Refresher::BackoffAfter(int failures) const {
  return std::min(max_backoff_, kFirstRetry * (1 << (failures - 1)));
}

bool Refresher::WaitFor(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  const std::uint64_t last = next_seq_ - 1;
  return finished_.wait_until(lock, deadline, [&] { return FirstUnfinished() > last; });
}

void Refresher::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (const Queued& queued : queue_) Forget(queued.job.hash);
    queue_.clear();
  }
  queued_.notify_all();
  finished_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

std::uint64_t Refresher::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::size_t Refresher::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::uint64_t Refresher::FirstUnfinished() const {
  std::uint64_t first = next_seq_;
  if (!queue_.empty()) first = queue_.front().seq;
  for (const std::uint64_t seq : running_) {
    if (seq != kIdle) first = std::min(first, seq);
  }
  return first;
}

// An exception from the work (an allocation the system refused: the loader's
// own are its status) fails the refresh, which backs off, rather than ending
// the thread and with it the process.
Refresher::Outcome Refresher::Attempt(const Job& job) noexcept {
  try {
    return work_(job);
  } catch (...) {
    return Outcome::kFailed;
  }
}

void Refresher::Run(std::size_t slot) {
  std::unique_lock lock(mu_);
  while (true) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and the queue was dropped
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    running_[slot] = next.seq;
    lock.unlock();
    const Outcome outcome = Attempt(next.job);
    lock.lock();
    running_[slot] = kIdle;
    const std::uint64_t hash = next.job.hash;
    if (outcome == Outcome::kRefreshed) backoffs_.erase(hash);
    const std::optional<TimePoint> end =
        outcome == Outcome::kFailed ? Failed(hash) : std::nullopt;
    if (end && HintOf(hash).load(std::memory_order_relaxed) == Mark(hash)) {
      // The hint stays, and answers Gets until the backoff ends.
      pending_.erase(hash);
      HintEndOf(hash).store(end->time_since_epoch().count(), std::memory_order_relaxed);
    } else {
      Forget(hash);
    }
    finished_.notify_all();
  }
}

}  // namespace tiercache::engine
