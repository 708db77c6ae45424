#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "tiercache/clock.h"
#include "tiercache/status.h"

namespace tiercache::storage {

// Reports the bytes an unprivileged writer may still use on the file system
// that holds `path`. Called from any thread, one call at a time.
using FreeSpaceProbe = std::function<Status(const std::string& path, std::uint64_t* free_bytes)>;

// The real probe: statvfs(2), f_bavail * f_frsize. IOError naming the path
// when statvfs fails.
Status StatvfsFreeSpace(const std::string& path, std::uint64_t* free_bytes);

// Refuses writes before the store's file system falls below a reserve of
// free bytes, because Debian's RocksDB aborts the process (SIGABRT) on a WAL
// write that meets a full disk.
//
// Cost: probing the file system on every write would double the cost of a
// small write, so a probe's reading is reused. After a probe the guard grants
// a budget of half the headroom (free minus reserve) and charges each write
// kSpaceAmplification times its bytes; it probes again when the budget is
// spent, when recheck_interval has passed (other processes and RocksDB's own
// compactions use space too), and before every write while below the reserve
// (so writes resume as soon as space returns). Between probes a write costs a
// clock read and an atomic compare-and-swap.
//
// Thread-safety: thread-safe. Admit may be called from many threads at once.
class FreeSpaceGuard {
 public:
  // A written byte takes about one byte in the WAL and, after the memtable
  // flush, one more in an SST file; the WAL is freed only later.
  static constexpr std::uint64_t kSpaceAmplification = 2;

  struct Options {
    std::string path;                                  // the store's directory, named in errors
    std::uint64_t reserve = 0;                         // bytes to keep free; 0 disables the guard
    std::chrono::milliseconds recheck_interval{1000};  // the longest a reading is trusted
    FreeSpaceProbe probe;                              // empty: StatvfsFreeSpace
    std::shared_ptr<Clock> clock;                      // nullptr: the system clock
    // Bytes to keep free besides `reserve`, read at each probe because they
    // change as the store grows (room for RocksDB's compactions). Empty: none.
    std::function<std::uint64_t()> extra_reserve;
  };

  explicit FreeSpaceGuard(Options options);

  // OK when a write of about `bytes` bytes keeps the file system above the
  // reserve; otherwise NoSpace naming the path, the free bytes and the
  // reserve. IOError when the probe fails.
  [[nodiscard]] Status Admit(std::uint64_t bytes);

  // For work that takes its room at once rather than write by write, such as
  // a compaction: OK when the file system has `bytes` free above the reserve,
  // read by a probe now. The extra reserve is not added: it is the room kept
  // free for this very work. NoSpace naming `what`, the free bytes, `bytes`
  // and the reserve otherwise; IOError when the probe fails.
  [[nodiscard]] Status RequireRoom(std::uint64_t bytes, std::string_view what);

 private:
  bool TryCharge(std::uint64_t cost, std::int64_t now_ms);
  Status Reprobe(std::uint64_t cost, std::int64_t now_ms);
  // REQUIRES: mu_ held.
  Status Probe(std::uint64_t* free_bytes);
  std::int64_t NowMs() const;

  const Options options_;

  // Bytes (already amplified) that may be charged before the next probe,
  // valid until deadline_ms_. Both are written only under mu_; read without it.
  std::atomic<std::uint64_t> budget_{0};
  std::atomic<std::int64_t> deadline_ms_{0};

  // Serialises probes, so that many writers meeting an empty budget at once
  // probe once.
  std::mutex mu_;
};

}  // namespace tiercache::storage
