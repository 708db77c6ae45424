// Verify of storage/inspect.h: RocksDB's checksums, then every record.
#include <fmt/format.h>
#include <rocksdb/convenience.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "storage/guarded.h"
#include "storage/inspect.h"
#include "storage/record_format.h"

namespace tiercache::storage {
namespace {

namespace fs = std::filesystem;

void Report(const BadRecordFn& bad, VerifyResult* result, BadRecord record) {
  ++result->bad;
  if (bad) bad(record);
}

// RocksDB's block checksums of each live SST file, read through RocksDB's own
// table reader. The Store exposes no DB::VerifyChecksum, and a file-by-file
// check never waits on a live writer. Only live files: a power cut can leave
// a table RocksDB was writing and will never read, which is no damage.
void VerifySstFiles(const Store& store, const BadRecordFn& bad, VerifyResult* result) {
  std::vector<std::string> files;
  const Status listed = store.LiveTableFiles(&files);
  if (!listed.ok()) {
    Report(bad, result, BadRecord{{}, std::nullopt, listed.ToString()});
    return;
  }
  std::sort(files.begin(), files.end());
  const rocksdb::Options options;
  const rocksdb::EnvOptions env_options;
  for (const std::string& file : files) {
    const rocksdb::Status s = rocksdb::VerifySstFileChecksum(options, env_options, file);
    std::error_code ec;
    // A file compacted away since the listing was not damaged: skip it.
    if (!s.ok() && !fs::exists(file, ec)) continue;
    ++result->sst_files;
    if (!s.ok()) {
      Report(bad, result,
             BadRecord{
                 {},
                 std::nullopt,
                 fmt::format("SST file {}: {}", fs::path(file).filename().string(), s.ToString())});
    }
  }
}

// Decodes every record of `ns` in full (DecodeRecord checks the header, the
// lengths and the checksum before it reads the payload).
void VerifyNamespace(const Store& store, const Namespace& ns, const ProgressFn& progress,
                     const BadRecordFn& bad, VerifyResult* result) {
  Entry entry;
  auto check = [&](std::string_view key, std::string_view record) {
    ReportProgress(progress, ++result->checked);
    if (Status decoded = DecodeRecord(record, &entry); !decoded.ok()) {
      Report(bad, result, BadRecord{ns.name, std::string(key), decoded.message()});
    }
  };
  std::optional<std::string> last;  // the last key the forward walk checked
  const Status s = store.ForEach(ns, {}, [&](std::string_view key, std::string_view record) {
    last = key;
    check(key, record);
    return true;
  });
  if (s.ok()) return;
  // RocksDB stops an iteration at a damaged block. A walk back from the end
  // checks what lies beyond it, so that only the records of damaged blocks go
  // unchecked, with the one after each (a backward step reads one entry
  // ahead) and any between two of them. Where that walk stops adds nothing to
  // the report below.
  static_cast<void>(
      store.ForEachBackward(ns, {}, [&](std::string_view key, std::string_view record) {
        if (last && key <= *last) return false;
        check(key, record);
        return true;
      }));
  Report(bad, result,
         BadRecord{ns.name, std::nullopt, fmt::format("the scan stopped early: {}", s.ToString())});
}

}  // namespace

Status Verify(const Store& store, const ProgressFn& progress, const BadRecordFn& bad,
              VerifyResult* result) {
  return Guarded("verifying", store.path(), [&]() -> Status {
    *result = VerifyResult{};
    VerifySstFiles(store, bad, result);
    std::vector<Namespace> namespaces;
    Status s = SelectNamespaces(store, {}, &namespaces);
    if (!s.ok()) return s;
    for (const Namespace& ns : namespaces) VerifyNamespace(store, ns, progress, bad, result);
    return Status::OK();
  });
}

}  // namespace tiercache::storage
