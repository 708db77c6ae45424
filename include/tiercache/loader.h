#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tiercache/status.h"

namespace tiercache {

// What a loader produces for a key that neither tier holds.
struct LoadedValue {
  std::string value;
  // Absent: Options::default_ttl. Zero: never expires.
  std::optional<std::chrono::milliseconds> ttl;
  std::map<std::string, std::string> metadata;
};

// Read-through's source of truth. Fills *out and returns OK; returns NotFound
// when the key does not exist there (remembered for Options::negative_ttl,
// unless the key was written while the loader ran);
// any other status reaches every caller waiting for the key and is not cached.
//
// Called with no lock of the cache held, at most once at a time per key,
// possibly from many threads for different keys: it must be thread-safe.
using Loader =
    std::function<Status(std::string_view ns, std::string_view key, LoadedValue* out)>;

}  // namespace tiercache
