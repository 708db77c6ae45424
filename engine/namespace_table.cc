#include "engine/namespace_table.h"

#include <mutex>
#include <vector>

namespace tiercache::engine {
namespace {

std::uint64_t NewGeneration() {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// A thread's last lookup in any table.
struct Remembered {
  std::uint64_t generation = 0;  // 0: nothing remembered
  std::uint32_t id = 0;
  std::string name;
};
thread_local Remembered remembered;

}  // namespace

NamespaceTable::NamespaceTable(storage::Store* store)
    : store_(store), generation_(NewGeneration()) {}

bool NamespaceTable::FindRemembered(std::string_view name, std::uint32_t* id) const {
  if (remembered.generation != generation_.load(std::memory_order_acquire) ||
      remembered.name != name) {
    return false;
  }
  *id = remembered.id;
  return true;
}

// REQUIRES: mu_ held, so that the generation read is the one of `ns`.
void NamespaceTable::Remember(const storage::Namespace& ns) const {
  remembered.generation = generation_.load(std::memory_order_relaxed);
  remembered.id = ns.id;
  remembered.name = ns.name;
}

Status NamespaceTable::Load() {
  std::vector<storage::Namespace> namespaces;
  Status s = store_->ListNamespaces(&namespaces);
  if (!s.ok()) return s;
  std::unique_lock lock(mu_);
  for (storage::Namespace& ns : namespaces) {
    by_id_[ns.id] = ns.name;
    by_name_[ns.name] = std::move(ns);
  }
  return Status::OK();
}

bool NamespaceTable::Find(std::string_view name, std::uint32_t* id) const {
  if (FindRemembered(name, id)) return true;
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  *id = it->second.id;
  Remember(it->second);
  return true;
}

Status NamespaceTable::Open(std::string_view name, storage::Namespace* ns) {
  std::uint32_t id = 0;
  if (FindRemembered(name, &id)) {
    ns->id = id;
    ns->name = name;
    return Status::OK();
  }
  {
    std::shared_lock lock(mu_);
    auto it = by_name_.find(name);
    if (it != by_name_.end()) {
      *ns = it->second;
      Remember(*ns);
      return Status::OK();
    }
  }
  std::unique_lock lock(mu_);
  Status s = store_->OpenNamespace(name, ns);
  if (!s.ok()) return s;
  by_id_[ns->id] = ns->name;
  by_name_[ns->name] = *ns;
  Remember(*ns);
  return Status::OK();
}

Status NamespaceTable::Drop(std::string_view name, storage::Namespace* dropped) {
  std::unique_lock lock(mu_);
  auto it = by_name_.find(name);
  // What can allocate comes before the drop and is undone after a failure:
  // a namespace dropped in the store is always gone from here.
  if (it != by_name_.end()) {
    *dropped = it->second;
    dropped_.emplace(it->second.id, it->second.name);
  }
  Status s = store_->DropNamespace(name);
  if (!s.ok()) {
    if (it != by_name_.end()) dropped_.erase(it->second.id);
    return s;
  }
  if (it != by_name_.end()) {
    by_id_.erase(it->second.id);
    by_name_.erase(it);
    generation_.store(NewGeneration(), std::memory_order_release);
  }
  return Status::OK();
}

bool NamespaceTable::IsLive(std::uint32_t id) const {
  if (remembered.generation == generation_.load(std::memory_order_acquire) &&
      remembered.id == id) {
    return true;
  }
  std::shared_lock lock(mu_);
  return by_id_.count(id) != 0;
}

std::string NamespaceTable::NameOf(std::uint32_t id) const {
  std::shared_lock lock(mu_);
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  auto it = dropped_.find(id);
  return it == dropped_.end() ? std::string() : it->second;
}

}  // namespace tiercache::engine
