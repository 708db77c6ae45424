// Model-based randomized tests: every policy against a small, obviously
// correct reference over long random sequences of get, put, delete, sweep and
// clock steps. The reference knows which removals each step must report (and
// in what order); the tier's removal listener says which it made. Each run
// names its seed on failure; TIERCACHE_SEED=N runs seed N alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "engine/memory_tier.h"
#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kCapacity = 12;
constexpr int kKeys = 30;
constexpr int kSteps = 4000;
constexpr int kSeeds = 25;

struct ModelEntry {
  std::string value;
  std::uint64_t expires = 0;  // 0: never
  std::uint64_t used = 0;     // tick of the last insert or hit
  std::uint64_t inserted = 0;
  std::uint64_t count = 0;  // LFU's count (priority, with ageing)
};

// The reference: a plain map and linear scans.
class Model {
 public:
  Model(EvictionPolicy policy, bool ageing) : policy_(policy), ageing_(ageing) {}

  std::map<std::string, ModelEntry> entries;

  bool Expired(const ModelEntry& e, std::uint64_t now) const {
    return e.expires != 0 && e.expires <= now;
  }
  bool AnyExpired(std::uint64_t now) const {
    return std::any_of(entries.begin(), entries.end(),
                       [&](const auto& kv) { return Expired(kv.second, now); });
  }
  // Keys that may go first among those with the soonest expiry.
  std::set<std::string> Soonest(bool expired_only, std::uint64_t now) const {
    std::uint64_t best = ~std::uint64_t{0};
    std::set<std::string> keys;
    for (const auto& [k, e] : entries) {
      if (e.expires == 0 || (expired_only && !Expired(e, now))) continue;
      if (e.expires < best) keys.clear();
      if (e.expires <= best) {
        keys.insert(k);
        best = e.expires;
      }
    }
    return keys;
  }
  std::set<std::string> Victims() const;
  void Insert(const std::string& key, const std::string& value, std::uint64_t expires,
              std::uint64_t tick) {
    entries[key] = ModelEntry{value, expires, tick, tick, ageing_ ? floor_ + 1 : 1};
  }
  void Hit(const std::string& key, std::uint64_t tick) {
    entries[key].used = tick;
    ++entries[key].count;
  }
  void Evicted(const std::string& key) {
    if (ageing_ && policy_ == EvictionPolicy::kLFU) floor_ = entries[key].count;
    entries.erase(key);
  }

 private:
  template <typename Less>
  std::set<std::string> Min(Less less) const {
    auto it = std::min_element(entries.begin(), entries.end(), less);
    return it == entries.end() ? std::set<std::string>{} : std::set<std::string>{it->first};
  }

  EvictionPolicy policy_;
  bool ageing_;
  std::uint64_t floor_ = 0;
};

std::set<std::string> Model::Victims() const {
  using KV = std::pair<const std::string, ModelEntry>;
  switch (policy_) {
    case EvictionPolicy::kLRU:
      return Min([](const KV& a, const KV& b) { return a.second.used < b.second.used; });
    case EvictionPolicy::kFIFO:
      return Min([](const KV& a, const KV& b) { return a.second.inserted < b.second.inserted; });
    case EvictionPolicy::kLFU:
      return Min([](const KV& a, const KV& b) {
        return std::pair(a.second.count, a.second.used) < std::pair(b.second.count, b.second.used);
      });
    case EvictionPolicy::kTTL: {
      std::set<std::string> soonest = Soonest(false, 0);
      if (!soonest.empty()) return soonest;
      return Min([](const KV& a, const KV& b) { return a.second.used < b.second.used; });
    }
    case EvictionPolicy::kAdaptive:
      break;
  }
  std::set<std::string> all;  // no reference order: any resident key
  for (const auto& kv : entries) all.insert(kv.first);
  return all;
}

struct Params {
  EvictionPolicy policy;
  bool ageing;
};

class ModelTest : public ::testing::TestWithParam<Params> {
 protected:
  void Run(std::uint64_t seed);

 private:
  void Put(const std::string& key, std::uint64_t ttl);
  void Get(const std::string& key);
  void Delete(const std::string& key);
  void Sweep(std::size_t max);
  // The next removal the tier reported must be `cause` and one of `allowed`.
  void Expect(RemovalCause cause, const std::set<std::string>& allowed);
  void ExpectExpired() { Expect(RemovalCause::kExpired, model_->Soonest(true, Now())); }
  std::uint64_t Now() const {
    return static_cast<std::uint64_t>(clock_->Now().time_since_epoch().count());
  }

  std::shared_ptr<ManualClock> clock_;
  std::unique_ptr<MemoryTier> tier_;
  std::unique_ptr<Model> model_;
  std::deque<Removal> events_;
  std::uint64_t tick_ = 0;
};

void ModelTest::Expect(RemovalCause cause, const std::set<std::string>& allowed) {
  ASSERT_FALSE(events_.empty()) << "expected a removal (" << Name(cause) << ")";
  const Removal r = events_.front();
  events_.pop_front();
  ASSERT_EQ(r.cause, cause) << r.key;
  ASSERT_TRUE(allowed.count(r.key)) << Name(cause) << " removed " << r.key;
  ASSERT_EQ(r.value, model_->entries.at(r.key).value);
  if (cause == RemovalCause::kCapacity) {
    model_->Evicted(r.key);
  } else {
    model_->entries.erase(r.key);
  }
}

void ModelTest::Put(const std::string& key, std::uint64_t ttl) {
  const std::string value = key + "@" + std::to_string(++tick_);
  TierWrite w;
  w.key = key;
  w.value = value;
  w.ttl = milliseconds(ttl);
  ASSERT_TRUE(tier_->Insert(w, clock_->Now()).ok());
  for (int i = 0; i < 2 && model_->AnyExpired(Now()); ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExpired());
  }
  if (model_->entries.count(key)) {
    ASSERT_NO_FATAL_FAILURE(Expect(RemovalCause::kReplaced, {key}));
  }
  while (model_->entries.size() + 1 > kCapacity) {
    if (model_->AnyExpired(Now())) {
      ASSERT_NO_FATAL_FAILURE(ExpectExpired());
    } else {
      ASSERT_NO_FATAL_FAILURE(Expect(RemovalCause::kCapacity, model_->Victims()));
    }
  }
  model_->Insert(key, value, ttl == 0 ? 0 : Now() + ttl, tick_);
}

void ModelTest::Get(const std::string& key) {
  ++tick_;
  std::string value;
  const bool hit = tier_->LookupValue(0, key, clock_->Now(), &value);
  const auto it = model_->entries.find(key);
  if (it == model_->entries.end()) {
    ASSERT_FALSE(hit) << key;
  } else if (model_->Expired(it->second, Now())) {
    ASSERT_FALSE(hit) << key;
    ASSERT_NO_FATAL_FAILURE(Expect(RemovalCause::kExpired, {key}));
  } else {
    ASSERT_TRUE(hit) << key;
    ASSERT_EQ(value, it->second.value);
    model_->Hit(key, tick_);
  }
}

void ModelTest::Delete(const std::string& key) {
  ASSERT_EQ(tier_->Erase(0, key, RemovalCause::kDeleted), model_->entries.count(key) == 1);
  if (model_->entries.count(key)) {
    ASSERT_NO_FATAL_FAILURE(Expect(RemovalCause::kDeleted, {key}));
  }
}

void ModelTest::Sweep(std::size_t max) {
  const std::size_t done = tier_->Sweep(max, clock_->Now());
  for (std::size_t i = 0; i < done; ++i) {
    ASSERT_NO_FATAL_FAILURE(ExpectExpired());
  }
  ASSERT_TRUE(done == max || !model_->AnyExpired(Now()));
}

void ModelTest::Run(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  clock_ = std::make_shared<ManualClock>();
  MemoryTierOptions o;
  o.policy = GetParam().policy;
  o.lfu.ageing = GetParam().ageing;
  o.max_entries = kCapacity;
  o.shards = 1;
  o.listener = [this](const Removal& r) { events_.push_back(r); };
  ASSERT_TRUE(MemoryTier::Create(o, &tier_).ok());
  model_ = std::make_unique<Model>(o.policy, o.lfu.ageing && o.policy == EvictionPolicy::kLFU);
  for (int step = 0; step < kSteps; ++step) {
    const std::string key = "k" + std::to_string(rng() % kKeys);
    const int op = static_cast<int>(rng() % 20);
    SCOPED_TRACE(::testing::Message() << "step " << step);
    if (op < 8) {
      Get(key);
    } else if (op < 15) {
      Put(key, rng() % 2 ? 0 : 5 + rng() % 60);
    } else if (op < 17) {
      Delete(key);
    } else if (op == 17) {
      Sweep(1 + rng() % 3);
    } else {
      clock_->Advance(milliseconds(rng() % 15));
    }
    if (HasFatalFailure()) return;
    ASSERT_TRUE(events_.empty()) << "unexpected removal of " << events_.front().key;
    ASSERT_EQ(tier_->Stats().entries, model_->entries.size()) << "step " << step;
  }
}

// Seeds 1 to kSeeds, the same on every run, or the one TIERCACHE_SEED names.
TEST_P(ModelTest, MatchesTheReferenceOverRandomSequences) {
  const std::optional<std::uint64_t> replay = test_util::SeedToReplay();
  const std::uint64_t first = replay.value_or(1);
  const std::uint64_t last = replay.value_or(kSeeds);
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TIERCACHE_SEED=" << seed
                                      << " replays it)");
    Run(seed);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllPolicies, ModelTest,
    ::testing::Values(Params{EvictionPolicy::kLRU, false}, Params{EvictionPolicy::kFIFO, false},
                      Params{EvictionPolicy::kLFU, false}, Params{EvictionPolicy::kLFU, true},
                      Params{EvictionPolicy::kTTL, false},
                      Params{EvictionPolicy::kAdaptive, false}),
    [](const auto& info) {
      return std::string(Name(info.param.policy)) + (info.param.ageing ? "_ageing" : "");
    });

}  // namespace
}  // namespace tiercache::engine
