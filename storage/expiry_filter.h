#pragma once

// Storage-internal: includes RocksDB.

#include <rocksdb/compaction_filter.h>

#include <memory>

#include "tiercache/clock.h"

namespace tiercache::storage {

// The compaction filter of the data column family: drops the records expired
// at clock->Now(), as ExpiredAndIntact (storage/record_format.h) tells them: a
// damaged record is kept, for `verify` to report.
//
// Thread-safety: thread-safe, as RocksDB requires of a filter set through
// ColumnFamilyOptions::compaction_filter (several compactions may run it at
// once). Owns a share of the clock; nullptr means the system clock.
std::unique_ptr<rocksdb::CompactionFilter> NewExpiryFilter(std::shared_ptr<Clock> clock);

}  // namespace tiercache::storage
