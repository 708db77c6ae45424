// `tiercache stats DIR [--json]`: what a store holds and what it costs on disk.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "storage/inspect.h"
#include "tools/command.h"
#include "tools/human.h"
#include "tools/json_output.h"
#include "tools/open_store.h"
#include "tools/progress_line.h"

namespace tiercache::tool {
namespace {

struct StatsFlags {
  std::string dir;
  bool json = false;
};

void PrintHuman(const std::string& dir, const storage::StoreFigures& f) {
  const auto row = [](std::string_view name, const std::string& value) {
    std::cout << fmt::format("{:<28}{}\n", name, value);
  };
  row("store", dir);
  row("format version", fmt::format("{} (records: {})", f.format_version, f.record_format_version));
  row("namespaces", std::to_string(f.namespaces));
  row("entries", std::to_string(f.entries));
  row("  expired, not yet purged", std::to_string(f.expired_entries));
  row("  corrupt", std::to_string(f.corrupt_records));
  row("keys", HumanBytes(f.key_bytes));
  row("values", HumanBytes(f.value_bytes));
  row("records", fmt::format("{} (compression ratio {:.2f})", HumanBytes(f.record_bytes),
                             f.compression_ratio()));
  row("on disk", HumanBytes(f.disk_bytes));
  row("SST files of entries",
      fmt::format("{} ({})", f.rocksdb.sst_files, HumanBytes(f.rocksdb.sst_bytes)));
  row("estimated keys (RocksDB)", std::to_string(f.rocksdb.estimated_keys));
  row("estimated live data", HumanBytes(f.rocksdb.estimated_live_bytes));
  row("memtables", HumanBytes(f.rocksdb.memtable_bytes));
  row("pending compaction", HumanBytes(f.rocksdb.pending_compaction_bytes));
}

void PrintJson(const std::string& dir, const storage::StoreFigures& f) {
  JsonObject object;
  object["store"] = dir;
  object["format_version"] = f.format_version;
  object["record_format_version"] = f.record_format_version;
  object["namespaces"] = f.namespaces;
  object["entries"] = f.entries;
  object["expired_entries"] = f.expired_entries;
  object["corrupt_records"] = f.corrupt_records;
  object["key_bytes"] = f.key_bytes;
  object["value_bytes"] = f.value_bytes;
  object["record_bytes"] = f.record_bytes;
  object["compression_ratio"] = f.compression_ratio();
  object["disk_bytes"] = f.disk_bytes;
  object["sst_files"] = f.rocksdb.sst_files;
  object["sst_bytes"] = f.rocksdb.sst_bytes;
  object["estimated_keys"] = f.rocksdb.estimated_keys;
  object["estimated_live_bytes"] = f.rocksdb.estimated_live_bytes;
  object["memtable_bytes"] = f.rocksdb.memtable_bytes;
  object["pending_compaction_bytes"] = f.rocksdb.pending_compaction_bytes;
  PrintJsonLine(object);
}

int RunStats(const StatsFlags& flags) {
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForReading("stats", flags.dir, &store); code != kExitOk) return code;
  ProgressLine progress("stats", "entries", EstimatedEntries(*store), 0);
  storage::StoreFigures figures;
  const Status s = storage::CollectFigures(*store, SystemClock(), progress.Fn(), &figures);
  if (!s.ok()) return Failed("stats", s);
  if (flags.json) {
    PrintJson(flags.dir, figures);
  } else {
    PrintHuman(flags.dir, figures);
  }
  return kExitOk;
}

}  // namespace

void AddStats(CLI::App& app, Action* action) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* stats = app.add_subcommand(
      "stats", "Entries, bytes, namespaces, compression ratio, format and RocksDB's figures");
  stats->add_option("DIR", flags->dir, "The store's directory")->required();
  stats->add_flag("--json", flags->json, "One JSON object on one line");
  stats->footer(
      "The counts (entries, expired entries not yet purged, bytes) come from a scan of every "
      "record, which takes time in proportion to the store; the RocksDB figures are RocksDB's "
      "own estimates. Works while an application has the store open.");
  stats->callback([action, flags] { *action = [flags] { return RunStats(*flags); }; });
}

}  // namespace tiercache::tool
