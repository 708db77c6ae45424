// The in-memory tier's contract: bounds, expiry, dirty pinning, the removal
// listener, statistics and namespaces, for every policy where it applies.
#include "engine/memory_tier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "engine/key_hash.h"
#include "engine/metadata_codec.h"

namespace tiercache::engine {
namespace {

using std::chrono::milliseconds;

class MemoryTierTest : public ::testing::TestWithParam<EvictionPolicy> {
 protected:
  // A tier of one shard unless told otherwise, recording every removal.
  void Make(std::size_t max_entries, std::size_t max_bytes = 1 << 20, std::size_t shards = 1) {
    MemoryTierOptions o;
    o.policy = GetParam();
    o.max_entries = max_entries;
    o.max_bytes = max_bytes;
    o.shards = shards;
    o.default_ttl = default_ttl_;
    o.listener = [this](const Removal& r) { removals_.push_back(r); };
    ASSERT_TRUE(MemoryTier::Create(o, &tier_).ok());
  }

  Status Put(const std::string& key, const std::string& value, TierWrite w = {}) {
    w.key = key;
    w.value = value;
    return tier_->Insert(w, clock_->Now());
  }
  std::string Get(const std::string& key) {
    std::string value;
    return tier_->LookupValue(0, key, clock_->Now(), &value) ? value : "<miss>";
  }
  int Count(RemovalCause cause) const {
    int n = 0;
    for (const Removal& r : removals_) n += r.cause == cause ? 1 : 0;
    return n;
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  milliseconds default_ttl_{0};
  std::unique_ptr<MemoryTier> tier_;
  std::vector<Removal> removals_;
};

TEST_P(MemoryTierTest, ReturnsWhatWasPut) {
  Make(10);
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(Put("b", "2").ok());
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "2");
  EXPECT_EQ(Get("c"), "<miss>");
}

TEST_P(MemoryTierTest, ReplacingReportsTheOldEntry) {
  Make(10);
  ASSERT_TRUE(Put("a", "1").ok());
  ASSERT_TRUE(Put("a", "2").ok());
  EXPECT_EQ(Get("a"), "2");
  ASSERT_EQ(removals_.size(), 1u);
  EXPECT_EQ(removals_[0].value, "1");
  EXPECT_EQ(removals_[0].cause, RemovalCause::kReplaced);
}

TEST_P(MemoryTierTest, NeverHoldsMoreEntriesThanItsCapacity) {
  Make(8);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Put(std::to_string(i), "v").ok());
  EXPECT_EQ(tier_->Stats().entries, 8u);
  EXPECT_EQ(Count(RemovalCause::kCapacity), 92);
  EXPECT_EQ(tier_->Stats().evicted, 92u);
}

// The entry bound is the tier's, not each shard's: shards that split it
// unevenly must not add up to more.
TEST_P(MemoryTierTest, ShardsTogetherNeverHoldMoreEntriesThanTheTier) {
  Make(17, 1 << 20, 16);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(Put(std::to_string(i), "v").ok());
  EXPECT_EQ(tier_->Stats().entries, 17u);
}

// An entry bound far above what the bytes can hold leaves the bytes to bound
// the tier: nothing may be sized by it up front.
TEST_P(MemoryTierTest, AnEntryBoundBeyondTheBytesCostsNoMemory) {
  Make(std::size_t{1} << 40, 1 << 20);
  ASSERT_TRUE(Put("a", "1").ok());
  EXPECT_EQ(Get("a"), "1");
}

TEST_P(MemoryTierTest, NeverChargesMoreBytesThanItsBudget) {
  Make(1000, 4096);
  const std::string value(300, 'x');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Put(std::to_string(i), value).ok());
  const TierStats s = tier_->Stats();
  EXPECT_LE(s.bytes, 4096u);
  // Each entry is charged its value, key, 52-byte header and table slot.
  EXPECT_GE(s.bytes, s.entries * (300 + 52));
  EXPECT_LT(s.entries, 12u);
}

TEST_P(MemoryTierTest, LargeValuesAreChargedAndFreedExactly) {
  Make(1000, 64 * 1024);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(Put(std::to_string(i), std::string(3000 + 100 * i, 'x')).ok());
  }
  EXPECT_LE(tier_->Stats().bytes, 64u * 1024);
  EXPECT_EQ(Get("39"), std::string(6900, 'x'));
  for (int i = 0; i < 40; ++i) tier_->Erase(0, std::to_string(i), RemovalCause::kDeleted);
  EXPECT_EQ(tier_->Stats().bytes, 0u);
  EXPECT_EQ(tier_->Stats().entries, 0u);
}

TEST_P(MemoryTierTest, RefusesAnEntryLargerThanAShard) {
  Make(100, 4096);
  EXPECT_TRUE(Put("big", std::string(5000, 'x')).IsInvalidArgument());
}

// The newer version is written below L1 all the same: the older one must not
// stay in L1, and goes as replaced.
TEST_P(MemoryTierTest, AnEntryLargerThanAShardStillReplacesTheOlderVersion) {
  Make(100, 4096);
  ASSERT_TRUE(Put("k", "1").ok());
  EXPECT_TRUE(Put("k", std::string(5000, 'x')).IsInvalidArgument());
  EXPECT_EQ(Get("k"), "<miss>");
  EXPECT_EQ(Count(RemovalCause::kReplaced), 1);
  EXPECT_EQ(tier_->Stats().bytes, 0u);
}

TEST_P(MemoryTierTest, ExpiredEntryIsNeverReturned) {
  Make(10);
  TierWrite w;
  w.ttl = milliseconds(100);
  ASSERT_TRUE(Put("a", "1", w).ok());
  clock_->Advance(milliseconds(99));
  EXPECT_EQ(Get("a"), "1");
  clock_->Advance(milliseconds(1));
  EXPECT_EQ(Get("a"), "<miss>");
  EXPECT_EQ(Count(RemovalCause::kExpired), 1);
}

TEST_P(MemoryTierTest, DefaultTtlAppliesToWritesWithoutOne) {
  default_ttl_ = milliseconds(50);
  Make(10);
  ASSERT_TRUE(Put("a", "1").ok());
  TierWrite forever;
  forever.ttl = milliseconds(0);
  ASSERT_TRUE(Put("b", "2", forever).ok());
  clock_->Advance(milliseconds(60));
  EXPECT_EQ(Get("a"), "<miss>");
  EXPECT_EQ(Get("b"), "2");
}

TEST_P(MemoryTierTest, WritesReclaimExpiredEntriesWithoutReadingThem) {
  Make(1000);
  TierWrite w;
  w.ttl = milliseconds(10);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Put("old" + std::to_string(i), "v", w).ok());
  clock_->Advance(milliseconds(20));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Put("new" + std::to_string(i), "v").ok());
  EXPECT_EQ(tier_->Stats().entries, 50u);
  EXPECT_EQ(Count(RemovalCause::kExpired), 100);
}

TEST_P(MemoryTierTest, SweepReclaimsExpiredEntries) {
  Make(1000, 1 << 20, 4);
  TierWrite w;
  w.ttl = milliseconds(10);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(Put(std::to_string(i), "v", w).ok());
  clock_->Advance(milliseconds(10));
  EXPECT_EQ(tier_->Sweep(1000, clock_->Now()), 40u);
  EXPECT_EQ(tier_->Stats().entries, 0u);
  EXPECT_EQ(tier_->Stats().bytes, 0u);
}

TEST_P(MemoryTierTest, ExpiredEntriesAreEvictedBeforeLiveOnes) {
  Make(4);
  TierWrite w;
  w.ttl = milliseconds(10);
  ASSERT_TRUE(Put("live1", "v").ok());
  ASSERT_TRUE(Put("dead", "v", w).ok());
  ASSERT_TRUE(Put("live2", "v").ok());
  ASSERT_TRUE(Put("live3", "v").ok());
  clock_->Advance(milliseconds(10));
  tier_->Sweep(0, clock_->Now());
  ASSERT_TRUE(Put("live4", "v").ok());
  EXPECT_EQ(Count(RemovalCause::kCapacity), 0);
  EXPECT_EQ(Get("live1"), "v");
}

TEST_P(MemoryTierTest, DirtyEntryIsNeverEvictedUntilMarkedClean) {
  Make(4);
  TierWrite dirty;
  dirty.dirty = true;
  dirty.version = 7;
  ASSERT_TRUE(Put("pinned", "v", dirty).ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Put(std::to_string(i), "v").ok());
  EXPECT_EQ(Get("pinned"), "v");
  EXPECT_FALSE(tier_->MarkClean(0, "pinned", 6, clock_->Now()));  // a newer write owns it
  EXPECT_TRUE(tier_->MarkClean(0, "pinned", 7, clock_->Now()));
  for (int i = 50; i < 100; ++i) ASSERT_TRUE(Put(std::to_string(i), "v").ok());
  EXPECT_EQ(Get("pinned"), "<miss>");
}

TEST_P(MemoryTierTest, ExpiredDirtyEntryStaysUntilMarkedClean) {
  Make(10);
  TierWrite w;
  w.dirty = true;
  w.version = 1;
  w.ttl = milliseconds(5);
  ASSERT_TRUE(Put("a", "1", w).ok());
  clock_->Advance(milliseconds(10));
  EXPECT_EQ(Get("a"), "<miss>");
  EXPECT_EQ(tier_->Sweep(100, clock_->Now()), 0u);
  EXPECT_EQ(tier_->Stats().entries, 1u);
  EXPECT_TRUE(tier_->MarkClean(0, "a", 1, clock_->Now()));
  EXPECT_EQ(tier_->Stats().entries, 0u);
  EXPECT_EQ(Count(RemovalCause::kExpired), 1);
}

TEST_P(MemoryTierTest, AFullShardOfDirtyEntriesRefusesNewOnes) {
  Make(2);
  TierWrite w;
  w.dirty = true;
  ASSERT_TRUE(Put("a", "1", w).ok());
  ASSERT_TRUE(Put("b", "2", w).ok());
  EXPECT_TRUE(Put("c", "3").IsBusy());
  EXPECT_EQ(Get("a"), "1");
}

TEST_P(MemoryTierTest, EraseReportsAndForgets) {
  Make(10);
  ASSERT_TRUE(Put("a", "1").ok());
  EXPECT_TRUE(tier_->Erase(0, "a", RemovalCause::kDeleted));
  EXPECT_FALSE(tier_->Erase(0, "a", RemovalCause::kDeleted));
  EXPECT_EQ(Get("a"), "<miss>");
  EXPECT_EQ(Count(RemovalCause::kDeleted), 1);
  EXPECT_EQ(tier_->Stats().bytes, 0u);
}

TEST_P(MemoryTierTest, NamespacesKeepEqualKeysApart) {
  Make(100, 1 << 20, 4);
  for (std::uint32_t ns = 1; ns <= 3; ++ns) {
    for (int i = 0; i < 10; ++i) {
      TierWrite w;
      w.ns = ns;
      ASSERT_TRUE(Put(std::to_string(i), std::to_string(ns), w).ok());
    }
  }
  EXPECT_EQ(tier_->EraseNamespace(2), 10u);
  std::string value;
  EXPECT_TRUE(tier_->LookupValue(1, "5", clock_->Now(), &value));
  EXPECT_EQ(value, "1");
  EXPECT_FALSE(tier_->LookupValue(2, "5", clock_->Now(), &value));
  EXPECT_TRUE(tier_->LookupValue(3, "5", clock_->Now(), &value));
  EXPECT_EQ(tier_->Stats().entries, 20u);
}

// A caller that hashed the key once hands the hash to Insert and the key to
// the lookups: each finds the entry the other placed, in any shard.
TEST_P(MemoryTierTest, AKeyHashedOnceIsFoundByEveryLookup) {
  Make(100, 1 << 20, 8);
  for (int i = 0; i < 50; ++i) {
    const std::string key = "key" + std::to_string(i);
    const HashedKey hashed(7, key);
    TierWrite w;
    w.ns = 7;
    w.hash = hashed.hash;
    ASSERT_TRUE(Put(key, std::to_string(i), w).ok());
    std::string value;
    ASSERT_TRUE(tier_->LookupValue(7, key, clock_->Now(), &value)) << key;
    EXPECT_EQ(value, std::to_string(i));
    Entry entry;
    ASSERT_TRUE(tier_->Lookup(hashed, clock_->Now(), &entry)) << key;
    EXPECT_EQ(entry.value, std::to_string(i));
    EXPECT_TRUE(tier_->Erase(7, key, RemovalCause::kDeleted)) << key;
  }
  EXPECT_EQ(tier_->Stats().entries, 0u);
}

TEST_P(MemoryTierTest, LookupCopiesEveryFieldAndCountsAccesses) {
  Make(10);
  const std::map<std::string, std::string> metadata{{"type", "json"}, {"etag", "x1"}};
  TierWrite w;
  w.version = 42;
  w.ttl = milliseconds(1000);
  w.metadata = &metadata;
  const TimePoint written = clock_->Now();
  ASSERT_TRUE(Put("k", "value", w).ok());
  clock_->Advance(milliseconds(5));
  Entry e;
  ASSERT_TRUE(tier_->Lookup(0, "k", clock_->Now(), &e));
  ASSERT_TRUE(tier_->Lookup(0, "k", clock_->Now(), &e));
  EXPECT_EQ(e.key, "k");
  EXPECT_EQ(e.value, "value");
  EXPECT_EQ(e.version, 42u);
  EXPECT_EQ(e.created_at, written);
  EXPECT_EQ(e.expires_at, written + milliseconds(1000));
  EXPECT_EQ(e.last_accessed, written + milliseconds(5));
  EXPECT_EQ(e.access_count, 2u);
  EXPECT_EQ(e.metadata, metadata);
}

// The entry that evicts one of its size takes over the victim's slot: the
// victim is reported whole, and nothing of it shows through the new entry.
TEST_P(MemoryTierTest, AnEntryInAVictimsSlotKeepsNothingOfIt) {
  Make(1);
  const std::map<std::string, std::string> metadata{{"type", "json"}};
  TierWrite full;
  full.version = 7;
  full.ttl = milliseconds(1000);
  full.metadata = &metadata;
  ASSERT_TRUE(Put("aaaa", "1111", full).ok());
  ASSERT_EQ(tier_->Stats().entries, 1u);
  const std::uint64_t charged = tier_->Stats().bytes;
  // As long as the metadata, so that the two nodes are of one size.
  const std::string value(4 + MetadataBytes(metadata), 'v');
  ASSERT_TRUE(Put("bbbb", value).ok());

  ASSERT_EQ(removals_.size(), 1u);
  EXPECT_EQ(removals_[0].key, "aaaa");
  EXPECT_EQ(removals_[0].value, "1111");
  EXPECT_EQ(removals_[0].version, 7u);
  EXPECT_EQ(removals_[0].cause, RemovalCause::kCapacity);
  Entry e;
  ASSERT_TRUE(tier_->Lookup(0, "bbbb", clock_->Now(), &e));
  EXPECT_EQ(e.value, value);
  EXPECT_EQ(e.version, 0u);
  EXPECT_FALSE(e.expires_at.has_value());
  EXPECT_TRUE(e.metadata.empty());
  EXPECT_EQ(e.access_count, 1u);
  EXPECT_FALSE(tier_->Lookup(0, "aaaa", clock_->Now(), &e));
  EXPECT_EQ(tier_->Stats().entries, 1u);
  EXPECT_EQ(tier_->Stats().bytes, charged);
}

TEST_P(MemoryTierTest, ANewVersionKeepsTheAccessHistory) {
  Make(10);
  ASSERT_TRUE(Put("k", "1").ok());
  Get("k");
  Get("k");
  ASSERT_TRUE(Put("k", "2").ok());
  Entry e;
  ASSERT_TRUE(tier_->Lookup(0, "k", clock_->Now(), &e));
  EXPECT_EQ(e.access_count, 3u);
}

// Two readers may refill L1 with the same version read from below: the second
// changes nothing and replaces nothing; a refill of a newer version does.
TEST_P(MemoryTierTest, ARefillOfTheVersionHeldChangesNothing) {
  Make(10);
  TierWrite held;
  held.version = 7;
  ASSERT_TRUE(Put("k", "1", held).ok());
  Get("k");
  TierWrite refill;
  refill.version = 7;
  refill.refill = true;
  refill.access_count = 0;
  ASSERT_TRUE(Put("k", "1", refill).ok());
  EXPECT_TRUE(removals_.empty());
  Entry e;
  ASSERT_TRUE(tier_->Lookup(0, "k", clock_->Now(), &e));
  EXPECT_EQ(e.access_count, 2u);
  refill.version = 8;
  ASSERT_TRUE(Put("k", "2", refill).ok());
  EXPECT_EQ(Get("k"), "2");
  EXPECT_EQ(Count(RemovalCause::kReplaced), 1);
}

// A copy read from below before a write reached L1 is older than what the
// write put there: it changes nothing either.
TEST_P(MemoryTierTest, ARefillNeverReplacesANewerVersion) {
  Make(10);
  TierWrite written;
  written.version = 8;
  ASSERT_TRUE(Put("k", "new", written).ok());
  TierWrite refill;
  refill.version = 7;
  refill.refill = true;
  ASSERT_TRUE(Put("k", "old", refill).ok());
  EXPECT_EQ(Get("k"), "new");
  EXPECT_TRUE(removals_.empty());
}

// A refill read without the key's lock goes in only if its check holds: one
// whose key was written meanwhile (the sequence moved on) leaves the tier as it
// is, even where the key is absent (a delete, or an eviction, came after the
// write), so that the older copy cannot take the newer write's place.
TEST_P(MemoryTierTest, ARefillWhoseCheckFailsLeavesTheTierAsItIs) {
  Make(10);
  std::atomic<std::uint32_t> sequence{4};
  const FillCheck check{&sequence, 4};
  TierWrite refill;
  refill.version = 7;
  refill.refill = true;
  refill.fill_check = &check;
  sequence.store(6);
  ASSERT_TRUE(Put("absent", "old", refill).ok());
  EXPECT_EQ(Get("absent"), "<miss>");
  TierWrite written;
  written.version = 5;
  ASSERT_TRUE(Put("held", "older", written).ok());
  ASSERT_TRUE(Put("held", "old", refill).ok());
  EXPECT_EQ(Get("held"), "older");
  EXPECT_EQ(tier_->Stats().inserts, 1u);
  EXPECT_TRUE(removals_.empty());
  sequence.store(4);
  ASSERT_TRUE(Put("absent", "old", refill).ok());
  EXPECT_EQ(Get("absent"), "old");
  ASSERT_TRUE(Put("held", "old", refill).ok());
  EXPECT_EQ(Get("held"), "old");
}

TEST_P(MemoryTierTest, StatisticsCountHitsMissesAndRatio) {
  Make(10);
  ASSERT_TRUE(Put("a", "1").ok());
  Get("a");
  Get("a");
  Get("a");
  Get("b");
  const TierStats s = tier_->Stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_DOUBLE_EQ(s.hit_ratio(), 0.75);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_EQ(s.entries, 1u);
}

TEST_P(MemoryTierTest, ListenerMayCallBackIntoTheTier) {
  MemoryTierOptions o;
  o.policy = GetParam();
  o.max_entries = 2;
  o.shards = 1;
  int calls = 0;
  o.listener = [this, &calls](const Removal& r) {
    ++calls;
    std::string v;
    tier_->LookupValue(0, r.key, clock_->Now(), &v);
  };
  ASSERT_TRUE(MemoryTier::Create(o, &tier_).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Put(std::to_string(i), "v").ok());
  EXPECT_EQ(calls, 3);
}

TEST_P(MemoryTierTest, RejectsBadOptions) {
  MemoryTierOptions o;
  o.policy = GetParam();
  std::unique_ptr<MemoryTier> t;
  o.shards = 3;
  EXPECT_TRUE(MemoryTier::Create(o, &t).IsInvalidArgument());
  o.shards = 16;
  o.max_entries = 8;
  EXPECT_TRUE(MemoryTier::Create(o, &t).IsInvalidArgument());
}

// Both bounds at their largest leave the adaptive policy a shard it cannot
// track (its ghost lists index with 32 bits): a clear refusal at creation,
// before anything is allocated, rather than an exception or terabytes.
TEST(MemoryTierCreateTest, TheAdaptivePolicyRefusesAShardItCannotTrack) {
  MemoryTierOptions o;
  o.policy = EvictionPolicy::kAdaptive;
  o.max_entries = std::size_t{1} << 40;
  o.max_bytes = std::size_t{1} << 50;
  o.shards = 16;
  std::unique_ptr<MemoryTier> tier;
  const Status s = MemoryTier::Create(o, &tier);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(),
            "the adaptive policy cannot track 68719476736 entries in a shard (at most 2^31): "
            "lower l1_max_entries or l1_max_bytes, or raise l1_shards");
  EXPECT_EQ(tier, nullptr);
  o.max_bytes = std::size_t{64} << 20;  // the bytes bound a shard to about 60,000 entries
  EXPECT_TRUE(MemoryTier::Create(o, &tier).ok());
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, MemoryTierTest,
                         ::testing::Values(EvictionPolicy::kLRU, EvictionPolicy::kLFU,
                                           EvictionPolicy::kFIFO, EvictionPolicy::kTTL,
                                           EvictionPolicy::kAdaptive),
                         [](const auto& info) { return std::string(Name(info.param)); });

}  // namespace
}  // namespace tiercache::engine
