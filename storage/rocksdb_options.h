#pragma once

// Storage-internal: includes RocksDB. How the store configures RocksDB.

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <vector>

#include "storage/store.h"

namespace tiercache::storage {

// The order of the column families in RocksDbConfig::families, and so of the
// handles DB::Open returns.
inline constexpr std::size_t kDefaultFamilyIndex = 0;
inline constexpr std::size_t kMetaFamilyIndex = 1;
inline constexpr std::size_t kDataFamilyIndex = 2;

// The most a compaction of the data column family reads (its
// max_compaction_bytes), and so about the most it writes before it deletes
// its inputs.
inline constexpr std::uint64_t kMaxCompactionBytes = 256 * 1024 * 1024;

// What DB::Open and DB::OpenAsSecondary take.
struct RocksDbConfig {
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
};

// The RocksDB configuration of a store. `expiry_filter` and `env` (nullptr:
// the default) are borrowed: they must outlive the DB. `create`: the store
// does not exist yet.
RocksDbConfig MakeRocksDbConfig(const StoreOptions& options,
                                const rocksdb::CompactionFilter* expiry_filter,
                                rocksdb::Env* env, bool create);

// The options of one write to the data column family.
rocksdb::WriteOptions DataWriteOptions(Durability durability);

// The options of a write to the meta column family: always synced, whatever
// the durability, because a lost namespace mapping or next id after a power
// cut could hand a used id out again while its data survived in an SST file.
rocksdb::WriteOptions MetaWriteOptions();

}  // namespace tiercache::storage
