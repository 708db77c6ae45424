// `tiercache verify DIR [--json]`: RocksDB's checksums and every record
// checked; each bad one named.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "storage/inspect.h"
#include "storage/text_encoding.h"
#include "tools/command.h"
#include "tools/json_output.h"
#include "tools/open_store.h"
#include "tools/progress_line.h"

namespace tiercache::tool {
namespace {

struct VerifyFlags {
  std::string dir;
  bool json = false;
};

void PrintProblem(const storage::BadRecord& record, bool json) {
  if (json) {
    JsonObject object;
    if (record.ns.empty()) {
      object["namespace"] = nullptr;
    } else {
      PutBytes(object, "namespace", record.ns);
    }
    if (record.key) {
      PutBytes(object, "key", *record.key);
    } else {
      object["key"] = nullptr;
    }
    object["problem"] = record.problem;
    PrintJsonLine(object);
    return;
  }
  std::string where =
      record.ns.empty() ? "store" : fmt::format("namespace '{}'", storage::Printable(record.ns));
  if (record.key) where += fmt::format(", key '{}'", storage::Printable(*record.key));
  std::cout << fmt::format("BAD {}: {}\n", where, record.problem);
}

void PrintSummary(const storage::VerifyResult& result, bool json) {
  if (json) {
    JsonObject object;
    object["checked"] = result.checked;
    object["bad"] = result.bad;
    object["sst_files"] = result.sst_files;
    PrintJsonLine(object);
    return;
  }
  std::cout << fmt::format("checked {} records and {} SST files (entries and metadata): {}\n",
                           result.checked,
                           result.sst_files,
                           result.bad == 0 ? "all good" : fmt::format("{} bad", result.bad));
}

int RunVerify(const VerifyFlags& flags) {
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForReading("verify", flags.dir, &store); code != kExitOk) return code;
  storage::VerifyResult result;
  Status s;
  {
    ProgressLine progress("verify", "records", EstimatedEntries(*store), 0);
    s = storage::Verify(
        *store, progress.Fn(),
        [&](const storage::BadRecord& record) { PrintProblem(record, flags.json); }, &result);
  }
  if (!s.ok()) return Failed("verify", s);
  PrintSummary(result, flags.json);
  return result.bad == 0 ? kExitOk : kExitProblems;
}

}  // namespace

void AddVerify(CLI::App& app, Action* action) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* verify = app.add_subcommand("verify", "Checks every record; names each bad one");
  verify->add_option("DIR", flags->dir, "The store's directory")->required();
  verify->add_flag("--json", flags->json,
                   "One {\"namespace\", \"key\", \"problem\"} object per problem (with "
                   "\"namespace_encoding\" and \"key_encoding\"; null for a problem of a file "
                   "or a whole namespace), then {\"checked\", \"bad\", \"sst_files\"}");
  verify->footer(
      "Checks RocksDB's block checksums in every SST file, then decodes every record of every "
      "namespace (header, lengths, checksum, payload), going on past bad ones. Exit code 1 when "
      "anything is bad. Works while an application has the store open.");
  verify->callback([action, flags] { *action = [flags] { return RunVerify(*flags); }; });
}

}  // namespace tiercache::tool
