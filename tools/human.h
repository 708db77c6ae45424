#pragma once

// The human-readable side of the subcommands' output: sizes, times, tables.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tiercache/clock.h"

namespace tiercache::tool {

// "512 B", "1.5 KiB", "3.2 GiB".
std::string HumanBytes(std::uint64_t bytes);

// "2026-11-25 13:10:48.123" in UTC.
std::string HumanTime(TimePoint time);

// The time until `expires_at`: "-" without expiry, "expired", else "2d3h",
// "4m12s", "850ms".
std::string HumanTimeLeft(const std::optional<TimePoint>& expires_at, TimePoint now);

// Columns aligned with spaces, the first row a header. Rows can be printed in
// blocks as they come (for long listings); a column never narrows between
// blocks, so later blocks line up when their values are no wider.
// Not thread-safe.
class Table {
 public:
  explicit Table(std::vector<std::string> header);

  void AddRow(std::vector<std::string> row);
  std::size_t pending_rows() const { return rows_.size(); }
  // Prints the header (the first time) and the rows added since, then forgets
  // those rows.
  void Print(std::ostream& out);

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> widths_;
  bool header_printed_ = false;
};

}  // namespace tiercache::tool
