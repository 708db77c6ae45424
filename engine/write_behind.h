#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/write_set.h"
#include "tiercache/clock.h"
#include "tiercache/options.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// What the flusher hands to RocksDB: the writes of one batch, in an order the
// writer may change. Returns the store's status and sets *written to how many
// of the batch's first writes, in the order it leaves them, the store holds
// (on success, all). After a failure those leave the buffer; the rest stay,
// readable, and are handed over again. An exception from the writer is a
// failure too, with *written as the writer left it.
using BatchWriter =
    std::function<Status(std::vector<BufferedWrite>* batch, std::size_t* written)>;
// Told of a failed attempt: RocksDB refused the batch, or the writer threw
// (the attempt number counts from 1). Must not throw; an exception from it is
// dropped.
using FlushFailedCallback =
    std::function<void(const Status& status, std::size_t entries, std::uint64_t attempt)>;

// How long the flusher waits, in real time, after failed attempt `attempt`
// (from 1) of a batch: 10 ms, doubled at each attempt up to 5 s, times a
// random factor in [0.5, 1.5).
std::chrono::milliseconds RetryBackoff(std::uint64_t attempt);

// Write-behind's buffer and its flusher thread. Writes coalesce per key (the
// last one wins, deletions included); a background thread writes everything
// buffered as one batch when the buffer reaches its entry or byte limit, when
// the oldest write is flush_interval old, when Flush asks, or when a writer
// waits for room (a write the bytes left cannot hold). While one batch
// is being written the next fills, so memory is bounded by twice the limits;
// the two sets trade places at each flush and keep their capacity.
// A failing batch is retried with exponential backoff and jitter; its writes
// stay readable meanwhile.
//
// Thread-safety: thread-safe. mu_ guards all mutable state but the thread and
// batch_; only the flusher thread changes in_flight_, and it reads the batch's
// views into it without mu_ while the writer callback runs. The callbacks run
// on the flusher thread with no lock held.
class WriteBehind {
 public:
  WriteBehind(const WriteBufferOptions& options, std::shared_ptr<Clock> clock,
              BatchWriter writer, FlushFailedCallback failed);
  // Stops the flusher without draining: Close() first to keep the writes.
  ~WriteBehind();
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;

  // Buffers a copy of the write, waiting up to max_wait for room; Busy after
  // that, and InvalidArgument once closed. *now: the writer's reading of the
  // clock, the write's time in the buffer; read again if the write waited.
  [[nodiscard]] Status Add(const BufferedWrite& write, TimePoint* now);

  enum class Found { kNo, kPut, kDelete };
  // The latest buffered write of the key; *record filled for a put.
  Found Find(std::uint32_t ns, std::string_view key, std::string* record) const;

  // Returns once every write added before the call is flushed; TimedOut at
  // the deadline (real time).
  [[nodiscard]] Status Flush(std::chrono::milliseconds deadline);

  // Refuses further writes, flushes within the deadline and stops the
  // flusher. The writes still unwritten go to *unwritten; their views stay
  // valid until the WriteBehind is destroyed.
  [[nodiscard]] Status Close(std::chrono::milliseconds deadline,
                             std::vector<BufferedWrite>* unwritten);

  struct Stats {
    std::uint64_t entries = 0;  // writes not yet written
    // What the buffer holds: the writes' keys and records with their
    // bookkeeping, a batch's writes already written until the batch ends, and
    // the room a record leaves behind when a larger one of its key replaces it.
    std::uint64_t bytes = 0;
    std::uint64_t flushes = 0;
    std::uint64_t failures = 0;
    std::uint64_t refused = 0;
    std::uint64_t waiting = 0;  // writers waiting for room now
    std::chrono::milliseconds oldest_age{0};
  };
  Stats GetStats() const;

 private:
  void Run();
  bool FlushDue(TimePoint now) const;                      // REQUIRES: mu_ held
  std::chrono::milliseconds UntilDue(TimePoint now) const;  // REQUIRES: mu_ held
  bool HasRoom(const BufferedWrite& write) const;           // REQUIRES: mu_ held
  // TimedOut: `what` did not finish within the deadline, the writes left
  // unwritten, and the last batch's failure if any. REQUIRES: mu_ held, or
  // the flusher stopped.
  Status Unfinished(std::string_view what, std::chrono::milliseconds deadline) const;
  void WriteInFlight(std::unique_lock<std::mutex>& lock);
  Status HandOver(std::unique_lock<std::mutex>& lock, std::size_t* written);

  const WriteBufferOptions options_;
  const std::shared_ptr<Clock> clock_;
  const BatchWriter writer_;
  const FlushFailedCallback failed_;

  mutable std::mutex mu_;
  std::condition_variable work_;     // to the flusher: something to do
  std::condition_variable progress_;  // to writers and Flush: a batch finished
  // A set of writes, and what the flusher needs to know of it.
  struct Generation {
    explicit Generation(std::size_t max_bytes) : writes(max_bytes) {}
    void Clear() {
      writes.Clear();
      oldest = {};
      last_seq = 0;
    }
    WriteSet writes;
    TimePoint oldest{};          // when its first write came
    std::uint64_t last_seq = 0;  // its newest write's sequence number
  };
  // Swapped when a flush starts: the set just written fills next, with the
  // capacity it had.
  Generation pending_;                // GUARDED_BY(mu_): filling
  Generation in_flight_;              // GUARDED_BY(mu_): being written
  std::uint64_t added_seq_ = 0;       // GUARDED_BY(mu_)
  std::uint64_t flushed_seq_ = 0;     // GUARDED_BY(mu_)
  std::uint64_t flush_requests_ = 0;  // GUARDED_BY(mu_): Flush calls waiting
  // GUARDED_BY(mu_): a writer found no room in pending_ since it last became
  // the batch; kept past the writer's wait, which may end (max_wait 0) before
  // the flusher looks.
  bool room_wanted_ = false;
  std::uint64_t attempt_ = 0;         // GUARDED_BY(mu_): failures of in_flight_
  Status last_failure_;               // GUARDED_BY(mu_)
  bool closed_ = false;               // GUARDED_BY(mu_): no more writes
  bool stop_ = false;                 // GUARDED_BY(mu_): the flusher ends
  Stats stats_;                       // GUARDED_BY(mu_): counters only
  std::vector<BufferedWrite> batch_;  // the flusher thread's alone
  std::thread thread_;
};

}  // namespace tiercache::engine
