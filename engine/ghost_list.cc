#include "engine/ghost_list.h"

namespace tiercache::engine {

void GhostList::Add(std::uint64_t hash) {
  if (capacity_ == 0) return;
  const std::uint64_t seq = next_seq_++;
  live_[hash] = seq;
  order_.emplace_back(hash, seq);
  while (live_.size() > capacity_) {
    const auto [oldest, oldest_seq] = order_.front();
    order_.pop_front();
    const auto it = live_.find(oldest);
    if (it != live_.end() && it->second == oldest_seq) live_.erase(it);
  }
  if (order_.size() > 2 * capacity_ + 16) Compact();
}

// Drops stale records, which Take() and re-adding leave behind.
void GhostList::Compact() {
  std::deque<std::pair<std::uint64_t, std::uint64_t>> kept;
  for (const auto& record : order_) {
    const auto it = live_.find(record.first);
    if (it != live_.end() && it->second == record.second) kept.push_back(record);
  }
  order_.swap(kept);
}

}  // namespace tiercache::engine
