#include "engine/lfu_policy.h"

#include <algorithm>

namespace tiercache::engine {

LfuPolicy::LfuPolicy(const Config& config, const PolicyContext& context)
    : ageing_(config.ageing), arena_(context.arena) {}

std::uint64_t LfuPolicy::CountOf(Handle h) const {
  return buckets_[arena_->Get(h)->policy_bits()].count;
}

void LfuPolicy::Insert(Handle h, std::uint64_t) {
  const std::uint64_t count = floor_ + 1;
  std::uint32_t b = lowest_;
  // Every resident count is at least the floor, so `count` belongs at the
  // front or right after the first bucket.
  if (b == kNoBucket || buckets_[b].count > count) {
    b = NewBucket(count, kNoBucket, lowest_);
  } else if (buckets_[b].count < count) {
    b = BucketAfter(b, count);
  }
  if (b == kNoBucket) b = lowest_;  // no bucket index left: join the lowest
  Join(b, h);
  ++size_;
}

void LfuPolicy::Access(Handle h, std::uint64_t) {
  const std::uint32_t from = arena_->Get(h)->policy_bits();
  const std::uint32_t to = BucketAfter(from, buckets_[from].count + 1);
  if (to == kNoBucket) {  // no bucket index left: the count stays
    buckets_[from].entries.MoveToBack(*arena_, h);
    return;
  }
  Leave(h);
  Join(to, h);
}

void LfuPolicy::Remove(Handle h) {
  Leave(h);
  --size_;
}

Handle LfuPolicy::Victim() {
  if (lowest_ == kNoBucket) return kNoHandle;
  if (ageing_) floor_ = buckets_[lowest_].count;
  return buckets_[lowest_].entries.front();
}

// The bucket holding `count` right after `before`, made when missing.
std::uint32_t LfuPolicy::BucketAfter(std::uint32_t before, std::uint64_t count) {
  const std::uint32_t next = buckets_[before].next;
  if (next != kNoBucket && buckets_[next].count == count) return next;
  return NewBucket(count, before, next);
}

std::uint32_t LfuPolicy::NewBucket(std::uint64_t count, std::uint32_t prev, std::uint32_t next) {
  std::uint32_t b;
  if (!free_buckets_.empty()) {
    b = free_buckets_.back();
    free_buckets_.pop_back();
  } else if (buckets_.size() < kNoBucket) {
    // The free list has room for every bucket, so that freeing one (on a
    // removal) never allocates: an allocation the system refuses comes here,
    // before anything changed.
    if (free_buckets_.capacity() <= buckets_.size()) {
      free_buckets_.reserve(std::max<std::size_t>(2 * buckets_.size(), 16));
    }
    b = static_cast<std::uint32_t>(buckets_.size());
    buckets_.emplace_back();
  } else {
    return kNoBucket;
  }
  buckets_[b] = Bucket{count, NodeList{}, prev, next};
  if (prev != kNoBucket) {
    buckets_[prev].next = b;
  } else {
    lowest_ = b;
  }
  if (next != kNoBucket) buckets_[next].prev = b;
  return b;
}

void LfuPolicy::Join(std::uint32_t bucket, Handle h) {
  buckets_[bucket].entries.PushBack(*arena_, h);
  arena_->Get(h)->set_policy_bits(bucket);
}

// Takes h out of its bucket and frees the bucket when it empties.
void LfuPolicy::Leave(Handle h) {
  const std::uint32_t b = arena_->Get(h)->policy_bits();
  Bucket& bucket = buckets_[b];
  bucket.entries.Remove(*arena_, h);
  if (!bucket.entries.empty()) return;
  if (bucket.prev != kNoBucket) {
    buckets_[bucket.prev].next = bucket.next;
  } else {
    lowest_ = bucket.next;
  }
  if (bucket.next != kNoBucket) buckets_[bucket.next].prev = bucket.prev;
  free_buckets_.push_back(b);
}

}  // namespace tiercache::engine
