#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
// possibly from many threads for different keys (the callers' threads, and
// the cache's refresh threads under Options::refresh_after_write): it must be
// thread-safe. It must not call Flush or Close: on a refresh thread, either
// would wait for the refresh that called it.
using Loader =
    std::function<Status(std::string_view ns, std::string_view key, LoadedValue* out)>;

// One key's answer from a bulk loader: OK with its value, NotFound when the
// key does not exist at the source, or an error for this key alone. Each is
// handled as the Loader's answer for the key would be.
struct LoadedKey {
  Status status;
  LoadedValue loaded;
};

// Read-through's source of many values at once, for GetMany: fills *out with
// one answer per key, in the keys' order, and returns OK. Any other status,
// or a count of answers other than the keys', is every key's answer: NotFound
// is then remembered for each key (Options::negative_ttl), an error for none.
//
// Called as the Loader is: with no lock of the cache held, possibly from many
// threads. A key is never in two loads at once, bulk or not: GetMany leaves
// out of its call the keys another caller is loading, and waits for those.
using BulkLoader = std::function<Status(
    std::string_view ns, const std::vector<std::string_view>& keys, std::vector<LoadedKey>* out)>;

}  // namespace tiercache
