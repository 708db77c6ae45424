#pragma once

#include <optional>
#include <string_view>

namespace tiercache {

// How a write reaches RocksDB (DESIGN.md, "How data flows").
enum class WritePolicy {
  kWriteThrough,  // L1 and RocksDB both hold the write before Put returns
  kWriteBehind,   // L1 and the write buffer hold it; a flusher batches it to RocksDB
  kWriteAround,   // RocksDB holds it and L1 drops the key
};

// What a Get that misses both tiers does.
enum class ReadPolicy {
  kReadThrough,  // calls the application's loader, once per key
  kCacheAside,   // answers NotFound; the application puts the value itself
};

// What leaves L1 when it is full.
enum class EvictionPolicy {
  kLRU,       // least recently used
  kLFU,       // least frequently used, counts aged over time
  kFIFO,      // oldest insertion
  kTTL,       // closest to expiry; entries without expiry last, least recently used
  kAdaptive,  // scan-resistant, adapts between recency and frequency
};

// What an acknowledged write survives (DESIGN.md, "Durability contract").
enum class Durability {
  kProcessCrash,  // the write-ahead log is written, not synced: survives kill -9
  kPowerLoss,     // the write-ahead log is synced: survives a power cut
};

// How values are compressed, in memory and on disk.
enum class Compression {
  kNone,
  kLz4,
};

// Names as the command line spells them: "write-through", "lru", ...
std::string_view Name(WritePolicy policy);
std::string_view Name(ReadPolicy policy);
std::string_view Name(EvictionPolicy policy);
std::string_view Name(Durability durability);
std::string_view Name(Compression compression);

// The inverse of Name(); nullopt for a name that is not one of them.
std::optional<WritePolicy> ParseWritePolicy(std::string_view name);
std::optional<ReadPolicy> ParseReadPolicy(std::string_view name);
std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name);
std::optional<Durability> ParseDurability(std::string_view name);
std::optional<Compression> ParseCompression(std::string_view name);

}  // namespace tiercache
