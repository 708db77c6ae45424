#include "engine/write_behind.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <random>
#include <utility>

#include "storage/guarded.h"

namespace tiercache::engine {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{10};
constexpr milliseconds kMaxBackoff{5000};
// With nothing buffered the flusher sleeps until an Add wakes it.
constexpr milliseconds kIdleWait = std::chrono::hours(1);

}  // namespace

// Exponential, with jitter: spread retries so that many caches failing
// together do not retry in step.
milliseconds RetryBackoff(std::uint64_t attempt) {
  const std::uint64_t shift = std::min<std::uint64_t>(attempt - 1, 16);
  const milliseconds base =
      std::min(kMaxBackoff, milliseconds(kFirstBackoff.count() << shift));
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return milliseconds(static_cast<milliseconds::rep>(base.count() * jitter(random)));
}

WriteBehind::WriteBehind(const WriteBufferOptions& options, std::shared_ptr<Clock> clock,
                         BatchWriter writer, FlushFailedCallback failed)
    : options_(options),
      clock_(std::move(clock)),
      writer_(std::move(writer)),
      failed_(std::move(failed)),
      pending_(options.max_bytes),
      in_flight_(options.max_bytes),
      thread_([this] { Run(); }) {}

WriteBehind::~WriteBehind() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    stop_ = true;
  }
  work_.notify_all();
  progress_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WriteBehind::HasRoom(const BufferedWrite& write) const {
  if (pending_.writes.empty()) return true;
  bool new_key = false;
  const std::size_t charge = pending_.writes.ChargeOf(write, &new_key);
  return pending_.writes.keys() + (new_key ? 1 : 0) <= options_.max_entries &&
         pending_.writes.bytes() + charge <= options_.max_bytes;
}

Status WriteBehind::Add(const BufferedWrite& write, TimePoint* now) {
  std::unique_lock lock(mu_);
  bool waited = false;
  const auto give_up = std::chrono::steady_clock::now() + options_.max_wait;
  while (!closed_ && !HasRoom(write)) {
    waited = true;
    ++stats_.waiting;
    // The buffer may hold less than its limits and still have no room for this
    // write: only a flush makes it, and it is due now (FlushDue).
    room_wanted_ = true;
    work_.notify_one();
    const std::cv_status woke = progress_.wait_until(lock, give_up);
    --stats_.waiting;
    if (woke == std::cv_status::timeout && !HasRoom(write)) {
      ++stats_.refused;
      return Status::Busy(fmt::format(
          "the write-behind buffer is full ({} writes, {} bytes) and no flush made room "
          "within write_buffer.max_wait ({})",
          pending_.writes.keys(), pending_.writes.bytes(), options_.max_wait));
    }
  }
  if (closed_) return Status::InvalidArgument("the cache is closed");

  if (waited) *now = clock_->Now();
  if (pending_.writes.empty()) pending_.oldest = *now;
  pending_.writes.Add(write);
  pending_.last_seq = ++added_seq_;
  if (pending_.writes.keys() == 1 || FlushDue(*now)) work_.notify_one();
  return Status::OK();
}

WriteBehind::Found WriteBehind::Find(std::uint32_t ns, std::string_view key,
                                     std::string* record) const {
  std::lock_guard lock(mu_);
  BufferedWrite write;
  if (!pending_.writes.Find(ns, key, &write) && !in_flight_.writes.Find(ns, key, &write)) {
    return Found::kNo;
  }
  if (write.is_delete) return Found::kDelete;
  record->assign(write.record);
  return Found::kPut;
}

bool WriteBehind::FlushDue(TimePoint now) const {
  if (pending_.writes.empty()) return false;
  return closed_ || flush_requests_ > 0 || room_wanted_ ||
         pending_.writes.keys() >= options_.max_entries ||
         pending_.writes.bytes() >= options_.max_bytes ||
         now - pending_.oldest >= options_.flush_interval;
}

milliseconds WriteBehind::UntilDue(TimePoint now) const {
  if (pending_.writes.empty()) return kIdleWait;
  return std::max(milliseconds(1), options_.flush_interval - (now - pending_.oldest));
}

void WriteBehind::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    if (in_flight_.writes.empty()) {
      while (!stop_ && !FlushDue(clock_->Now())) {
        work_.wait_for(lock, UntilDue(clock_->Now()));
      }
      if (stop_) return;
      std::swap(in_flight_, pending_);
      room_wanted_ = false;
      attempt_ = 0;
      progress_.notify_all();
    }
    WriteInFlight(lock);
    if (stop_) return;
  }
}

void WriteBehind::WriteInFlight(std::unique_lock<std::mutex>& lock) {
  const std::size_t unwritten = in_flight_.writes.unwritten();
  std::size_t written = 0;
  const Status s = HandOver(lock, &written);

  // The store holds the whole batch (a writer may say so with its error too).
  if (written == unwritten) {
    flushed_seq_ = in_flight_.last_seq;
    ++stats_.flushes;
    in_flight_.Clear();
    progress_.notify_all();
    return;
  }
  // What the store took is not written again: near a full disk, a batch
  // written in parts gets further with each attempt.
  for (std::size_t i = 0; i < written; ++i) {
    in_flight_.writes.MarkWritten(batch_[i].ns, batch_[i].key);
  }
  const std::uint64_t attempt = ++attempt_;
  ++stats_.failures;
  last_failure_ = storage::OrOutOfMemory([&] { return s; });  // a copy of its message
  lock.unlock();
  // The flusher outlives a callback that throws (it must not): the writes
  // stay buffered and are tried again all the same.
  try {
    failed_(s, unwritten - written, attempt);
  } catch (...) {
  }
  lock.lock();
  work_.wait_for(lock, RetryBackoff(attempt), [this] { return stop_; });
}

// Hands the writes of in_flight_ not yet written to the writer, with mu_
// released while it runs. An exception on the way, such as the system
// refusing memory for the batch, fails the attempt as a store error would:
// what the writer had not taken stays buffered and is tried again.
Status WriteBehind::HandOver(std::unique_lock<std::mutex>& lock, std::size_t* written) {
  try {
    batch_.clear();
    in_flight_.writes.Unwritten(&batch_);
    lock.unlock();
    Status s = writer_(&batch_, written);
    *written = s.ok() ? batch_.size() : std::min(*written, batch_.size());
    lock.lock();
    return s;
  } catch (const std::bad_alloc&) {
    if (!lock.owns_lock()) lock.lock();
    return Status::OutOfMemory();
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
    return storage::OrOutOfMemory(
        [] { return Status::IOError("the write-behind flush threw an exception"); });
  }
}

Status WriteBehind::Flush(milliseconds deadline) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = added_seq_;
  if (flushed_seq_ >= target) return Status::OK();
  ++flush_requests_;
  work_.notify_one();
  const bool done =
      progress_.wait_for(lock, deadline, [&] { return flushed_seq_ >= target || stop_; }) &&
      flushed_seq_ >= target;
  --flush_requests_;
  return done ? Status::OK() : Unfinished("flush", deadline);
}

Status WriteBehind::Unfinished(std::string_view what, milliseconds deadline) const {
  return Status::TimedOut(fmt::format(
      "write-behind {} did not finish within {}: {} writes still buffered{}", what, deadline,
      pending_.writes.unwritten() + in_flight_.writes.unwritten(),
      last_failure_.ok() ? "" : "; the last batch failed with " + last_failure_.ToString()));
}

Status WriteBehind::Close(milliseconds deadline, std::vector<BufferedWrite>* unwritten) {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  work_.notify_all();
  progress_.notify_all();
  const Status s = Flush(deadline);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The batch in flight at the deadline may have been written since: what is
  // left is counted now, not when Flush gave up.
  if (s.ok() || in_flight_.writes.unwritten() + pending_.writes.unwritten() == 0) {
    return Status::OK();
  }
  if (unwritten != nullptr) {
    in_flight_.writes.Unwritten(unwritten);
    pending_.writes.Unwritten(unwritten);
  }
  return Unfinished("close", deadline);
}

WriteBehind::Stats WriteBehind::GetStats() const {
  std::lock_guard lock(mu_);
  Stats stats = stats_;
  stats.entries = pending_.writes.unwritten() + in_flight_.writes.unwritten();
  stats.bytes = pending_.writes.bytes() + in_flight_.writes.bytes();
  if (stats.entries > 0) {
    const TimePoint oldest = in_flight_.writes.empty() ? pending_.oldest : in_flight_.oldest;
    stats.oldest_age = clock_->Now() - oldest;
  }
  return stats;
}

}  // namespace tiercache::engine
