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

// The SST files in the store's directory, by name. A live writer may add and
// remove files meanwhile: a listing is a snapshot.
std::vector<fs::path> SstFiles(const std::string& path) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".sst") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// RocksDB's block checksums of each SST file, read through RocksDB's own
// table reader. The Store exposes no DB::VerifyChecksum, and a file-by-file
// check needs no database at all, so it never waits on a live writer.
void VerifySstFiles(const std::string& path, const BadRecordFn& bad, VerifyResult* result) {
  const rocksdb::Options options;
  const rocksdb::EnvOptions env_options;
  for (const fs::path& file : SstFiles(path)) {
    const rocksdb::Status s = rocksdb::VerifySstFileChecksum(options, env_options, file.string());
    std::error_code ec;
    // A file compacted away since the listing was not damaged: skip it.
    if (!s.ok() && !fs::exists(file, ec)) continue;
    ++result->sst_files;
    if (!s.ok()) {
      Report(bad, result,
             BadRecord{{},
                       std::nullopt,
                       fmt::format("SST file {}: {}", file.filename().string(), s.ToString())});
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
    VerifySstFiles(store.path(), bad, result);
    std::vector<Namespace> namespaces;
    Status s = SelectNamespaces(store, {}, &namespaces);
    if (!s.ok()) return s;
    for (const Namespace& ns : namespaces) VerifyNamespace(store, ns, progress, bad, result);
    return Status::OK();
  });
}

}  // namespace tiercache::storage
