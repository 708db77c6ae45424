#include "tools/human.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <ostream>

namespace tiercache::tool {

std::string HumanBytes(std::uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string HumanTime(TimePoint time) {
  const std::int64_t ms = time.time_since_epoch().count();
  // Floor division, so that times before 1970 print correctly too. The
  // milliseconds come from the remainder: seconds * 1000 overflows for the
  // earliest times, which a loaded entry may carry.
  const std::int64_t remainder = ms % 1000;
  const std::int64_t seconds = ms / 1000 - (remainder < 0 ? 1 : 0);
  const std::int64_t millis = remainder < 0 ? remainder + 1000 : remainder;
  return fmt::format("{:%Y-%m-%d %H:%M:%S}.{:03}", fmt::gmtime(static_cast<std::time_t>(seconds)),
                     millis);
}

std::string HumanTimeLeft(const std::optional<TimePoint>& expires_at, TimePoint now) {
  if (!expires_at) return "-";
  if (*expires_at <= now) return "expired";
  const std::int64_t ms = (*expires_at - now).count();
  constexpr std::int64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute,
                         kDay = 24 * kHour;
  if (ms < kSecond) return fmt::format("{}ms", ms);
  if (ms < kMinute) return fmt::format("{}s", ms / kSecond);
  if (ms < kHour) return fmt::format("{}m{}s", ms / kMinute, ms % kMinute / kSecond);
  if (ms < kDay) return fmt::format("{}h{}m", ms / kHour, ms % kHour / kMinute);
  return fmt::format("{}d{}h", ms / kDay, ms % kDay / kHour);
}

Table::Table(std::vector<std::string> header)
    : header_(std::move(header)), widths_(header_.size(), 0) {
  for (std::size_t i = 0; i < header_.size(); ++i) widths_[i] = header_[i].size();
}

void Table::AddRow(std::vector<std::string> row) {
  row.resize(header_.size());
  for (std::size_t i = 0; i < row.size(); ++i) widths_[i] = std::max(widths_[i], row[i].size());
  rows_.push_back(std::move(row));
}

void Table::Print(std::ostream& out) {
  const auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      // The last column is not padded: no trailing spaces.
      if (i + 1 < row.size()) line.append(widths_[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  };
  if (!header_printed_) print_row(header_);
  header_printed_ = true;
  for (const auto& row : rows_) print_row(row);
  rows_.clear();
}

}  // namespace tiercache::tool
