// `tiercache dump DIR [-n NS] [-o FILE]`: every entry as one JSON line.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>

#include "storage/inspect.h"
#include "storage/text_encoding.h"
#include "tools/command.h"
#include "tools/open_store.h"
#include "tools/progress_line.h"

namespace tiercache::tool {
namespace {

struct DumpFlags {
  std::string dir;
  std::string ns;
  std::string output;  // empty: stdout
};

int DumpTo(const storage::Store& store, const DumpFlags& flags, std::ostream* out) {
  std::uint64_t bad = 0;
  const auto report = [&](const storage::BadRecord& record) {
    ++bad;
    PrintError("dump",
               fmt::format("left out namespace '{}', key '{}': {}", storage::Printable(record.ns),
                           storage::Printable(record.key.value_or("")), record.problem));
  };
  storage::DumpResult result;
  Status s;
  {
    ProgressLine progress("dump", "entries", EstimatedEntries(store), 0);
    s = storage::Dump(store, flags.ns, out, progress.Fn(), report, &result);
  }
  if (!s.ok()) return Failed("dump", s);
  return bad == 0 ? kExitOk : kExitProblems;
}

int RunDump(const DumpFlags& flags) {
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForReading("dump", flags.dir, &store); code != kExitOk) return code;
  if (flags.output.empty()) return DumpTo(*store, flags, &std::cout);
  std::ofstream file(flags.output, std::ios::binary | std::ios::trunc);
  if (!file) {
    PrintError("dump", fmt::format("cannot write {}: {}", flags.output, std::strerror(errno)));
    return kExitUsage;
  }
  return DumpTo(*store, flags, &file);
}

}  // namespace

void AddDump(CLI::App& app, Action* action) {
  auto flags = std::make_shared<DumpFlags>();
  CLI::App* dump = app.add_subcommand("dump", "Every entry as a JSON line, for load to read back");
  dump->add_option("DIR", flags->dir, "The store's directory")->required();
  dump->add_option("-n,--namespace", flags->ns, "Only this namespace (default: all)");
  dump->add_option("-o,--output", flags->output, "Write to FILE instead of stdout");
  dump->footer(
      "One JSON object per line: namespace, key, key_encoding, value, value_encoding, version, "
      "created_at, expires_at, last_accessed, access_count, metadata. Keys and values that are "
      "not UTF-8 are in base64; times are ms since the Unix epoch, expires_at null for no "
      "expiry. Expired entries not yet purged are included. A record that cannot be decoded is "
      "left out, named on stderr, and the exit code is 1. Works while an application has the "
      "store open.");
  dump->callback([action, flags] { *action = [flags] { return RunDump(*flags); }; });
}

}  // namespace tiercache::tool
