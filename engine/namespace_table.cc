#include "engine/namespace_table.h"

#include <mutex>
#include <vector>

namespace tiercache::engine {

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
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  *id = it->second.id;
  return true;
}

Status NamespaceTable::Open(std::string_view name, storage::Namespace* ns) {
  {
    std::shared_lock lock(mu_);
    auto it = by_name_.find(name);
    if (it != by_name_.end()) {
      *ns = it->second;
      return Status::OK();
    }
  }
  std::unique_lock lock(mu_);
  Status s = store_->OpenNamespace(name, ns);
  if (!s.ok()) return s;
  by_id_[ns->id] = ns->name;
  by_name_[ns->name] = *ns;
  return Status::OK();
}

Status NamespaceTable::Drop(std::string_view name, storage::Namespace* dropped) {
  std::unique_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it != by_name_.end()) *dropped = it->second;
  Status s = store_->DropNamespace(name);
  if (!s.ok()) return s;
  if (it != by_name_.end()) {
    by_id_.erase(it->second.id);
    by_name_.erase(it);
  }
  return Status::OK();
}

bool NamespaceTable::IsLive(std::uint32_t id) const {
  std::shared_lock lock(mu_);
  return by_id_.count(id) != 0;
}

std::string NamespaceTable::NameOf(std::uint32_t id) const {
  std::shared_lock lock(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? std::string() : it->second;
}

}  // namespace tiercache::engine
