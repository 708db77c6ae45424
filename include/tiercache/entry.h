#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tiercache/clock.h"

namespace tiercache {

// One cached entry with everything the cache knows of it. A value type: a Get
// copies it out, so it stays valid whatever the cache does afterwards.
//
// The access data (last_accessed, access_count) is kept in memory: Gets update
// it in L1 and never write to disk, so it counts from the entry's last write
// or its last read into L1. A record on disk holds the access data the entry
// was written with (a Put's: none, so created_at and 0; `tiercache load`'s: as
// dumped); after a restart, or once L1 evicted the entry, counting starts
// again from that.
struct Entry {
  std::string key;
  std::string value;
  TimePoint created_at{};                // when this version was written
  std::optional<TimePoint> expires_at;   // absent: never expires
  TimePoint last_accessed{};             // the last Get that returned it, while in L1
  std::uint64_t access_count = 0;        // Gets that returned it while in L1, across versions
  std::uint64_t version = 0;             // > every earlier version of the key; 0: none yet
  std::map<std::string, std::string> metadata;

  bool ExpiredAt(TimePoint now) const { return expires_at && *expires_at <= now; }
};

}  // namespace tiercache
