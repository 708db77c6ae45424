// Power cuts: one writer writes versions of a few keys in order; the file
// system loses power at a random file operation (opening the cache included),
// or after the last write; everything not synced is dropped, and the store
// reopens. It must open, pass storage::Verify, and hold exactly the state
// after some prefix of the writes: under kPowerLoss a prefix that includes
// every acknowledged write (under write-behind, every write a Flush covered).
// The next round writes on in the same store.
// 40 rounds per case, ten times as many with TIERCACHE_LONG=1;
// TIERCACHE_SEED replays a run.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "storage/fault_file_system.h"
#include "storage/store.h"
#include "tests/engine/fault_test_util.h"
#include "tests/util/run_mode.h"
#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

using storage::FaultFileSystem;
using test_util::Held;

constexpr int kRoundsPerCase = 40;
constexpr int kWritesPerRound = 30;
constexpr int kKeys = 8;
constexpr char kNs[] = "power";
// Write-behind flushes after every kFlushEvery writes and at the end.
constexpr int kFlushEvery = 5;
constexpr std::chrono::milliseconds kFlushDeadline{200};

// What the store holds, by key; an absent key is not in the map.
using State = std::map<std::string, Held>;

// One write as the writer issued it: a Put or a Delete of one key, or a
// PutMany of two.
using Write = std::vector<std::pair<std::string, Held>>;

void Apply(const Write& write, State* state) {
  for (const auto& [key, held] : write) {
    if (held.present) {
      (*state)[key] = held;
    } else {
      state->erase(key);
    }
  }
}

bool StateMatches(const State& want, const State& got) {
  if (want.size() != got.size()) return false;
  for (const auto& [key, held] : want) {
    const auto it = got.find(key);
    if (it == got.end() || !test_util::Matches(held, it->second)) return false;
  }
  return true;
}

std::string DescribeState(const State& state) {
  std::string text;
  for (const auto& [key, held] : state) text += key + "=" + test_util::Describe(held) + " ";
  return text;
}

// The writes of one round, until the first that failed (included).
struct RoundWrites {
  std::vector<Write> writes;
  std::size_t acknowledged = 0;  // writes[0, acknowledged) were acknowledged
};

struct Case {
  WritePolicy policy;
  Durability durability;
  // The power goes at a file operation up to this one: above the operations
  // of a round (about 25 to open, then one or two per write, or per flush
  // under write-behind), so that some rounds lose power only after the last.
  std::uint64_t max_cut_operation;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  const WritePolicy policy = info.param.policy;
  return fmt::format(
      "{}_{}",
      policy == WritePolicy::kWriteThrough  ? "WriteThrough"
      : policy == WritePolicy::kWriteAround ? "WriteAround"
                                            : "WriteBehind",
      info.param.durability == Durability::kPowerLoss ? "PowerLoss" : "ProcessCrash");
}

class PowerLossTest : public ::testing::TestWithParam<Case> {
 protected:
  // Writes until the power goes (the first failure) or kWritesPerRound.
  RoundWrites WriteRound(int round, const std::shared_ptr<FaultFileSystem>& fs) {
    RoundWrites out;
    std::unique_ptr<Cache> cache;
    const Status opened = Cache::Open(
        test_util::FaultyCacheOptions(path_, GetParam().policy, GetParam().durability, fs), &cache);
    if (!opened.ok()) {
      EXPECT_TRUE(opened.IsIOError()) << opened.ToString();
      return out;
    }
    const bool behind = GetParam().policy == WritePolicy::kWriteBehind;
    for (int i = 0; i < kWritesPerRound; ++i) {
      Status s;
      out.writes.push_back(WriteOne(cache.get(), round, i, &s));
      // Write-behind acknowledges what a Flush has written; a Flush that times
      // out met the power cut (its flusher retries until the deadline).
      const bool acknowledges =
          !behind || i % kFlushEvery == kFlushEvery - 1 || i == kWritesPerRound - 1;
      if (s.ok() && behind && acknowledges) s = cache->Flush(kFlushDeadline);
      if (!s.ok()) {
        EXPECT_TRUE(s.IsIOError() || (behind && s.IsTimedOut())) << s.ToString();
        break;
      }
      if (acknowledges) out.acknowledged = out.writes.size();
    }
    fs->CutPower();
    // Nothing more reaches the disk: no need to wait for write-behind's buffer.
    static_cast<void>(cache->Close(std::chrono::milliseconds(0)));
    return out;
  }

  Write WriteOne(Cache* cache, int round, int i, Status* s) {
    const std::string key = fmt::format("k{}", rng_() % kKeys);
    const std::string value = fmt::format("round {} write {}", round, i);
    const int kind = static_cast<int>(rng_() % 8);
    if (kind == 0) {
      *s = cache->Delete(kNs, key);
      return {{key, Held{}}};
    }
    // Write-behind buffers a PutMany's pairs one by one, and a flush may take
    // one pair without the other.
    if (kind == 1 && GetParam().policy != WritePolicy::kWriteBehind) {
      const std::string other = fmt::format("k{}", rng_() % kKeys);
      if (other != key) {
        *s = cache->PutMany(kNs, {{key, value + " a"}, {other, value + " b"}});
        return {{key, Held{true, value + " a", 0}}, {other, Held{true, value + " b", 0}}};
      }
    }
    std::uint64_t version = 0;
    *s = cache->Put(kNs, key, value, {}, &version);
    return {{key, Held{true, value, s->ok() ? version : 0}}};
  }

  // The store after the drop: it opens, checks out, and holds a state of the
  // writes' prefixes. Returns that state.
  State CheckRecovered(const RoundWrites& round, std::uint64_t seed, int r) {
    storage::StoreOptions options;
    options.path = path_;
    options.free_space_reserve = 0;
    options.file_system = std::make_shared<FaultFileSystem>();  // no faults, no real syncs
    std::unique_ptr<storage::Store> store;
    const Status opened = storage::Store::Open(options, &store);
    EXPECT_TRUE(opened.ok()) << "seed " << seed << ", round " << r << ": " << opened.ToString();
    if (!opened.ok()) return before_;
    State recovered;
    storage::Namespace ns;
    EXPECT_TRUE(store->OpenNamespace(kNs, &ns).ok());
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = fmt::format("k{}", k);
      Held held;
      const Status read = test_util::ReadHeld(store.get(), ns, key, &held);
      EXPECT_TRUE(read.ok()) << key << ": " << read.ToString();
      EXPECT_LT(held.version, store->version_ceiling()) << key;
      if (held.present) recovered[key] = held;
    }
    test_util::ExpectVerifyClean(*store);
    ExpectPrefix(round, recovered, seed, r);
    return recovered;
  }

  void ExpectPrefix(const RoundWrites& round, const State& recovered, std::uint64_t seed,
                    int r) const {
    const std::size_t lowest =
        GetParam().durability == Durability::kPowerLoss ? round.acknowledged : 0;
    State state = before_;
    for (std::size_t p = 0; p <= round.writes.size(); ++p) {
      if (p > 0) Apply(round.writes[p - 1], &state);
      if (p >= lowest && StateMatches(state, recovered)) return;
    }
    ADD_FAILURE() << "seed " << seed << ", round " << r << ": the store holds "
                  << DescribeState(recovered) << "\nwhich is no prefix from write " << lowest
                  << " to " << round.writes.size() << " (" << round.acknowledged
                  << " acknowledged) over " << DescribeState(before_);
  }

  test_util::TempDir dir_;
  const std::string path_ = dir_.Sub("store");
  std::mt19937_64 rng_;
  State before_;  // what the store held when the round began
};

TEST_P(PowerLossTest, RecoversAPrefixOfTheWritesWithEveryAcknowledgedOneWhenSynced) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::cout << "seed " << seed << " (TIERCACHE_SEED replays it)\n";
  rng_.seed(seed);
  const int rounds = test_util::Rounds(kRoundsPerCase);
  int cut_in_writes = 0;
  for (int r = 0; r < rounds && !::testing::Test::HasFailure(); ++r) {
    auto fs = std::make_shared<FaultFileSystem>();
    fs->InjectAt(storage::kAnyFileOp, 1 + rng_() % GetParam().max_cut_operation,
                 FaultFileSystem::Fault::kForGood);
    const RoundWrites round = WriteRound(r, fs);
    if (round.acknowledged < round.writes.size()) ++cut_in_writes;
    ASSERT_TRUE(fs->DropUnsyncedData().ok());
    before_ = CheckRecovered(round, seed, r);
  }
  std::cout << rounds << " power cuts, " << cut_in_writes << " of them in a write\n";
  EXPECT_GT(cut_in_writes, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PowerLossTest,
    ::testing::Values(Case{WritePolicy::kWriteThrough, Durability::kPowerLoss, 100},
                      Case{WritePolicy::kWriteThrough, Durability::kProcessCrash, 70},
                      Case{WritePolicy::kWriteAround, Durability::kPowerLoss, 100},
                      Case{WritePolicy::kWriteBehind, Durability::kPowerLoss, 45}),
    CaseName);

}  // namespace
}  // namespace tiercache
