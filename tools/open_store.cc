#include "tools/open_store.h"

#include <fmt/format.h>

#include <iostream>

#include "storage/store_directory.h"
#include "tools/command.h"

namespace tiercache::tool {
namespace {

// Refusals decided by what lies at `dir`, before RocksDB is let near it (so
// that a missing directory is never created).
Status CheckDirectory(const std::string& dir, bool may_be_empty) {
  storage::DirectoryKind kind = storage::DirectoryKind::kMissing;
  Status s = storage::InspectDirectory(dir, &kind);
  if (!s.ok()) return s;
  if (kind == storage::DirectoryKind::kMissing) {
    return Status::NotFound(fmt::format("{}: no such directory", dir));
  }
  if (kind == storage::DirectoryKind::kEmpty && !may_be_empty) {
    return Status::NotFound(fmt::format("no tiercache store at {}: the directory is empty", dir));
  }
  return Status::OK();
}

int Open(std::string_view command, const storage::StoreOptions& options, bool may_be_empty,
         std::unique_ptr<storage::Store>* store) {
  Status s = CheckDirectory(options.path, may_be_empty);
  if (s.ok()) s = storage::Store::Open(options, store);
  if (s.IsBusy() && options.mode == storage::StoreOptions::Mode::kReadWrite) {
    s = Status::Busy(fmt::format(
        "{}; '{}' writes to the store and needs it to itself: close the application first "
        "(the read-only commands work while it runs)",
        s.message(), command));
  }
  if (s.ok()) return kExitOk;
  PrintError(command, s.message());
  return kExitCannotOpen;
}

}  // namespace

int OpenForReading(std::string_view command, const std::string& dir,
                   std::unique_ptr<storage::Store>* store) {
  storage::StoreOptions options;
  options.path = dir;
  options.mode = storage::StoreOptions::Mode::kSecondary;
  return Open(command, options, /*may_be_empty=*/false, store);
}

int OpenForWriting(std::string_view command, const std::string& dir, bool may_create,
                   std::unique_ptr<storage::Store>* store) {
  storage::StoreOptions options;
  options.path = dir;
  return Open(command, options, may_create, store);
}

std::uint64_t EstimatedEntries(const storage::Store& store) {
  storage::StoreStats stats;
  return store.GetStats(&stats).ok() ? stats.estimated_keys : 0;
}

void PrintError(std::string_view command, std::string_view message) {
  std::cerr << fmt::format("tiercache {}: {}\n", command, message);
}

int Failed(std::string_view command, const Status& status) {
  PrintError(command, status.message());
  return kExitProblems;
}

}  // namespace tiercache::tool
