// `tiercache load DIR [FILE]`: the entries of a dump, written back.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "storage/inspect.h"
#include "tiercache/options.h"
#include "tools/command.h"
#include "tools/open_store.h"
#include "tools/progress_line.h"

namespace tiercache::tool {
namespace {

struct LoadFlags {
  std::string dir;
  std::string input = "-";
  std::string compression = "none";
  storage::LoadOptions load;
};

// The size of the input (stdin for "-") for the progress line; 0 unless it
// is a regular file.
std::uint64_t InputBytes(const std::string& input) {
  struct stat st {};
  const int result = input == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(input.c_str(), &st);
  return result == 0 && S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
}

int LoadFrom(storage::Store* store, const LoadFlags& flags, std::istream* in,
             std::uint64_t input_bytes) {
  storage::LoadResult result;
  Status s;
  {
    ProgressLine progress("load", "lines", 0, input_bytes);
    s = storage::Load(store, in, flags.load, progress.Fn(), &result);
  }
  if (s.IsInvalidArgument()) {
    PrintError("load", fmt::format("{}; the lines before it are loaded ({} entries)", s.message(),
                                   result.entries));
    return kExitProblems;
  }
  if (!s.ok()) {
    PrintError("load",
               fmt::format("{}; {} entries were loaded before it", s.message(), result.entries));
    return kExitProblems;
  }
  std::cout << fmt::format("loaded {} entries from {} lines", result.entries, result.lines);
  if (result.kept > 0) {
    std::cout << fmt::format(
        "; left out {} lines: the store holds their keys at the same or a newer version",
        result.kept);
  }
  std::cout << '\n';
  return kExitOk;
}

int RunLoad(LoadFlags flags) {
  const std::optional<Compression> compression = ParseCompression(flags.compression);
  if (!compression) {
    PrintError("load", fmt::format("unknown compression '{}': none or lz4", flags.compression));
    return kExitUsage;
  }
  flags.load.compression = *compression;
  // The input first: an unreadable one must not leave a new, empty store.
  std::istream* in = &std::cin;
  std::ifstream file;
  if (flags.input != "-") {
    file.open(flags.input, std::ios::binary);
    if (!file) {
      PrintError("load", fmt::format("cannot read {}: {}", flags.input, std::strerror(errno)));
      return kExitUsage;
    }
    in = &file;
  }
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForWriting("load", flags.dir, /*may_create=*/true, &store);
      code != kExitOk) {
    return code;
  }
  return LoadFrom(store.get(), flags, in, InputBytes(flags.input));
}

}  // namespace

void AddLoad(CLI::App& app, Action* action) {
  auto flags = std::make_shared<LoadFlags>();
  CLI::App* load = app.add_subcommand("load", "Writes the entries of a dump into a store");
  load->add_option("DIR", flags->dir, "The store's directory (an empty one becomes a new store)")
      ->required();
  load->add_option("FILE", flags->input, "The dump to read; - or none: stdin");
  load->add_option("--compression", flags->compression, "How values are stored: none or lz4")
      ->capture_default_str();
  load->add_option("--compression-threshold", flags->load.compression_threshold,
                   "Values shorter than this many bytes are stored uncompressed")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxValueBytes));
  load->footer(
      "Each entry keeps its version, times, access count and metadata as dumped and replaces "
      "an entry with the same key and an older version: one the store holds at the same or a "
      "newer version stays, as versions never go backwards (load into an empty directory to "
      "restore a dump as it is). Namespaces are created as needed; expired entries are "
      "loaded too. At a malformed line, load stops and names it: the lines before it are "
      "loaded, and the exit code is 1. A missing directory is refused (exit code 3), and so is "
      "a store another process has open: load needs the store to itself.");
  load->callback([action, flags] { *action = [flags] { return RunLoad(*flags); }; });
}

}  // namespace tiercache::tool
