// Replays the reference traces through a one-shard tier and checks the exact
// hit counts of ../shared/traces/README.md for LRU, FIFO and LFU without
// ageing, and the adaptive policy's targets against LRU and ARC.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/memory_tier.h"
#include "tests/engine/reference_hits.h"
#include "tests/engine/trace_file.h"

namespace tiercache::engine {
namespace {

std::filesystem::path TracesDir() {
  const char* dir = std::getenv("TIERCACHE_TRACES");
  return dir != nullptr ? dir : "../shared/traces";
}

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(TracesDir() / "README.md")) {
      GTEST_SKIP() << "no reference traces at " << TracesDir()
                   << " (set TIERCACHE_TRACES or -Dtraces_dir)";
    }
  }

  const std::vector<std::int64_t>& Keys(const std::string& file) {
    auto it = traces_.find(file);
    if (it != traces_.end()) return it->second;
    std::vector<std::int64_t> keys;
    std::string error;
    EXPECT_TRUE(ReadTrace((TracesDir() / file).string(), &keys, &error)) << error;
    return traces_.emplace(file, std::move(keys)).first->second;
  }

  static std::map<std::string, std::vector<std::int64_t>> traces_;
};

std::map<std::string, std::vector<std::int64_t>> TraceTest::traces_;

// Get, then put on a miss, through one shard holding `capacity` entries.
std::int64_t Replay(const std::vector<std::int64_t>& keys, EvictionPolicy policy,
                    std::int64_t capacity, bool ageing) {
  MemoryTierOptions o;
  o.policy = policy;
  o.shards = 1;
  o.max_entries = static_cast<std::size_t>(capacity);
  o.max_bytes = static_cast<std::size_t>(capacity) * 1024;
  o.lfu.ageing = ageing;
  std::unique_ptr<MemoryTier> tier;
  EXPECT_TRUE(MemoryTier::Create(o, &tier).ok());
  const TimePoint now = ManualClock().Now();
  std::int64_t hits = 0;
  std::string value;
  std::string key;
  for (const std::int64_t k : keys) {
    // Decimal, as `tiercache bench trace` reads the expanded traces.
    key = std::to_string(k);
    if (tier->LookupValue(0, key, now, &value)) {
      ++hits;
    } else {
      TierWrite w;
      w.key = key;
      w.value = "v";
      EXPECT_TRUE(tier->Insert(w, now).ok());
    }
  }
  return hits;
}

TEST_F(TraceTest, TraceLengthsMatchTheReference) {
  for (const ReferenceRow& row : kReferenceRows) {
    EXPECT_EQ(static_cast<std::int64_t>(Keys(row.file).size()), row.requests) << row.file;
  }
}

TEST_F(TraceTest, LruReproducesTheReferenceHits) {
  for (const ReferenceRow& row : kReferenceRows) {
    EXPECT_EQ(Replay(Keys(row.file), EvictionPolicy::kLRU, row.capacity, false), row.lru)
        << row.file << " capacity " << row.capacity;
  }
}

TEST_F(TraceTest, FifoReproducesTheReferenceHits) {
  for (const ReferenceRow& row : kReferenceRows) {
    EXPECT_EQ(Replay(Keys(row.file), EvictionPolicy::kFIFO, row.capacity, false), row.fifo)
        << row.file << " capacity " << row.capacity;
  }
}

TEST_F(TraceTest, LfuWithoutAgeingReproducesTheReferenceHits) {
  for (const ReferenceRow& row : kReferenceRows) {
    EXPECT_EQ(Replay(Keys(row.file), EvictionPolicy::kLFU, row.capacity, false), row.lfu)
        << row.file << " capacity " << row.capacity;
  }
}

// The targets of the adaptive policy: on average at least ARC, and nowhere
// more than one point of hit ratio below the better of LRU and ARC.
TEST_F(TraceTest, AdaptiveMatchesArcAndNeverTrailsTheBetterOfLruAndArc) {
  double adaptive_sum = 0;
  double arc_sum = 0;
  for (const ReferenceRow& row : kReferenceRows) {
    const double n = static_cast<double>(row.requests);
    const double adaptive = 100.0 *
                            static_cast<double>(Replay(Keys(row.file), EvictionPolicy::kAdaptive,
                                                       row.capacity, false)) /
                            n;
    const double arc = 100.0 * static_cast<double>(row.arc) / n;
    const double best = 100.0 * static_cast<double>(std::max(row.lru, row.arc)) / n;
    adaptive_sum += adaptive;
    arc_sum += arc;
    EXPECT_GE(adaptive, best - 1.0) << row.file << " capacity " << row.capacity;
    std::printf("%-24s %6lld  adaptive %6.2f%%  arc %6.2f%%  max(lru,arc) %6.2f%%\n", row.file,
                static_cast<long long>(row.capacity), adaptive, arc, best);
  }
  const double rows = static_cast<double>(std::size(kReferenceRows));
  std::printf("average: adaptive %.2f%%, arc %.2f%%\n", adaptive_sum / rows, arc_sum / rows);
  EXPECT_GE(adaptive_sum, arc_sum);
}

}  // namespace
}  // namespace tiercache::engine
