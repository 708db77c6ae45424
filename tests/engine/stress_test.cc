// Many threads, mixed operations, every policy: the tier must stay within its
// budget and its books must balance. Built for ThreadSanitizer too (the engine
// suite runs under it; nothing here reaches RocksDB).
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/memory_tier.h"
#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

using std::chrono::milliseconds;

constexpr int kThreads = 8;
constexpr std::size_t kMaxEntries = 2000;
constexpr std::size_t kMaxBytes = 256 * 1024;
constexpr int kKeys = 5000;

int OpsPerThread() { return test_util::Rounds(50'000); }

class StressTest : public ::testing::TestWithParam<EvictionPolicy> {
 protected:
  void SetUp() override {
    seed_ = test_util::SeedFromEnvironment();
    std::cout << "seed " << seed_ << " (TIERCACHE_SEED=" << seed_ << " replays it)\n";
    RecordProperty("seed", std::to_string(seed_));
    MemoryTierOptions o;
    o.policy = GetParam();
    o.max_entries = kMaxEntries;
    o.max_bytes = kMaxBytes;
    o.shards = 8;
    o.listener = [this](const Removal& r) {
      removed_[static_cast<int>(r.cause)].fetch_add(1, std::memory_order_relaxed);
    };
    ASSERT_TRUE(MemoryTier::Create(o, &tier_).ok());
  }

  void Work(int thread);
  void OneOp(std::mt19937_64& rng, int thread, std::uint64_t* version);

  std::uint64_t seed_ = 0;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::unique_ptr<MemoryTier> tier_;
  std::atomic<std::uint64_t> removed_[4] = {};
  std::atomic<std::uint64_t> busy_{0};
};

void StressTest::OneOp(std::mt19937_64& rng, int thread, std::uint64_t* version) {
  const std::string key = "key" + std::to_string(rng() % kKeys);
  const std::uint32_t ns = static_cast<std::uint32_t>(rng() % 3);
  std::string value;
  Entry entry;
  switch (rng() % 16) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      tier_->LookupValue(ns, key, clock_->Now(), &value);
      break;
    case 5:
    case 6:
      tier_->Lookup(ns, key, clock_->Now(), &entry);
      break;
    case 7:
    case 8:
    case 9:
    case 10: {
      const std::string v(rng() % 400, static_cast<char>('a' + thread));
      TierWrite w;
      w.ns = ns;
      w.key = key;
      w.value = v;
      w.version = ++*version;
      w.dirty = rng() % 8 == 0;
      if (rng() % 2) w.ttl = milliseconds(1 + rng() % 50);
      const Status s = tier_->Insert(w, clock_->Now());
      if (s.IsBusy()) busy_.fetch_add(1, std::memory_order_relaxed);
      if (w.dirty && s.ok() && rng() % 2) tier_->MarkClean(ns, key, w.version, clock_->Now());
      break;
    }
    case 11:
    case 12:
      tier_->Erase(ns, key, RemovalCause::kDeleted);
      break;
    case 13:
      clock_->Advance(milliseconds(1));
      break;
    case 14:
      tier_->Sweep(4, clock_->Now());
      break;
    default:
      if (rng() % 64 == 0) tier_->EraseNamespace(2);
      tier_->Stats();
  }
}

void StressTest::Work(int thread) {
  // The seed picks each thread's operations; the threads' interleaving is not
  // replayed.
  std::mt19937_64 rng(seed_ * 7919 + static_cast<std::uint64_t>(thread));
  // Versions from distinct threads never collide: the thread in the top bits.
  std::uint64_t version = static_cast<std::uint64_t>(thread) << 40;
  for (int i = 0; i < OpsPerThread(); ++i) OneOp(rng, thread, &version);
}

TEST_P(StressTest, StaysWithinBudgetAndBalancesItsBooks) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([this, t] { Work(t); });
  for (auto& t : threads) t.join();

  const TierStats s = tier_->Stats();
  EXPECT_LE(s.bytes, kMaxBytes);
  EXPECT_LE(s.entries, kMaxEntries);
  EXPECT_EQ(s.inserts, s.entries + s.evicted + s.expired + s.erased + s.replaced);
  EXPECT_EQ(removed_[static_cast<int>(RemovalCause::kCapacity)].load(), s.evicted);
  EXPECT_EQ(removed_[static_cast<int>(RemovalCause::kExpired)].load(), s.expired);
  EXPECT_EQ(removed_[static_cast<int>(RemovalCause::kDeleted)].load(), s.erased);
  EXPECT_EQ(removed_[static_cast<int>(RemovalCause::kReplaced)].load(), s.replaced);
  EXPECT_GT(s.hits, 0u);
  EXPECT_GT(s.evicted + s.expired, 0u);

  // Erasing everything must bring the charge back to zero exactly.
  for (std::uint32_t ns = 0; ns < 3; ++ns) tier_->EraseNamespace(ns);
  EXPECT_EQ(tier_->Stats().entries, 0u);
  EXPECT_EQ(tier_->Stats().bytes, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, StressTest,
                         ::testing::Values(EvictionPolicy::kLRU, EvictionPolicy::kLFU,
                                           EvictionPolicy::kFIFO, EvictionPolicy::kTTL,
                                           EvictionPolicy::kAdaptive),
                         [](const auto& info) { return std::string(Name(info.param)); });

}  // namespace
}  // namespace tiercache::engine
