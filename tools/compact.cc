// `tiercache compact DIR [--json]`: a full compaction, expired records dropped.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "storage/inspect.h"
#include "tools/command.h"
#include "tools/human.h"
#include "tools/json_output.h"
#include "tools/open_store.h"

namespace tiercache::tool {
namespace {

struct CompactFlags {
  std::string dir;
  bool json = false;
};

int RunCompact(const CompactFlags& flags) {
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForWriting("compact", flags.dir, /*may_create=*/false, &store);
      code != kExitOk) {
    return code;
  }
  storage::CompactResult result;
  if (Status s = storage::CompactStore(store.get(), &result); !s.ok()) return Failed("compact", s);
  if (flags.json) {
    JsonObject object;
    object["sst_files_before"] = result.before.sst_files;
    object["sst_bytes_before"] = result.before.sst_bytes;
    object["sst_files_after"] = result.after.sst_files;
    object["sst_bytes_after"] = result.after.sst_bytes;
    PrintJsonLine(object);
  } else {
    std::cout << fmt::format("compacted: SST files of entries {} -> {}, {} -> {}\n",
                             result.before.sst_files, result.after.sst_files,
                             HumanBytes(result.before.sst_bytes), HumanBytes(result.after.sst_bytes));
  }
  return kExitOk;
}

}  // namespace

void AddCompact(CLI::App& app, Action* action) {
  auto flags = std::make_shared<CompactFlags>();
  CLI::App* compact = app.add_subcommand(
      "compact", "Compacts the whole store, dropping expired and overwritten records");
  compact->add_option("DIR", flags->dir, "The store's directory")->required();
  compact->add_flag("--json", flags->json,
                    "One {\"sst_files_before\", \"sst_bytes_before\", \"sst_files_after\", "
                    "\"sst_bytes_after\"} object");
  compact->footer(
      "Needs the store to itself: a store another process has open is refused (exit code 3).");
  compact->callback([action, flags] { *action = [flags] { return RunCompact(*flags); }; });
}

}  // namespace tiercache::tool
