#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/store.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// The cache's view of the store's namespaces: name to id for every call, id
// to name for events. Loaded at open; a namespace is created in the store on
// its first write.
//
// Thread-safety: thread-safe; mu_ guards the maps. Lookups share the lock,
// or take none when the thread's last lookup is still valid: each thread
// remembers its last name and id with the table's generation, which a Drop
// changes. Borrows the store, which must outlive it.
class NamespaceTable {
 public:
  explicit NamespaceTable(storage::Store* store);

  // Reads the store's namespaces.
  [[nodiscard]] Status Load();
  // The id of the namespace if it exists; false otherwise.
  bool Find(std::string_view name, std::uint32_t* id) const;
  // The namespace, created in the store when it does not exist yet.
  [[nodiscard]] Status Open(std::string_view name, storage::Namespace* ns);
  // Removes it from the store; its id afterwards is no longer live.
  [[nodiscard]] Status Drop(std::string_view name, storage::Namespace* dropped);
  // Without a lock when the id is the thread's last lookup and no Drop
  // came since.
  bool IsLive(std::uint32_t id) const;
  // The name of an id, live or dropped (L1 tells of the removal of a dropped
  // namespace's entries after the drop); empty when none.
  std::string NameOf(std::uint32_t id) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  // The id of `name` as this thread last looked it up, if that is still valid.
  bool FindRemembered(std::string_view name, std::uint32_t* id) const;
  void Remember(const storage::Namespace& ns) const;

  storage::Store* const store_;
  // Unique across all tables of the process, so that a thread's memory of
  // one table is never taken for another's.
  std::atomic<std::uint64_t> generation_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, storage::Namespace, Hash, std::equal_to<>> by_name_;
  std::unordered_map<std::uint32_t, std::string> by_id_;
  // The store never hands out an id twice, so a dropped id keeps its name: one
  // small entry per namespace dropped while the cache is open.
  std::unordered_map<std::uint32_t, std::string> dropped_;
};

}  // namespace tiercache::engine
