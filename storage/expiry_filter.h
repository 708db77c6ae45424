#pragma once

// Storage-internal: includes RocksDB.

#include <rocksdb/compaction_filter.h>

#include <memory>

#include "tiercache/clock.h"

namespace tiercache::storage {

// The compaction filter of the data column family: drops records whose header
// says they expired at or before clock->Now(). Reads the header alone, a few
// loads, of a record that has not expired; checks the checksum of one that
// has. A damaged record (a header that does not parse, a checksum that does
// not match) is kept, for `verify` to report.
//
// Thread-safety: thread-safe, as RocksDB requires of a filter set through
// ColumnFamilyOptions::compaction_filter (several compactions may run it at
// once). Owns a share of the clock; nullptr means the system clock.
std::unique_ptr<rocksdb::CompactionFilter> NewExpiryFilter(std::shared_ptr<Clock> clock);

}  // namespace tiercache::storage
