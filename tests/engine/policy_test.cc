// One typed suite that every eviction policy passes (STYLE.md rule 9), and
// the behaviour that tells each policy apart.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>

#include "engine/adaptive_policy.h"
#include "engine/fifo_policy.h"
#include "engine/key_hash.h"
#include "engine/lfu_policy.h"
#include "engine/lru_policy.h"
#include "engine/ttl_policy.h"
#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

constexpr std::size_t kCapacity = 64;

// A policy with the nodes, table and expiry heap a shard would give it.
template <typename Policy>
class PolicyHarness {
 public:
  explicit PolicyHarness(const typename Policy::Config& config = {})
      : table_(kCapacity),
        expiry_(&table_, &arena_),
        policy_(config, PolicyContext{&arena_, &expiry_, kCapacity}) {}

  ~PolicyHarness() {
    for (int key : Resident()) Drop(key);
  }

  // Adds `key`, expiring at `expires_ms` (0: never).
  void Add(int key, std::uint64_t expires_ms = 0) {
    const std::string k = std::to_string(key);
    const Handle h = arena_.Allocate(Node::Bytes(k.size(), 0, 0));
    arena_.Get(h)->Init(0, k, "");
    arena_.Get(h)->set_expires_ms(expires_ms);
    table_.Insert(HashKey(0, k), h);
    handles_[key] = h;
    policy_.Insert(h, HashKey(0, k));
    if (expires_ms != 0) expiry_.Push(expires_ms, HashKey(0, k), h);
  }
  void Hit(int key) { policy_.Access(handles_.at(key), HashKey(0, std::to_string(key))); }

  // Takes the victim out like a shard does; -1 when there is none.
  int Evict() {
    const Handle h = policy_.Victim();
    if (h == kNoHandle) return -1;
    const int key = std::stoi(std::string(arena_.Get(h)->key()));
    EXPECT_EQ(handles_.at(key), h);
    Drop(key);
    return key;
  }

  // Removes for another reason than eviction (erase, replace, pin).
  void Drop(int key) {
    const Handle h = handles_.at(key);
    policy_.Remove(h);
    table_.EraseAt(table_.FindHandle(HashKey(0, std::to_string(key)), h));
    arena_.Free(h);
    handles_.erase(key);
  }

  std::set<int> Resident() const {
    std::set<int> keys;
    for (const auto& [k, h] : handles_) keys.insert(k);
    return keys;
  }
  Policy& policy() { return policy_; }

 private:
  NodeArena arena_;
  HandleTable table_;
  ExpiryHeap expiry_;
  Policy policy_;
  std::map<int, Handle> handles_;
};

template <typename Policy>
class PolicyTest : public ::testing::Test {
 protected:
  PolicyHarness<Policy> p_;
};

using AllPolicies = ::testing::Types<LruPolicy, FifoPolicy, LfuPolicy, TtlPolicy, AdaptivePolicy>;
TYPED_TEST_SUITE(PolicyTest, AllPolicies);

TYPED_TEST(PolicyTest, EmptyPolicyHasNoVictim) {
  EXPECT_EQ(this->p_.policy().size(), 0u);
  EXPECT_EQ(this->p_.Evict(), -1);
}

TYPED_TEST(PolicyTest, SingleEntryIsTheVictim) {
  this->p_.Add(7);
  this->p_.Hit(7);
  EXPECT_EQ(this->p_.Evict(), 7);
  EXPECT_EQ(this->p_.Evict(), -1);
}

TYPED_TEST(PolicyTest, EvictingEverythingYieldsEachEntryOnce) {
  for (int k = 0; k < 40; ++k) this->p_.Add(k);
  for (int k = 0; k < 40; k += 3) this->p_.Hit(k);
  std::set<int> evicted;
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(evicted.insert(this->p_.Evict()).second);
  std::set<int> added;
  for (int k = 0; k < 40; ++k) added.insert(k);
  EXPECT_EQ(evicted, added);
  EXPECT_EQ(this->p_.Evict(), -1);
}

TYPED_TEST(PolicyTest, SizeCountsEntriesInAndOut) {
  for (int k = 0; k < 10; ++k) this->p_.Add(k);
  this->p_.Drop(3);
  this->p_.Drop(9);
  EXPECT_EQ(this->p_.policy().size(), 8u);
  this->p_.Evict();
  EXPECT_EQ(this->p_.policy().size(), 7u);
}

TYPED_TEST(PolicyTest, RemovedEntryIsNeverAVictim) {
  for (int k = 0; k < 20; ++k) this->p_.Add(k);
  for (int k = 0; k < 20; k += 2) this->p_.Drop(k);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(this->p_.Evict() % 2, 1);
}

TYPED_TEST(PolicyTest, VictimIsAlwaysResidentUnderRandomUse) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::cout << "seed " << seed << " (TIERCACHE_SEED=" << seed << " replays it)\n";
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  for (int step = 0; step < 5000; ++step) {
    const int key = static_cast<int>(rng() % 100);
    const std::set<int> resident = this->p_.Resident();
    if (resident.count(key)) {
      rng() % 4 == 0 ? this->p_.Drop(key) : this->p_.Hit(key);
    } else {
      if (resident.size() >= kCapacity) {
        EXPECT_TRUE(resident.count(this->p_.Evict()));
      }
      this->p_.Add(key);
    }
    ASSERT_EQ(this->p_.policy().size(), this->p_.Resident().size());
  }
}

TEST(LruPolicyTest, EvictsLeastRecentlyUsed) {
  PolicyHarness<LruPolicy> p;
  for (int k = 1; k <= 3; ++k) p.Add(k);
  p.Hit(1);
  EXPECT_EQ(p.Evict(), 2);
  EXPECT_EQ(p.Evict(), 3);
  EXPECT_EQ(p.Evict(), 1);
}

TEST(FifoPolicyTest, EvictsOldestInsertionWhateverTheHits) {
  PolicyHarness<FifoPolicy> p;
  for (int k = 1; k <= 3; ++k) p.Add(k);
  p.Hit(1);
  p.Hit(1);
  EXPECT_EQ(p.Evict(), 1);
  EXPECT_EQ(p.Evict(), 2);
}

TEST(LfuPolicyTest, EvictsLowestCountThenLeastRecentlyUsed) {
  PolicyHarness<LfuPolicy> p(LfuPolicy::Config{false});
  for (int k = 1; k <= 4; ++k) p.Add(k);
  p.Hit(1);
  p.Hit(1);
  p.Hit(3);
  p.Hit(2);
  EXPECT_EQ(p.Evict(), 4);  // count 1
  EXPECT_EQ(p.Evict(), 3);  // count 2, used before 2
  EXPECT_EQ(p.Evict(), 2);
  EXPECT_EQ(p.Evict(), 1);
}

TEST(LfuPolicyTest, AgeingLetsAOnceHotEntryGo) {
  PolicyHarness<LfuPolicy> p(LfuPolicy::Config{true});
  p.Add(0);
  for (int i = 0; i < 20; ++i) p.Hit(0);  // once hot, never used again
  // A working set of 4 keys, each used twice, churning through 4 slots.
  bool hot_evicted = false;
  for (int round = 0; round < 200 && !hot_evicted; ++round) {
    const int key = 1000 + round;
    if (p.Resident().size() >= 5) hot_evicted = p.Evict() == 0;
    p.Add(key);
    p.Hit(key);
  }
  EXPECT_TRUE(hot_evicted);
}

TEST(LfuPolicyTest, WithoutAgeingAOnceHotEntryStays) {
  PolicyHarness<LfuPolicy> p(LfuPolicy::Config{false});
  p.Add(0);
  for (int i = 0; i < 20; ++i) p.Hit(0);
  for (int round = 0; round < 200; ++round) {
    if (p.Resident().size() >= 5) {
      ASSERT_NE(p.Evict(), 0);
    }
    p.Add(1000 + round);
    p.Hit(1000 + round);
  }
}

TEST(TtlPolicyTest, EvictsSoonestExpiryThenLeastRecentlyUsed) {
  PolicyHarness<TtlPolicy> p;
  p.Add(1);
  p.Add(2, 5000);
  p.Add(3);
  p.Add(4, 3000);
  p.Hit(1);
  EXPECT_EQ(p.Evict(), 4);
  EXPECT_EQ(p.Evict(), 2);
  EXPECT_EQ(p.Evict(), 3);
  EXPECT_EQ(p.Evict(), 1);
}

TEST(AdaptivePolicyTest, KeepsAFrequentSetThroughAScan) {
  PolicyHarness<AdaptivePolicy> p;
  for (int k = 0; k < 32; ++k) p.Add(k);
  for (int round = 0; round < 8; ++round) {
    for (int k = 0; k < 32; ++k) p.Hit(k);
  }
  for (int k = 1000; k < 3000; ++k) {  // a scan of one-time keys
    if (p.Resident().size() >= kCapacity) p.Evict();
    p.Add(k);
  }
  int kept = 0;
  for (int k : p.Resident()) kept += k < 32 ? 1 : 0;
  EXPECT_GE(kept, 30);
}

}  // namespace
}  // namespace tiercache::engine
