#pragma once

// The longer methods of TierShard, apart so that tier_shard.h reads as its
// interface. Included by tier_shard.h only.

#include <fmt/format.h>

namespace tiercache::engine {

template <typename Policy>
void TierShard<Policy>::CopyEntry(const Node& n, Entry* out) {
  out->key.assign(n.key());
  out->value.assign(n.value());
  out->created_at = FromMillis(n.created_ms());
  out->expires_at.reset();
  if (n.expires_ms() != 0) out->expires_at = FromMillis(n.expires_ms());
  out->last_accessed = FromMillis(n.last_access_ms());
  out->access_count = n.access_count();
  out->version = n.version();
  if (n.has_metadata()) {
    DecodeMetadata(n.metadata().data(), &out->metadata);
  } else {
    out->metadata.clear();
  }
}

template <typename Policy>
Status TierShard<Policy>::Insert(const TierWrite& w, std::uint64_t hash, std::uint64_t now,
                                 std::uint64_t expires_ms, Removals removed) {
  const std::size_t metadata_bytes = w.metadata != nullptr ? MetadataBytes(*w.metadata) : 0;
  const std::size_t node_bytes = Node::Bytes(w.key.size(), w.value.size(), metadata_bytes);
  const std::uint64_t created = w.created_at ? ToMillis(*w.created_at) : now;
  std::uint64_t count = 0;
  std::uint64_t last_access = created;

  std::lock_guard lock(mu_);
  if (w.fill_check != nullptr && !w.fill_check->Unchanged()) return Status::OK();
  ReclaimExpired(now, limits_.sweep_per_write, removed);
  const std::size_t slot = FindSlot(w.ns, w.key, hash);
  if (slot != HandleTable::kNotFound) {
    const Handle old = table_.at(slot);
    if (w.refill && arena_.Get(old)->version() >= w.version) return Status::OK();
    count = arena_.Get(old)->access_count();
    last_access = arena_.Get(old)->last_access_ms();
    RemoveAt(slot, old, RemovalCause::kReplaced, removed);
  }
  const std::size_t charge = Charge(node_bytes);
  // Checked once the older version is gone: a newer one that L1 cannot hold
  // still replaces it.
  if (charge > limits_.max_bytes) {
    return Status::InvalidArgument(
        fmt::format("an entry of {} bytes does not fit a shard of the in-memory tier", node_bytes));
  }
  Handle spare = kNoHandle;
  if (Status s = MakeRoom(charge, node_bytes, now, removed, &spare); !s.ok()) return s;
  const Handle h = NewNode(w, node_bytes, metadata_bytes, spare);
  if (h == kNoHandle) return Status::NoSpace("the in-memory tier could not allocate a node");

  Node* n = arena_.Get(h);
  n->set_created_ms(created);
  n->set_expires_ms(expires_ms);
  n->set_access_count(w.access_count.value_or(count));
  n->set_last_access_ms(w.last_accessed ? ToMillis(*w.last_accessed) : last_access);
  n->set_dirty(w.dirty);
  if (!Track(hash, h)) {
    arena_.Free(h);
    return Status::NoSpace("the in-memory tier could not index a node");
  }
  bytes_ += charge;
  ++counters_.inserts;
  return Status::OK();
}

// Puts a new node in the table and, unless dirty, in the policy and the expiry
// heap. False when the system refused memory for the table or the policy: the
// node is then in neither. A node the heap has no room for stays out of it; it
// is still found expired when looked up, and evicted by the policy.
template <typename Policy>
inline bool TierShard<Policy>::Track(std::uint64_t hash, Handle h) {
  try {
    table_.Insert(hash, h);
  } catch (const std::bad_alloc&) {
    return false;
  }
  const Node* n = arena_.Get(h);
  if (n->dirty()) return true;
  try {
    policy_.Insert(h, hash);
  } catch (const std::bad_alloc&) {
    table_.EraseAt(table_.FindHandle(hash, h));
    return false;
  }
  if (n->expires_ms() != 0) {
    try {
      expiry_.Push(n->expires_ms(), hash, h);
    } catch (const std::bad_alloc&) {
    }
  }
  return true;
}

template <typename Policy>
Handle TierShard<Policy>::NewNode(const TierWrite& w, std::size_t node_bytes,
                                  std::size_t metadata_bytes, Handle spare) {
  const Handle h = spare != kNoHandle ? spare : arena_.Allocate(node_bytes);
  if (h == kNoHandle) return h;
  Node* n = arena_.Get(h);
  n->Init(w.ns, w.key, w.value);
  n->set_version(w.version);
  if (metadata_bytes != 0) {
    n->set_has_metadata(true);
    EncodeMetadata(*w.metadata, n->metadata_area());
  }
  return h;
}

// Evicts until `charge` more bytes and one more entry fit. Expired entries go
// first: they are dead weight. *spare: the slot of the first victim of the
// new node's size, kept for it (a full cache of like entries evicts one per
// insert, and its slot serves); kNoHandle when there is none.
template <typename Policy>
inline Status TierShard<Policy>::MakeRoom(std::size_t charge, std::size_t node_bytes, std::uint64_t now,
                                   Removals removed, Handle* spare) {
  while (table_.size() + 1 > limits_.max_entries || bytes_ + charge > limits_.max_bytes) {
    if (ReclaimExpired(now, 1, removed) != 0) continue;
    const Handle victim = policy_.Victim();
    if (victim == kNoHandle) {
      if (*spare != kNoHandle) arena_.Free(*spare);
      *spare = kNoHandle;
      return Status::Busy("the in-memory tier's shard is full of dirty entries not yet flushed");
    }
    const bool keep = *spare == kNoHandle && arena_.SameSize(victim, node_bytes);
    RemoveAt(SlotOf(victim), victim, RemovalCause::kCapacity, removed, keep);
    if (keep) *spare = victim;
  }
  return Status::OK();
}

template <typename Policy>
void TierShard<Policy>::RemoveAt(std::size_t slot, Handle h, RemovalCause cause, Removals removed,
                                 bool keep) {
  Node* n = arena_.Get(h);
  // A removal event the system has no memory for is lost; the removal is not.
  if (removed != nullptr) {
    try {
      removed->push_back(
          Removal{n->ns(), std::string(n->key()), std::string(n->value()), n->version(), cause});
    } catch (const std::bad_alloc&) {
    }
  }
  if (!n->dirty()) policy_.Remove(h);
  table_.EraseAt(slot);
  bytes_ -= Charge(n->bytes());
  ++counters_.removed[static_cast<int>(cause)];
  if (!keep) arena_.Free(h);
}

template <typename Policy>
inline std::size_t TierShard<Policy>::ReclaimExpired(std::uint64_t now, std::size_t max,
                                              Removals removed) {
  std::size_t done = 0;
  for (; done < max; ++done) {
    const Handle h = expiry_.PopValid(now);
    if (h == kNoHandle) break;
    RemoveAt(SlotOf(h), h, RemovalCause::kExpired, removed);
  }
  return done;
}

template <typename Policy>
bool TierShard<Policy>::MarkClean(std::uint32_t ns, std::string_view key, std::uint64_t hash,
                                  std::uint64_t version, std::uint64_t now, Removals removed) {
  std::lock_guard lock(mu_);
  const std::size_t slot = FindSlot(ns, key, hash);
  if (slot == HandleTable::kNotFound) return false;
  const Handle h = table_.at(slot);
  Node* n = arena_.Get(h);
  if (!n->dirty() || n->version() != version) return false;
  if (n->ExpiredAt(now)) {
    // Still dirty here, so RemoveAt leaves the policy alone: it never saw it.
    RemoveAt(slot, h, RemovalCause::kExpired, removed);
    return true;
  }
  policy_.Insert(h, hash);  // may throw: the node stays dirty
  n->set_dirty(false);
  if (n->expires_ms() != 0) expiry_.Push(n->expires_ms(), hash, h);
  return true;
}

template <typename Policy>
std::size_t TierShard<Policy>::EraseNamespace(std::uint32_t ns, Removals removed) {
  std::lock_guard lock(mu_);
  // In place, so that no allocation can stop it half way. An erase shifts
  // entries from later in the probe run back, into the slot just emptied,
  // which is therefore looked at again; an entry shifted around the end into
  // a slot already passed came from one already passed too.
  std::size_t erased = 0;
  for (std::size_t slot = 0; slot < table_.capacity(); ++slot) {
    for (Handle h = table_.at(slot); h != kNoHandle && arena_.Get(h)->ns() == ns;
         h = table_.at(slot)) {
      RemoveAt(slot, h, RemovalCause::kDeleted, removed);
      ++erased;
    }
  }
  return erased;
}

template <typename Policy>
void TierShard<Policy>::AddStats(TierStats* stats) const {
  std::lock_guard lock(mu_);
  stats->hits += counters_.hits;
  stats->misses += counters_.misses;
  stats->inserts += counters_.inserts;
  stats->evicted += counters_.removed[static_cast<int>(RemovalCause::kCapacity)];
  stats->expired += counters_.removed[static_cast<int>(RemovalCause::kExpired)];
  stats->erased += counters_.removed[static_cast<int>(RemovalCause::kDeleted)];
  stats->replaced += counters_.removed[static_cast<int>(RemovalCause::kReplaced)];
  stats->entries += table_.size();
  stats->bytes += bytes_;
}

}  // namespace tiercache::engine
