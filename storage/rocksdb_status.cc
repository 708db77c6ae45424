#include "storage/rocksdb_status.h"

#include <fmt/format.h>

#include <string>

namespace tiercache::storage {
namespace {

// RocksDB 7.8's PosixFileSystem::LockFile messages (env/fs_posix.cc). They
// are the only sign that distinguishes a held lock from any other I/O error.
constexpr std::string_view kLockedElsewhere = "While lock file";
constexpr std::string_view kLockedHere = "lock hold by current process";

bool Mentions(const rocksdb::Status& status, std::string_view text) {
  return status.getState() != nullptr &&
         std::string_view(status.getState()).find(text) != std::string_view::npos;
}

}  // namespace

Status FromRocksDb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::OK();
  const std::string msg = fmt::format("{}: {}", what, status.ToString());
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return Status::NotFound(msg);
    case rocksdb::Status::kCorruption:
      return Status::Corruption(msg);
    case rocksdb::Status::kInvalidArgument:
      return Status::InvalidArgument(msg);
    case rocksdb::Status::kNotSupported:
      return Status::NotSupported(msg);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
      return Status::Busy(msg);
    case rocksdb::Status::kTimedOut:
      return Status::TimedOut(msg);
    case rocksdb::Status::kIOError:
      return status.IsNoSpace() ? Status::NoSpace(msg) : Status::IOError(msg);
    default:
      return Status::IOError(msg);
  }
}

bool IsLockHeld(const rocksdb::Status& status) {
  return status.IsIOError() &&
         (Mentions(status, kLockedElsewhere) || Mentions(status, kLockedHere));
}

bool IsLockHeldByThisProcess(const rocksdb::Status& status) {
  return status.IsIOError() && Mentions(status, kLockedHere);
}

}  // namespace tiercache::storage
