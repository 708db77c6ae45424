#pragma once

// Storage-internal: includes RocksDB. Never include from include/ or engine/.

#include <rocksdb/status.h>

#include <string_view>

#include "tiercache/status.h"

namespace tiercache::storage {

// The tiercache Status for a RocksDB one; `what` names the operation that
// failed ("Put into namespace 'x' of store at /p") and leads the message.
// A full disk becomes NoSpace; Busy, TryAgain and lock waits become Busy.
Status FromRocksDb(const rocksdb::Status& status, std::string_view what);

// True when `status` is RocksDB's answer to a LOCK file held elsewhere: by
// another process ("While lock file") or by another DB in this one.
bool IsLockHeld(const rocksdb::Status& status);

// True when the lock is held by another DB object in this very process.
bool IsLockHeldByThisProcess(const rocksdb::Status& status);

}  // namespace tiercache::storage
