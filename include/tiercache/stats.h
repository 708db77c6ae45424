#pragma once

#include <chrono>
#include <cstdint>

namespace tiercache {

// Counters of a cache since it was opened, and its state now.
struct CacheStats {
  struct Memory {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evicted = 0;   // to make room
    std::uint64_t expired = 0;
    std::uint64_t removed = 0;   // deleted or replaced
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;     // charged: keys, values, metadata and overhead
    double hit_ratio = 0;        // hits / (hits + misses)
  } memory;

  struct Disk {
    std::uint64_t hits = 0;      // L1 misses that RocksDB answered
    std::uint64_t misses = 0;
    std::uint64_t writes = 0;    // records and deletions written, one per key
    std::uint64_t corrupt = 0;   // records that failed their checks
  } disk;

  struct WriteBuffer {
    std::uint64_t entries = 0;   // buffered now, not yet in RocksDB
    std::uint64_t bytes = 0;
    std::uint64_t flushes = 0;   // batches written
    std::uint64_t flush_failures = 0;
    std::uint64_t writers_refused = 0;  // Puts answered Busy: the buffer stayed full
    std::chrono::milliseconds oldest_unflushed_age{0};
  } write_buffer;

  struct Loads {
    std::uint64_t calls = 0;     // loader calls (bulk loader calls are bulk_calls)
    std::uint64_t shared = 0;    // Gets that waited for another caller's load
    std::uint64_t errors = 0;    // keys a load answered with an error
    std::uint64_t negative_hits = 0;  // misses answered from the negative cache
    std::uint64_t unstored = 0;       // loaded values returned that the cache could not keep
    std::uint64_t bulk_calls = 0;     // bulk loader calls (GetMany)
    std::uint64_t wait_timeouts = 0;  // Gets (GetMany keys) that gave up waiting for
                                      // another caller's load: load_wait_timeout
    std::uint64_t refreshes = 0;      // loader calls made to refresh an entry found due
                                      // (also in calls; their errors in errors):
                                      // refresh_after_write
    std::uint64_t refreshes_dropped = 0;  // refreshes not queued: too many waiting
    std::uint64_t refreshes_waiting = 0;  // refreshes queued now, not yet begun
  } loads;

  // Bytes L1 holds for the values put in it since open, over their
  // uncompressed bytes: below 1 when lz4 compression saves memory, 1 without
  // compression. With lz4 on, each value held in L1 carries a byte saying how
  // it is held, so values too small to compress take the ratio above 1.
  double compression_ratio = 1.0;
};

}  // namespace tiercache
