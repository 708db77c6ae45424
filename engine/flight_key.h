#pragma once

#include <string>
#include <string_view>

namespace tiercache::engine {

// The key of a (namespace, key) pair in maps that know namespaces by name:
// the read-through flights, the negative cache and the refresh queue.
inline std::string FlightKey(std::string_view ns, std::string_view key) {
  std::string out;
  out.reserve(ns.size() + 1 + key.size());
  out.append(ns).push_back('\0');
  out.append(key);
  return out;
}

}  // namespace tiercache::engine
