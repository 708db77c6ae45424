// The error loop: for N = 1, 2, ... a workload runs on a fresh cache whose
// file system fails its Nth write, sync, rename or file creation (opening the
// cache included), once or for good, until a run meets no fault. Each run must
// end (no crash, no hang), every failure must reach the caller as a Status,
// and once the fault has cleared the store must reopen with every
// acknowledged write in it and no bad record (storage::Verify).

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/fault_file_system.h"
#include "storage/store.h"
#include "tests/engine/fault_test_util.h"
#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

using storage::FaultFileSystem;
using test_util::Held;

constexpr int kOps = 24;
constexpr int kKeys = 6;
constexpr std::size_t kValueBytes = 1024;
constexpr std::uint64_t kMaxRuns = 2000;  // far above a run's operations
constexpr char kNs[] = "faults";

std::string KeyOf(int i) { return fmt::format("k{}", i % kKeys); }

std::string ValueOf(int op, int part) {
  std::string value = fmt::format("op {} part {} ", op, part);
  value.resize(kValueBytes, static_cast<char>('a' + op % 26));
  return value;
}

// What one key may hold after the run: its last acknowledged state, or the
// state of a write that failed since (a failed WAL sync leaves the write in
// the WAL, which the reopen replays).
class KeyModel {
 public:
  void Acknowledged(Held held) {
    acknowledged_ = std::move(held);
    unacknowledged_.clear();
  }
  void Failed(Held held) { unacknowledged_.push_back(std::move(held)); }

  bool Allows(const Held& got) const {
    if (test_util::Matches(acknowledged_, got)) return true;
    for (const Held& held : unacknowledged_) {
      if (test_util::Matches(held, got)) return true;
    }
    return false;
  }
  std::string Describe() const {
    std::string text = "acknowledged " + test_util::Describe(acknowledged_);
    for (const Held& held : unacknowledged_) text += ", or " + test_util::Describe(held);
    return text;
  }

 private:
  Held acknowledged_;
  std::vector<Held> unacknowledged_;
};

// The status of one operation of the workload.
struct Step {
  Status status;
  bool writes = false;  // a Put or PutMany: what it acknowledges is on disk
};

struct Outcome {
  Status open;
  std::vector<Step> steps;  // one per operation while the cache was open, and Close
  std::map<std::string, KeyModel> keys;
  std::uint64_t max_version = 0;  // the highest acknowledged version
};

void Record(Outcome* run, const std::string& key, const Status& s, Held held) {
  if (s.ok()) {
    run->max_version = std::max(run->max_version, held.version);
    run->keys[key].Acknowledged(std::move(held));
  } else {
    held.version = 0;
    run->keys[key].Failed(std::move(held));
  }
}

// Puts, Deletes and two-key PutManys over a few keys; each operation goes on
// whatever happened to the ones before.
Outcome RunWorkload(const Options& options) {
  Outcome run;
  std::unique_ptr<Cache> cache;
  run.open = Cache::Open(options, &cache);
  if (!run.open.ok()) return run;
  for (int i = 0; i < kOps; ++i) {
    const std::string key = KeyOf(i);
    Status s;
    if (i % 6 == 5) {
      s = cache->Delete(kNs, key);
      Record(&run, key, s, Held{});
    } else if (i % 4 == 3) {
      const std::string other = KeyOf(i + 1);
      s = cache->PutMany(kNs, {{key, ValueOf(i, 0)}, {other, ValueOf(i, 1)}});
      Record(&run, key, s, Held{true, ValueOf(i, 0), 0});
      Record(&run, other, s, Held{true, ValueOf(i, 1), 0});
    } else {
      std::uint64_t version = 0;
      s = cache->Put(kNs, key, ValueOf(i, 0), {}, &version);
      Record(&run, key, s, Held{true, ValueOf(i, 0), version});
    }
    run.steps.push_back(Step{s, i % 6 != 5});
  }
  run.steps.push_back(Step{cache->Close(std::chrono::seconds(10)), false});
  return run;
}

struct Param {
  WritePolicy policy;
  Durability durability;
  FaultFileSystem::Fault fault;
};

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  const Param& p = info.param;
  return fmt::format("{}_{}_{}",
                     p.policy == WritePolicy::kWriteThrough ? "WriteThrough" : "WriteAround",
                     p.durability == Durability::kPowerLoss ? "PowerLoss" : "ProcessCrash",
                     p.fault == FaultFileSystem::Fault::kOnce ? "Once" : "ForGood");
}

class FaultRecoveryTest : public ::testing::TestWithParam<Param> {
 protected:
  // The failures of a run are IOErrors: the injected fault, or the error at
  // which RocksDB stopped taking writes after it. Once the disk has failed
  // for good, no write is acknowledged.
  void CheckSteps(const Outcome& run, std::uint64_t n) const {
    bool failed = false;
    for (std::size_t i = 0; i < run.steps.size(); ++i) {
      const Step& step = run.steps[i];
      if (!step.status.ok()) {
        failed = true;
        EXPECT_TRUE(step.status.IsIOError())
            << "fault " << n << ", operation " << i << ": " << step.status.ToString();
      } else if (failed && step.writes && GetParam().fault == FaultFileSystem::Fault::kForGood) {
        ADD_FAILURE() << "fault " << n << ": operation " << i
                      << " acknowledged after the disk failed for good";
      }
    }
  }

  // The store, reopened with the fault gone, holds every acknowledged write.
  void CheckReopened(const std::string& path, const Outcome& run, std::uint64_t n) const {
    storage::StoreOptions options;
    options.path = path;
    options.free_space_reserve = 0;
    // Without faults, and without real syncs, which take milliseconds each.
    options.file_system = std::make_shared<FaultFileSystem>();
    std::unique_ptr<storage::Store> store;
    const Status opened = storage::Store::Open(options, &store);
    ASSERT_TRUE(opened.ok()) << "fault " << n << ": " << opened.ToString();
    EXPECT_GT(store->version_ceiling(), run.max_version) << "fault " << n;
    storage::Namespace ns;
    ASSERT_TRUE(store->OpenNamespace(kNs, &ns).ok());
    for (const auto& [key, model] : run.keys) {
      Held held;
      const Status read = test_util::ReadHeld(store.get(), ns, key, &held);
      ASSERT_TRUE(read.ok()) << "fault " << n << ", " << key << ": " << read.ToString();
      EXPECT_TRUE(model.Allows(held))
          << "fault " << n << ", " << key << ": holds " << test_util::Describe(held)
          << ", expected " << model.Describe();
    }
    test_util::ExpectVerifyClean(*store);
  }
};

TEST_P(FaultRecoveryTest, EveryFileOperationCanFailWithoutLosingAcknowledgedWrites) {
  test_util::TempDir dir;
  std::uint64_t n = 1;
  for (; n <= kMaxRuns; ++n) {
    const std::string path = dir.Sub(fmt::format("run{}", n));
    auto fs = std::make_shared<FaultFileSystem>();
    fs->InjectAt(storage::kAnyFileOp, n, GetParam().fault);
    const Outcome run = RunWorkload(
        test_util::FaultyCacheOptions(path, GetParam().policy, GetParam().durability, fs));
    const bool hit = fs->injected() > 0;
    if (!run.open.ok()) {
      EXPECT_TRUE(run.open.IsIOError()) << "fault " << n << ": " << run.open.ToString();
    }
    CheckSteps(run, n);
    CheckReopened(path, run, n);
    if (::testing::Test::HasFailure() || !hit) break;
  }
  std::cout << "the workload met a fault in each of its first " << n - 1 << " file operations\n";
  EXPECT_GT(n, 20u) << "the workload should take more than 20 file operations";
  EXPECT_LE(n, kMaxRuns);
}

// Write-through and write-around reach the store the same way, so each takes
// one durability and one kind of fault: the runs cost a RocksDB open each.
// Write-behind is left out: its flusher retries a failed batch for as long
// as a Flush waits, in real time.
INSTANTIATE_TEST_SUITE_P(Policies, FaultRecoveryTest,
                         ::testing::Values(Param{WritePolicy::kWriteThrough, Durability::kPowerLoss,
                                                 FaultFileSystem::Fault::kOnce},
                                           Param{WritePolicy::kWriteAround,
                                                 Durability::kProcessCrash,
                                                 FaultFileSystem::Fault::kForGood}),
                         ParamName);

}  // namespace
}  // namespace tiercache
