// `tiercache purge-expired DIR [--json]`: deletes the expired entries.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "storage/inspect.h"
#include "tools/command.h"
#include "tools/json_output.h"
#include "tools/open_store.h"
#include "tools/progress_line.h"

namespace tiercache::tool {
namespace {

struct PurgeFlags {
  std::string dir;
  bool json = false;
};

int RunPurge(const PurgeFlags& flags) {
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForWriting("purge-expired", flags.dir, /*may_create=*/false, &store);
      code != kExitOk) {
    return code;
  }
  storage::PurgeResult result;
  Status s;
  {
    ProgressLine progress("purge-expired", "records", EstimatedEntries(*store), 0);
    s = storage::PurgeExpired(store.get(), SystemClock(), progress.Fn(), &result);
  }
  if (!s.ok()) {
    PrintError("purge-expired",
               fmt::format("{} (purged {} before it)", s.message(), result.purged));
    return kExitProblems;
  }
  if (flags.json) {
    JsonObject object;
    object["scanned"] = result.scanned;
    object["purged"] = result.purged;
    PrintJsonLine(object);
  } else {
    std::cout << fmt::format("purged {} expired entries of {}\n", result.purged, result.scanned);
  }
  return kExitOk;
}

}  // namespace

void AddPurgeExpired(CLI::App& app, Action* action) {
  auto flags = std::make_shared<PurgeFlags>();
  CLI::App* purge = app.add_subcommand("purge-expired", "Deletes the entries that have expired");
  purge->add_option("DIR", flags->dir, "The store's directory")->required();
  purge->add_flag("--json", flags->json, "One {\"scanned\", \"purged\"} object");
  purge->footer(
      "Deletes the records expired now (a damaged one stays, for verify to report); the space "
      "returns with later compactions (see compact). Needs the store to itself: a store another process has "
      "open is refused (exit code 3).");
  purge->callback([action, flags] { *action = [flags] { return RunPurge(*flags); }; });
}

}  // namespace tiercache::tool
