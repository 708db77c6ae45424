#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tiercache/clock.h"

namespace tiercache {

// One cached entry with everything the cache knows of it. A value type: a Get
// copies it out, so it stays valid whatever the cache does afterwards.
struct Entry {
  std::string key;
  std::string value;
  TimePoint created_at{};                // when this version was written
  std::optional<TimePoint> expires_at;   // absent: never expires
  TimePoint last_accessed{};             // the last Get that returned it
  std::uint64_t access_count = 0;        // Gets that returned it, across versions
  std::uint64_t version = 0;             // > every earlier version of the key; 0: none yet
  std::map<std::string, std::string> metadata;

  bool ExpiredAt(TimePoint now) const { return expires_at && *expires_at <= now; }
};

}  // namespace tiercache
