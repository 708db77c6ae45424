#include "engine/write_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/key_layout.h"
#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

constexpr std::size_t kMaxBytes = 1 << 20;

BufferedWrite Put(std::uint32_t ns, std::string_view key, std::string_view record) {
  return {ns, key, record, false};
}

BufferedWrite Delete(std::uint32_t ns, std::string_view key) { return {ns, key, {}, true}; }

// What the set answers for a key, as "record", "deleted" or "absent".
std::string Lookup(const WriteSet& set, std::uint32_t ns, std::string_view key) {
  BufferedWrite found;
  if (!set.Find(ns, key, &found)) return "absent";
  EXPECT_EQ(found.ns, ns);
  EXPECT_EQ(found.key, key);
  return found.is_delete ? "deleted" : std::string(found.record);
}

TEST(WriteSetTest, AKeysLastWriteReplacesItsEarlierOnes) {
  WriteSet set(kMaxBytes);
  set.Add(Put(1, "a", "first"));
  set.Add(Put(1, "a", "second"));
  set.Add(Put(1, "b", "kept"));
  set.Add(Delete(1, "b"));
  EXPECT_EQ(set.keys(), 2u);
  EXPECT_EQ(set.unwritten(), 2u);
  EXPECT_EQ(Lookup(set, 1, "a"), "second");
  EXPECT_EQ(Lookup(set, 1, "b"), "deleted");
  set.Add(Put(1, "b", "back"));
  EXPECT_EQ(Lookup(set, 1, "b"), "back");
  EXPECT_EQ(Lookup(set, 1, "c"), "absent");
}

TEST(WriteSetTest, NamespacesKeepTheirOwnWritesOfAKey) {
  WriteSet set(kMaxBytes);
  set.Add(Put(1, "k", "one"));
  set.Add(Put(2, "k", "two"));
  EXPECT_EQ(set.keys(), 2u);
  EXPECT_EQ(Lookup(set, 1, "k"), "one");
  EXPECT_EQ(Lookup(set, 2, "k"), "two");
  EXPECT_EQ(Lookup(set, 3, "k"), "absent");
}

TEST(WriteSetTest, ARecordThatFitsTakesItsPredecessorsPlaceAndALargerOneIsCharged) {
  WriteSet set(kMaxBytes);
  const std::string value(100, 'a');
  const BufferedWrite first = Put(1, "key", value);
  const std::size_t charge = set.ChargeOf(first);
  EXPECT_GT(charge, 103u);  // the key, the record and the slot
  set.Add(first);
  EXPECT_EQ(set.bytes(), charge);

  const std::string same(100, 'b');
  EXPECT_EQ(set.ChargeOf(Put(1, "key", same)), 0u);
  set.Add(Put(1, "key", same));
  EXPECT_EQ(set.bytes(), charge);
  EXPECT_EQ(Lookup(set, 1, "key"), same);

  const std::string shorter(10, 'c');
  set.Add(Put(1, "key", shorter));
  EXPECT_EQ(set.bytes(), charge);
  EXPECT_EQ(Lookup(set, 1, "key"), shorter);

  const std::string longer(300, 'd');
  EXPECT_EQ(set.ChargeOf(Put(1, "key", longer)), 300u);
  set.Add(Put(1, "key", longer));
  EXPECT_EQ(set.bytes(), charge + 300);
  EXPECT_EQ(Lookup(set, 1, "key"), longer);
}

TEST(WriteSetTest, AWriteMarkedWrittenIsLeftOutUntilTheKeyIsWrittenAgain) {
  WriteSet set(kMaxBytes);
  set.Add(Put(1, "a", "1"));
  set.Add(Put(1, "b", "2"));
  set.MarkWritten(1, "a");
  EXPECT_EQ(set.unwritten(), 1u);
  EXPECT_EQ(set.keys(), 2u);
  std::vector<BufferedWrite> writes;
  set.Unwritten(&writes);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].key, "b");
  EXPECT_EQ(Lookup(set, 1, "a"), "1");  // still readable: the store holds the same

  set.Add(Put(1, "a", "3"));
  EXPECT_EQ(set.unwritten(), 2u);
  writes.clear();
  set.Unwritten(&writes);
  EXPECT_EQ(writes.size(), 2u);
}

TEST(WriteSetTest, ClearEmptiesTheSetForItsNextUse) {
  WriteSet set(kMaxBytes);
  for (int i = 0; i < 1000; ++i) set.Add(Put(1, "key" + std::to_string(i), "v"));
  set.Clear();
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.unwritten(), 0u);
  EXPECT_EQ(set.bytes(), 0u);
  EXPECT_EQ(Lookup(set, 1, "key5"), "absent");
  set.Add(Put(1, "key5", "again"));
  EXPECT_EQ(Lookup(set, 1, "key5"), "again");
  EXPECT_EQ(set.keys(), 1u);
}

// Random writes of few keys over several clears, against a map: the set's
// answers, its counts, and its bytes as the sum of what ChargeOf said.
TEST(WriteSetTest, MatchesAModelOfTheLastWritePerKey) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::printf("seed %llu (TIERCACHE_SEED replays it)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  WriteSet set(4096);  // a small arena limit: one write may still go past it
  for (int round = 0; round < 20; ++round) {
    std::map<std::pair<std::uint32_t, std::string>, std::string> model;
    std::size_t bytes = 0;
    const int writes = static_cast<int>(rng() % 5000);
    for (int i = 0; i < writes; ++i) {
      const auto ns = static_cast<std::uint32_t>(rng() % 3);
      const std::string key = "k" + std::to_string(rng() % 700);
      const bool is_delete = rng() % 5 == 0;
      const std::string record(is_delete ? 0 : rng() % 200, static_cast<char>('a' + i % 26));
      const BufferedWrite write{ns, key, record, is_delete};
      bytes += set.ChargeOf(write);
      set.Add(write);
      model[{ns, key}] = is_delete ? "deleted" : record;
      ASSERT_EQ(set.bytes(), bytes) << "write " << i << " of round " << round;
    }
    ASSERT_EQ(set.keys(), model.size());
    std::size_t live_bytes = 0;
    for (const auto& [key, expected] : model) {
      ASSERT_EQ(Lookup(set, key.first, key.second), expected) << key.second;
      live_bytes += key.second.size() + (expected == "deleted" ? 0 : expected.size());
    }
    EXPECT_GE(set.bytes(), live_bytes);
    // A batch that failed part-way: what the store took is left out.
    std::size_t marked = 0;
    for (const auto& [key, expected] : model) {
      if (rng() % 3 != 0) continue;
      set.MarkWritten(key.first, key.second);
      ++marked;
    }
    std::vector<BufferedWrite> unwritten;
    set.Unwritten(&unwritten);
    EXPECT_EQ(unwritten.size(), model.size() - marked);
    EXPECT_EQ(set.unwritten(), model.size() - marked);
    for (const BufferedWrite& write : unwritten) {
      EXPECT_EQ(Lookup(set, write.ns, write.key), model.at({write.ns, std::string(write.key)}));
    }
    set.Clear();
  }
}

// SortInKeyOrder against RocksDB's own order of the keys it writes (bytes
// compared unsigned): keys sharing prefixes past the 8 and 16 bytes the sort
// compares as numbers, keys ending in zero bytes or that are prefixes of
// others, and several namespaces.
TEST(SortInKeyOrderTest, PutsWritesInTheOrderOfTheirRocksDbKeys) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::printf("seed %llu (TIERCACHE_SEED replays it)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::string prefixes[] = {"", "session:", "user:0000000000000000:"};
  const char bytes[] = {'\0', '\x01', 'a', 'b', '\x7f', '\x80', '\xff'};
  const std::uint32_t namespaces[] = {0, 1, 256, 0xffffffffu};
  for (int round = 0; round < test_util::Rounds(50); ++round) {
    std::set<std::pair<std::uint32_t, std::string>> keys;
    const std::size_t count = rng() % 400;
    while (keys.size() < count) {
      std::string key = prefixes[rng() % std::size(prefixes)];
      for (std::size_t n = rng() % 12; n > 0; --n) key += bytes[rng() % std::size(bytes)];
      keys.insert({namespaces[rng() % std::size(namespaces)], key});
    }
    std::vector<BufferedWrite> writes;
    for (const auto& [ns, key] : keys) writes.push_back(Put(ns, key, "record"));
    std::shuffle(writes.begin(), writes.end(), rng);
    SortInKeyOrder(&writes);
    ASSERT_EQ(writes.size(), keys.size());
    std::string previous;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      std::string data_key;
      storage::EncodeDataKey(writes[i].ns, writes[i].key, &data_key);
      if (i > 0) {
        ASSERT_LT(previous, data_key) << "write " << i << " of round " << round;
      }
      previous = std::move(data_key);
    }
  }
}

}  // namespace
}  // namespace tiercache::engine
