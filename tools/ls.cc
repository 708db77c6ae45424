// `tiercache ls DIR [-n NS] [--prefix P] [--limit N] [--json]`: the entries,
// one line each, without their values.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "storage/entry_json.h"
#include "storage/inspect.h"
#include "storage/text_encoding.h"
#include "tools/command.h"
#include "tools/human.h"
#include "tools/json_output.h"
#include "tools/open_store.h"

namespace tiercache::tool {
namespace {

struct LsFlags {
  std::string dir;
  storage::ListOptions list;
  bool base64_prefix = false;
  bool json = false;
};

// Rows go out in blocks of this many, so that a long listing starts at once
// and holds little memory.
constexpr std::size_t kRowsPerBlock = 1000;

std::vector<std::string> Row(std::string_view ns, const Entry& entry, TimePoint now) {
  return {storage::Printable(ns),
          storage::Printable(entry.key),
          std::to_string(entry.version),
          std::to_string(entry.value.size()),
          HumanTimeLeft(entry.expires_at, now),
          HumanTime(entry.created_at)};
}

// CLI11 reads "-1" into an unsigned option as 2^64 - 1, so the text is
// checked before it is converted. (CLI::NonNegativeNumber would do, but names
// its upper bound, DBL_MAX, in 300 digits.)
CLI::Validator NotNegative() {
  return CLI::Validator(
      [](const std::string& input) {
        return input.find('-') == std::string::npos
                   ? std::string()
                   : fmt::format("{} is negative: give 0 (no limit) or more", input);
      },
      "");
}

int RunLs(LsFlags flags) {
  if (flags.base64_prefix) {
    const std::string text = std::move(flags.list.prefix);
    if (!storage::Base64Decode(text, &flags.list.prefix)) {
      PrintError("ls", "--prefix is not valid base64");
      return kExitUsage;
    }
  }
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForReading("ls", flags.dir, &store); code != kExitOk) return code;
  const TimePoint now = SystemClock().Now();
  Table table({"NAMESPACE", "KEY", "VERSION", "VALUE BYTES", "TTL LEFT", "CREATED (UTC)"});
  std::uint64_t bad = 0;
  Status failed;
  std::string line;
  const auto list = [&](std::string_view ns, const Entry& entry) {
    if (flags.json) {
      failed = storage::EntrySummaryToJsonLine(ns, entry, &line);
      if (failed.ok()) std::cout << line << '\n';
      return failed.ok();
    }
    table.AddRow(Row(ns, entry, now));
    if (table.pending_rows() >= kRowsPerBlock) table.Print(std::cout);
    return true;
  };
  const auto report = [&](const storage::BadRecord& record) {
    ++bad;
    PrintError("ls", fmt::format("namespace '{}', key '{}': {}", storage::Printable(record.ns),
                                 storage::Printable(record.key.value_or("")), record.problem));
  };
  Status s = storage::ListEntries(*store, flags.list, list, report);
  if (!flags.json) table.Print(std::cout);
  if (s.ok()) s = failed;
  if (!s.ok()) return Failed("ls", s);
  return bad == 0 ? kExitOk : kExitProblems;
}

}  // namespace

void AddLs(CLI::App& app, Action* action) {
  auto flags = std::make_shared<LsFlags>();
  CLI::App* ls = app.add_subcommand(
      "ls", "The entries: key, version, value size, time to live left, creation time");
  ls->add_option("DIR", flags->dir, "The store's directory")->required();
  ls->add_option("-n,--namespace", flags->list.ns, "Only this namespace (default: all)");
  ls->add_option("--prefix", flags->list.prefix, "Only keys that start with this");
  ls->add_flag("--base64-prefix", flags->base64_prefix,
               "--prefix is in base64 (for keys that are not text)");
  ls->add_option("--limit", flags->list.limit, "At most this many entries (default: all)")
      ->check(NotNegative());
  ls->add_flag("--json", flags->json,
               "One JSON object per entry: dump's fields without \"value\", plus \"value_bytes\"");
  ls->footer(
      "Entries come by namespace name, then in key byte order; expired entries not yet purged "
      "are listed too. A record that cannot be decoded is named on stderr and the exit code is "
      "1. Works while an application has the store open.");
  ls->callback([action, flags] { *action = [flags] { return RunLs(*flags); }; });
}

}  // namespace tiercache::tool
