#include "engine/ghost_list.h"

#include <gtest/gtest.h>

#include <deque>
#include <iostream>
#include <random>
#include <set>

#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

TEST(GhostListTest, RemembersWhatWasAddedUntilTaken) {
  GhostList ghosts(4);
  ghosts.Add(10);
  ghosts.Add(20);
  EXPECT_EQ(ghosts.size(), 2u);
  EXPECT_TRUE(ghosts.Take(10));
  EXPECT_FALSE(ghosts.Take(10));
  EXPECT_FALSE(ghosts.Take(30));
  EXPECT_EQ(ghosts.size(), 1u);
}

TEST(GhostListTest, ForgetsTheOldestBeyondItsCapacity) {
  GhostList ghosts(3);
  for (std::uint64_t h = 1; h <= 5; ++h) ghosts.Add(h * 0x9E3779B97F4A7C15ull);
  EXPECT_EQ(ghosts.size(), 3u);
  EXPECT_FALSE(ghosts.Take(1 * 0x9E3779B97F4A7C15ull));
  EXPECT_FALSE(ghosts.Take(2 * 0x9E3779B97F4A7C15ull));
  EXPECT_TRUE(ghosts.Take(5 * 0x9E3779B97F4A7C15ull));
}

TEST(GhostListTest, ReAddingMakesAGhostTheNewest) {
  GhostList ghosts(2);
  ghosts.Add(1);
  ghosts.Add(2);
  ghosts.Add(1);
  ghosts.Add(3);  // forgets 2, the oldest now
  EXPECT_TRUE(ghosts.Take(1));
  EXPECT_FALSE(ghosts.Take(2));
  EXPECT_TRUE(ghosts.Take(3));
}

TEST(GhostListTest, ZeroCapacityRemembersNothing) {
  GhostList ghosts(0);
  ghosts.Add(7);
  EXPECT_FALSE(ghosts.Take(7));
}

// Against a reference: the last `capacity` additions, minus those taken.
TEST(GhostListTest, MatchesAReferenceOverRandomUse) {
  constexpr std::size_t kCapacity = 50;
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::cout << "seed " << seed << " (TIERCACHE_SEED=" << seed << " replays it)\n";
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  GhostList ghosts(kCapacity);
  std::deque<std::uint64_t> additions;  // the last kCapacity, oldest first; 0 once taken
  for (int step = 0; step < 20000; ++step) {
    const std::uint64_t h = (rng() % 200) * 0x9E3779B97F4A7C15ull + 1;
    if (rng() % 2) {
      for (auto& a : additions) a = a == h ? 0 : a;
      additions.push_back(h);
      if (additions.size() > kCapacity) additions.pop_front();
      ghosts.Add(h);
    } else {
      bool present = false;
      for (auto& a : additions) {
        if (a != h) continue;
        present = true;
        a = 0;
      }
      ASSERT_EQ(ghosts.Take(h), present) << "step " << step;
    }
    std::set<std::uint64_t> live(additions.begin(), additions.end());
    live.erase(0);
    ASSERT_EQ(ghosts.size(), live.size()) << "step " << step;
  }
}

}  // namespace
}  // namespace tiercache::engine
