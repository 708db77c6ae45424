#include "engine/expiry_heap.h"

#include <algorithm>

namespace tiercache::engine {
namespace {

constexpr std::size_t kMinCompactSize = 64;

// std::*_heap build a max-heap: reverse the order for the soonest on top.
struct Later {
  template <typename Item>
  bool operator()(const Item& a, const Item& b) const {
    return a.expires_ms > b.expires_ms;
  }
};

}  // namespace

void ExpiryHeap::Push(std::uint64_t expires_ms, std::uint64_t hash, Handle h) {
  // Stale items may outnumber live ones only by a constant factor, which
  // keeps both memory and the amortised cost of popping them bounded.
  if (heap_.size() >= kMinCompactSize && heap_.size() >= 2 * table_->size()) Compact();
  heap_.push_back(Item{expires_ms, hash, h});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

Handle ExpiryHeap::PopValid(std::uint64_t limit_ms) {
  while (!heap_.empty() && heap_.front().expires_ms <= limit_ms) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Item item = heap_.back();
    heap_.pop_back();
    if (Valid(item)) return item.handle;
  }
  return kNoHandle;
}

bool ExpiryHeap::Valid(const Item& item) const {
  if (table_->FindHandle(item.hash, item.handle) == HandleTable::kNotFound) return false;
  const Node* n = arena_->Get(item.handle);
  return !n->dirty() && n->expires_ms() == item.expires_ms;
}

void ExpiryHeap::Compact() {
  std::erase_if(heap_, [this](const Item& item) { return !Valid(item); });
  // A node pinned and unpinned again is pushed twice: keep one item.
  std::sort(heap_.begin(), heap_.end(), [](const Item& a, const Item& b) {
    return a.handle != b.handle ? a.handle < b.handle : a.expires_ms < b.expires_ms;
  });
  heap_.erase(std::unique(heap_.begin(), heap_.end(),
                          [](const Item& a, const Item& b) {
                            return a.handle == b.handle && a.expires_ms == b.expires_ms;
                          }),
              heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

}  // namespace tiercache::engine
