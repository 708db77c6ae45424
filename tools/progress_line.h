#pragma once

// The progress line of long subcommands (dump, load, verify, purge-expired):
//   dump: 120000 entries, 48000/s, about 12 s left
// redrawn on stderr at most every kRedrawInterval, and only when stderr is a
// terminal; silent otherwise, so that scripts and logs see none of it.

#include <chrono>
#include <cstdint>
#include <string>

#include "storage/inspect.h"

namespace tiercache::tool {

// Not thread-safe; the storage functions call it from the calling thread.
class ProgressLine {
 public:
  static constexpr std::chrono::milliseconds kRedrawInterval{200};

  // `unit` names the items ("entries", "lines"). The time left is estimated
  // from expected_bytes of input when not 0, else from expected_items when
  // not 0 (an estimate itself: RocksDB's key count), else not shown.
  ProgressLine(std::string command, std::string unit, std::uint64_t expected_items,
               std::uint64_t expected_bytes);
  // Erases the line.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // What the storage functions call; empty when stderr is not a terminal.
  storage::ProgressFn Fn();

 private:
  using SteadyClock = std::chrono::steady_clock;

  void Update(const storage::Progress& progress);
  // The fraction done, or a negative number when unknown.
  double Fraction(const storage::Progress& progress) const;

  const std::string command_;
  const std::string unit_;
  const std::uint64_t expected_items_;
  const std::uint64_t expected_bytes_;
  const bool enabled_;
  const SteadyClock::time_point start_;
  SteadyClock::time_point last_redraw_;
  bool drawn_ = false;
};

}  // namespace tiercache::tool
