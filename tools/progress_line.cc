#include "tools/progress_line.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace tiercache::tool {

ProgressLine::ProgressLine(std::string command, std::string unit, std::uint64_t expected_items,
                           std::uint64_t expected_bytes)
    : command_(std::move(command)),
      unit_(std::move(unit)),
      expected_items_(expected_items),
      expected_bytes_(expected_bytes),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(SteadyClock::now()),
      last_redraw_(start_) {}

ProgressLine::~ProgressLine() {
  // "\r", then erase to the end of the line (ANSI EL).
  if (drawn_) std::fputs("\r\x1b[K", stderr);
}

storage::ProgressFn ProgressLine::Fn() {
  if (!enabled_) return {};
  return [this](const storage::Progress& progress) { Update(progress); };
}

double ProgressLine::Fraction(const storage::Progress& progress) const {
  if (expected_bytes_ != 0) {
    return static_cast<double>(progress.input_bytes) / static_cast<double>(expected_bytes_);
  }
  if (expected_items_ != 0) {
    return static_cast<double>(progress.items) / static_cast<double>(expected_items_);
  }
  return -1;
}

void ProgressLine::Update(const storage::Progress& progress) {
  const SteadyClock::time_point now = SteadyClock::now();
  if (now - last_redraw_ < kRedrawInterval) return;
  last_redraw_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::string line = fmt::format("{}: {} {}, {}/s", command_, progress.items, unit_,
                                 static_cast<std::uint64_t>(progress.items / seconds));
  const double fraction = Fraction(progress);
  // Past the estimate (RocksDB's key count is approximate) nothing is said.
  if (fraction > 0 && fraction < 1) {
    line += fmt::format(", about {:.0f} s left", std::ceil(seconds * (1 - fraction) / fraction));
  }
  std::fprintf(stderr, "\r\x1b[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace tiercache::tool
