#include "engine/refresher.h"

#include <algorithm>
#include <utility>

#include "engine/flight_key.h"

namespace tiercache::engine {

Refresher::Refresher(std::size_t threads, Work work) : work_(std::move(work)) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

Refresher::~Refresher() { Stop(); }

bool Refresher::Request(std::string_view ns, std::string_view key, std::uint64_t version) {
  std::string flight = FlightKey(ns, key);
  {
    std::lock_guard lock(mu_);
    if (stopping_ || pending_.contains(flight)) return false;
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return false;
    }
    pending_.insert(std::move(flight));
    queue_.push_back({Job{std::string(ns), std::string(key), version}, next_seq_++});
  }
  queued_.notify_one();
  return true;
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
    for (const Queued& queued : queue_) pending_.erase(FlightKey(queued.job.ns, queued.job.key));
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
    work_(next.job);
    lock.lock();
    running_.erase(next.seq);
    pending_.erase(FlightKey(next.job.ns, next.job.key));
    finished_.notify_all();
  }
}

}  // namespace tiercache::engine
