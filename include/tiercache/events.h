#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tiercache/status.h"

namespace tiercache {

// Why an entry left the in-memory tier.
enum class RemovalCause {
  kCapacity,  // evicted to make room
  kExpired,   // its expiry passed
  kDeleted,   // Delete() or DropNamespace()
  kReplaced,  // a newer version of the key was written (under write-around: to disk only)
};

std::string_view Name(RemovalCause cause);

// What a listener is told of a removal. The views are valid during the call.
struct RemovalEvent {
  std::string_view ns;
  std::string_view key;
  std::uint64_t version = 0;
  RemovalCause cause = RemovalCause::kCapacity;
};

// What a listener is told of a write-behind flush that RocksDB refused.
struct FlushFailureEvent {
  Status status;                // why the batch was refused
  std::size_t entries = 0;      // writes in the refused batch; they stay buffered
  std::uint64_t attempt = 0;    // 1 for the first failure of this batch
};

// Told of what happens inside a cache. Set one in Options::listener.
//
// Thread-safety: the methods are called from the application's threads and
// from the write-behind flusher, concurrently; an implementation must be
// thread-safe. They run with no lock of the cache held, so they may call the
// cache (but for Close, and destroying it: both would wait for the call that
// told the listener), but should be quick: the caller waits for them. They
// must not throw; an exception from either is dropped.
class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void OnRemoval(const RemovalEvent& /*event*/) {}
  virtual void OnFlushFailure(const FlushFailureEvent& /*event*/) {}
};

}  // namespace tiercache
