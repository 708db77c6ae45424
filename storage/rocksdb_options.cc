#include "storage/rocksdb_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <memory>

#include "storage/key_layout.h"

namespace tiercache::storage {
namespace {

// The meta column family holds a handful of keys.
constexpr std::size_t kMetaWriteBufferBytes = 256 * 1024;
// The prefix the memtable keeps an insert hint for: a data key's namespace id.
// RocksDB 7.8 keeps one hint per prefix for a memtable's entries and its range
// deletions alike, and a hint left by one misleads an insert into the other
// (an assertion in RocksDB's comparator; later releases keep hints for entries
// only). RocksDB asks about the user key, and a namespace drop's range
// deletion starts at the bare id: keys no longer than the id are left out.
class NamespaceHintPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tiercache.NamespaceHintPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), kNamespaceIdBytes};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > kNamespaceIdBytes;
  }
};

rocksdb::DBOptions MakeDbOptions(const StoreOptions& options, bool create) {
  rocksdb::DBOptions db;
  db.create_if_missing = create;
  // Also completes a store whose creation stopped between its two families;
  // a foreign RocksDB database never gets here (InspectDirectory).
  db.create_missing_column_families = true;
  db.statistics = options.statistics;
  // Two background jobs (one flush, one compaction) on the 2-core machines a
  // local cache runs on; more would steal from the application.
  db.max_background_jobs = 2;
  // The meta column family is written rarely, so it would keep every WAL
  // alive; past this size RocksDB flushes it and the old WALs go.
  db.max_total_wal_size = 4 * options.write_buffer_bytes;
  // On with manual_wal_flush, an acknowledged write may sit in a user-space
  // buffer and die with the process (DESIGN.md): leave it off.
  db.manual_wal_flush = false;
  // A secondary keeps every table file open so that files the primary deletes
  // stay readable; RocksDB requires it for OpenAsSecondary.
  db.max_open_files = -1;
  // RocksDB's info LOG is for diagnosis; keep it from growing in a cache dir.
  db.keep_log_file_num = 3;
  db.max_log_file_size = 4 * 1024 * 1024;
  db.bytes_per_sync = 1024 * 1024;  // smooth writeback instead of bursts at file close
  // RocksDB reserves 4 MiB for each new MANIFEST by default: space the
  // free-space guard does not see, and a cache's MANIFEST grows by a few
  // hundred bytes per flush or compaction.
  db.manifest_preallocation_size = 256 * 1024;
  // A damaged WAL record ends the replay there (also RocksDB 7.8's default;
  // the cache relies on it): the store opens with the writes before the
  // damage, a prefix in write order, so namespaces, the version ceiling and
  // entries stay consistent. A cache can lose that tail; kAbsoluteConsistency
  // would refuse to open instead, and kSkipAnyCorruptedRecords would replay
  // writes past a hole, such as entries of a namespace whose creation was lost.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // On (the default) because only then does a failed WAL write stop all later
  // writes: without it, acknowledged writes could follow a torn record, and
  // recovery stops at that record. The price: a damaged SST footer or index,
  // or a cut SST file, fails Open with Corruption (tests/engine/corruption_test).
  db.paranoid_checks = true;
  return db;
}

rocksdb::CompressionType BlockCompression() {
  // Records above the codec's threshold arrive lz4-compressed already; small
  // ones and the keys still compress well together in a block, and lz4 costs
  // little on data that does not.
  const auto supported = rocksdb::GetSupportedCompressions();
  const bool has_lz4 =
      std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end();
  return has_lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
}

rocksdb::BlockBasedTableOptions MakeTableOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // A cache misses often (an L1 miss is usually an L2 miss too): a Bloom
  // filter answers most of those without reading a block.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks count against the block cache, so that the
  // store's memory stays bounded however many files it has.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  return table;
}

rocksdb::ColumnFamilyOptions MakeDataOptions(const StoreOptions& options,
                                             const std::shared_ptr<rocksdb::Cache>& cache,
                                             const rocksdb::CompactionFilter* expiry_filter) {
  rocksdb::ColumnFamilyOptions data;
  // Modest memtables: the in-memory tier in front already holds recent writes.
  data.write_buffer_size = options.write_buffer_bytes;
  data.max_write_buffer_number = 2;
  // A write-behind flush writes its batch in key order, and a namespace's keys
  // share their id prefix: with a hint per prefix, each insert into the
  // memtable's skip list starts its search where the one before it ended
  // rather than at the top. RocksDB follows hints for a write alone in its
  // write group, as the flusher's is; others insert as before.
  data.memtable_insert_with_hint_prefix_extractor = std::make_shared<NamespaceHintPrefix>();
  // Level compaction with dynamic level sizes keeps space amplification near
  // 1.1, which matters on the user's own disk, at a write cost a cache can
  // afford.
  data.compaction_style = rocksdb::kCompactionStyleLevel;
  data.level_compaction_dynamic_level_bytes = true;
  // Bounds the free space a compaction needs (Store keeps it free); the
  // default, 25 x the 64 MiB target file size, would be 1.6 GiB.
  data.max_compaction_bytes = kMaxCompactionBytes;
  data.compression = BlockCompression();
  data.compaction_filter = expiry_filter;
  data.table_factory.reset(rocksdb::NewBlockBasedTableFactory(MakeTableOptions(cache)));
  return data;
}

rocksdb::ColumnFamilyOptions MakeMetaOptions(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions meta;
  meta.write_buffer_size = kMetaWriteBufferBytes;
  meta.table_factory.reset(rocksdb::NewBlockBasedTableFactory(MakeTableOptions(cache)));
  return meta;
}

}  // namespace

RocksDbConfig MakeRocksDbConfig(const StoreOptions& options,
                                const rocksdb::CompactionFilter* expiry_filter,
                                rocksdb::Env* env, bool create) {
  // One block cache for both families, so block_cache_bytes is the total.
  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  RocksDbConfig config;
  config.db = MakeDbOptions(options, create);
  if (env != nullptr) config.db.env = env;
  config.families = {
      {rocksdb::kDefaultColumnFamilyName, MakeMetaOptions(cache)},
      {kMetaColumnFamily, MakeMetaOptions(cache)},
      {kDataColumnFamily, MakeDataOptions(options, cache, expiry_filter)},
  };
  return config;
}

rocksdb::WriteOptions DataWriteOptions(Durability durability) {
  rocksdb::WriteOptions write;
  write.sync = durability == Durability::kPowerLoss;
  return write;
}

rocksdb::WriteOptions MetaWriteOptions() {
  rocksdb::WriteOptions write;
  write.sync = true;
  return write;
}

}  // namespace tiercache::storage
