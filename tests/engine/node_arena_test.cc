#include "engine/node_arena.h"

#include <gtest/gtest.h>

#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>

#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

TEST(NodeArenaTest, SlotSizesRoundUpByAtMostOneStep) {
  EXPECT_EQ(NodeArena::SlotBytes(1), 8u);
  EXPECT_EQ(NodeArena::SlotBytes(168), 168u);
  EXPECT_EQ(NodeArena::SlotBytes(169), 176u);
  EXPECT_EQ(NodeArena::SlotBytes(256), 256u);
  EXPECT_EQ(NodeArena::SlotBytes(257), 272u);
  EXPECT_EQ(NodeArena::SlotBytes(2048), 2048u);
  EXPECT_EQ(NodeArena::SlotBytes(5000), 5000u);  // its own allocation
  for (std::size_t b = 1; b <= NodeArena::kMaxSmallBytes; ++b) {
    const std::size_t slot = NodeArena::SlotBytes(b);
    ASSERT_GE(slot, b);
    ASSERT_LE(slot, b < 256 ? b + 7 : b + b / 16);
    ASSERT_EQ(slot % 8, 0u);
  }
}

TEST(NodeArenaTest, SameSizeIsTheSlotAllocateWouldHandOut) {
  NodeArena arena;
  const Handle h = arena.Allocate(168);
  ASSERT_NE(h, kNoHandle);
  EXPECT_TRUE(arena.SameSize(h, 168));
  EXPECT_TRUE(arena.SameSize(h, 161));  // the same 8-byte step
  EXPECT_FALSE(arena.SameSize(h, 160));
  EXPECT_FALSE(arena.SameSize(h, 169));
  const Handle large = arena.Allocate(5000);
  ASSERT_NE(large, kNoHandle);
  EXPECT_FALSE(arena.SameSize(large, 5000));  // an allocation of its own is never taken over
}

// Every slot keeps what was written to it while others come and go, small
// and large alike.
TEST(NodeArenaTest, SlotsNeverOverlap) {
  NodeArena arena;
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::cout << "seed " << seed << " (TIERCACHE_SEED=" << seed << " replays it)\n";
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  std::map<Handle, std::string> live;
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      const std::size_t size = 60 + rng() % (rng() % 8 == 0 ? 6000 : 400);
      const Handle h = arena.Allocate(size);
      ASSERT_NE(h, kNoHandle);
      std::string fill(size, static_cast<char>('a' + step % 26));
      std::memcpy(arena.Get(h), fill.data(), size);
      ASSERT_TRUE(live.emplace(h, std::move(fill)).second) << "handle reused while live";
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      ASSERT_EQ(std::memcmp(arena.Get(it->first), it->second.data(), it->second.size()), 0);
      arena.Free(it->first);
      live.erase(it);
    }
  }
  for (const auto& [h, fill] : live) {
    ASSERT_EQ(std::memcmp(arena.Get(h), fill.data(), fill.size()), 0);
  }
}

}  // namespace
}  // namespace tiercache::engine
