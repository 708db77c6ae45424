#include "engine/refresher.h"

#include <algorithm>
#include <utility>

namespace tiercache::engine {

Refresher::Refresher(std::size_t threads, std::chrono::milliseconds max_backoff,
                     std::shared_ptr<Clock> clock, Work work)
    : max_backoff_(std::max(max_backoff, kFirstRetry)),
      clock_(std::move(clock)),
      work_(std::move(work)) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

Refresher::~Refresher() { Stop(); }

bool Refresher::Request(std::uint64_t hash, std::string_view ns, std::string_view key,
                        std::uint64_t version) {
  std::atomic<std::uint64_t>& hint = HintOf(hash);
  // Relaxed: a hint read stale only sends the Get on to the lock, or keeps it
  // from asking for a refresh that has just run (the next Get asks).
  if (hint.load(std::memory_order_relaxed) == Mark(hash)) return false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || pending_.contains(hash) || BackingOff(hash)) return false;
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return false;
    }
    pending_.insert(hash);
    hint.store(Mark(hash), std::memory_order_relaxed);
    queue_.push_back({Job{hash, std::string(ns), std::string(key), version}, next_seq_++});
  }
  queued_.notify_one();
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

// The failures in a row stay counted past the backoff's end, until a refresh
// of the key does not fail. Full, the table first lets go of the keys whose
// backoffs have ended.
void Refresher::Failed(std::uint64_t hash) {
  const TimePoint now = clock_->Now();
  auto it = backoffs_.find(hash);
  if (it == backoffs_.end()) {
    if (backoffs_.size() >= kMaxBackoffs) {
      std::erase_if(backoffs_, [&](const auto& entry) { return entry.second.until <= now; });
    }
    if (backoffs_.size() >= kMaxBackoffs) return;
    it = backoffs_.emplace(hash, Backoff{}).first;
  }
  Backoff& backoff = it->second;
  // 2^25 seconds is past the 365 days max_backoff may be: counting stops there.
  backoff.failures = std::min(backoff.failures + 1, 26);
  backoff.until = now + std::min(max_backoff_, kFirstRetry * (1 << (backoff.failures - 1)));
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
  if (!running_.empty()) first = std::min(first, *running_.begin());
  return first;
}

void Refresher::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and the queue was dropped
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    running_.insert(next.seq);
    lock.unlock();
    const bool done = work_(next.job);
    lock.lock();
    running_.erase(next.seq);
    if (done) {
      backoffs_.erase(next.job.hash);
    } else {
      Failed(next.job.hash);
    }
    Forget(next.job.hash);
    finished_.notify_all();
  }
}

}  // namespace tiercache::engine
