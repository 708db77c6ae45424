// Damage at rest: with the store closed, bytes of single records, SST files
// and WAL files are flipped or cut; then the store is opened again. Whatever
// the damage, a Get answers the value that was written, Corruption, or
// NotFound: never another value. Damaged records leave the store openable and
// `verify` (storage::Verify) names each of them.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/inspect.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/util/record_seal.h"
#include "tests/util/run_mode.h"
#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using test_util::Resealed;

constexpr milliseconds kDeadline{30'000};
constexpr int kKeys = 2000;
constexpr char kNamespace[] = "ns";

std::string KeyOf(int i) { return fmt::format("k{:06}", i); }

// Each value names its key, so that a value served for another key shows.
std::string ValueOf(int i) {
  return fmt::format("value of k{:06}:", i) +
         std::string(64 + i % 64, static_cast<char>('a' + i % 26));
}

// What Gets of every key answered.
struct Outcome {
  int right = 0;
  int corrupt = 0;
  int missing = 0;
  int first_corrupt = -1;  // the least and greatest i whose key answered Corruption
  int last_corrupt = -1;
};

std::uintmax_t SizeOf(const fs::path& file) { return fs::file_size(file); }

// Where the data blocks of an SST file end: they come first, then the filter,
// index and properties blocks and the footer.
std::uintmax_t DataBlocksEnd(const fs::path& sst) {
  rocksdb::SstFileReader reader{rocksdb::Options()};
  const rocksdb::Status s = reader.Open(sst.string());
  EXPECT_TRUE(s.ok()) << sst << ": " << s.ToString();
  return s.ok() ? reader.GetTableProperties()->data_size : 0;
}

void FlipByte(const fs::path& file, std::uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  const char byte = static_cast<char>(f.get() ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(byte);
  ASSERT_TRUE(f.good()) << "cannot flip byte " << offset << " of " << file;
}

// Rewrites a few records of keys `from` and above with one value byte flipped
// (so that the record's checksum fails) and one record cut short; returns
// their keys as "ns/key".
std::set<std::string> DamageRecords(storage::Store& store, std::mt19937_64& random, int from = 0) {
  storage::Namespace ns;
  EXPECT_TRUE(store.OpenNamespace(kNamespace, &ns).ok());
  std::set<std::string> damaged;
  const int first = static_cast<int>(random() % (kKeys - from));
  for (int n = 0; n < 6; ++n) {
    const int i = from + (first + n * 331) % (kKeys - from);  // six different keys
    std::string record;
    EXPECT_TRUE(store.Get(ns, KeyOf(i), &record).ok());
    if (n == 0) {
      record.pop_back();
    } else {
      // The value ends 4 bytes before the record does (the checksum).
      record[record.size() - 5 - random() % 32] ^= 0x01;
    }
    EXPECT_TRUE(store.Put(ns, KeyOf(i), record).ok());
    damaged.insert(std::string(kNamespace) + "/" + KeyOf(i));
  }
  return damaged;
}

class CorruptionTest : public ::testing::Test {
 protected:
  CorruptionTest() {
    options_.path = dir_.Sub("store");
    options_.free_space_reserve = 1024 * 1024;
    std::printf("seed %llu (TIERCACHE_SEED replays it)\n", static_cast<unsigned long long>(seed_));
  }

  // Writes every key through a write-through cache and closes it: the data is
  // then in the WAL alone. With to_sst, the store is compacted afterwards, so
  // that the data is in SST files and the WAL holds nothing of it.
  void WriteAll(bool to_sst) {
    fs::remove_all(options_.path);
    std::unique_ptr<Cache> cache;
    ASSERT_TRUE(Cache::Open(options_, &cache).ok());
    for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(cache->Put(kNamespace, KeyOf(i), ValueOf(i)).ok());
    ASSERT_TRUE(cache->Close(kDeadline).ok());
    if (!to_sst) return;
    std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_TRUE(store->Compact().ok());
  }

  // WriteAll, then DamageRecords; *damaged: the damaged records' "ns/key".
  void WriteAllAndDamage(bool to_sst, std::set<std::string>* damaged) {
    ASSERT_NO_FATAL_FAILURE(WriteAll(to_sst));
    std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_TRUE(store != nullptr);
    *damaged = DamageRecords(*store, random_);
  }

  std::unique_ptr<storage::Store> OpenStore() {
    storage::StoreOptions options;
    options.path = options_.path;
    options.free_space_reserve = options_.free_space_reserve;
    std::unique_ptr<storage::Store> store;
    const Status s = storage::Store::Open(options, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  // The store's files whose names end in `extension`, the largest first.
  std::vector<fs::path> FilesEndingIn(const std::string& extension) const {
    std::vector<fs::path> files;
    for (const auto& item : fs::directory_iterator(options_.path)) {
      if (item.path().extension() == extension) files.push_back(item.path());
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return SizeOf(a) > SizeOf(b); });
    return files;
  }

  fs::path Largest(const std::string& extension) const {
    const std::vector<fs::path> files = FilesEndingIn(extension);
    EXPECT_FALSE(files.empty()) << "no " << extension << " file in " << options_.path;
    return files.empty() ? fs::path() : files.front();
  }

  // Gets every key; fails the test at an answer that is none of the three.
  Outcome GetEveryKey(Cache& cache) {
    Outcome outcome;
    for (int i = 0; i < kKeys; ++i) {
      std::string value;
      const Status s = cache.Get(kNamespace, KeyOf(i), &value);
      if (s.ok()) {
        EXPECT_EQ(value, ValueOf(i)) << "a wrong value for " << KeyOf(i);
        ++outcome.right;
      } else if (s.IsCorruption()) {
        ++outcome.corrupt;
        if (outcome.first_corrupt < 0) outcome.first_corrupt = i;
        outcome.last_corrupt = i;
      } else {
        EXPECT_TRUE(s.IsNotFound()) << KeyOf(i) << ": " << s.ToString();
        ++outcome.missing;
      }
    }
    return outcome;
  }

  // What storage::Verify reports, one line per problem, and how many records
  // it checked.
  std::vector<std::string> Verify(std::uint64_t* checked) {
    std::unique_ptr<storage::Store> store = OpenStore();
    std::vector<std::string> problems;
    storage::VerifyResult result;
    if (!store) return {"the store did not open"};
    const Status s = storage::Verify(
        *store, {},
        [&](const storage::BadRecord& bad) {
          problems.push_back(bad.key ? bad.ns + "/" + *bad.key : bad.ns + ": " + bad.problem);
        },
        &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    *checked = result.checked;
    return problems;
  }

  test_util::TempDir dir_;
  Options options_;
  const std::uint64_t seed_ = test_util::SeedFromEnvironment();
  std::mt19937_64 random_{seed_};
};

TEST_F(CorruptionTest, DamagedRecordsAreCorruptionTheRestIsServedAndVerifyNamesEach) {
  std::set<std::string> damaged;
  ASSERT_NO_FATAL_FAILURE(WriteAllAndDamage(/*to_sst=*/true, &damaged));
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options_, &cache).ok());
  const Outcome outcome = GetEveryKey(*cache);
  EXPECT_EQ(outcome.corrupt, static_cast<int>(damaged.size()));
  EXPECT_EQ(outcome.right, kKeys - static_cast<int>(damaged.size()));
  EXPECT_EQ(cache->GetStats().disk.corrupt, damaged.size());
  // GetMany, reading the keys L1 misses together, gives each the same answer.
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(KeyOf(i));
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany(kNamespace, keys, &statuses, &values);
  for (int i = 0; i < kKeys; ++i) {
    if (damaged.count(std::string(kNamespace) + "/" + keys[i]) != 0) {
      EXPECT_TRUE(statuses[i].IsCorruption()) << keys[i] << ": " << statuses[i].ToString();
      EXPECT_EQ(values[i], "");
    } else {
      EXPECT_TRUE(statuses[i].ok()) << keys[i] << ": " << statuses[i].ToString();
      EXPECT_EQ(values[i], ValueOf(i));
    }
  }
  ASSERT_TRUE(cache->Close(kDeadline).ok());

  std::uint64_t checked = 0;
  const std::vector<std::string> problems = Verify(&checked);
  EXPECT_EQ(std::set<std::string>(problems.begin(), problems.end()), damaged);
  EXPECT_EQ(problems.size(), damaged.size());
  EXPECT_EQ(checked, static_cast<std::uint64_t>(kKeys));
}

// A record damaged after its value (a byte past the last field, resealed so
// that the decoder gets that far): Get and GetMany answer Corruption and hand
// back none of the value decoded on the way. The key has metadata, so that its
// value does not end the payload.
TEST_F(CorruptionTest, ARecordDamagedAfterItsValueLeavesNoValueBehind) {
  ASSERT_NO_FATAL_FAILURE(WriteAll(/*to_sst=*/false));
  {
    std::unique_ptr<Cache> cache;
    ASSERT_TRUE(Cache::Open(options_, &cache).ok());
    WriteOptions with_metadata;
    with_metadata.metadata = {{"origin", "test"}};
    ASSERT_TRUE(cache->Put(kNamespace, KeyOf(1), ValueOf(1), with_metadata).ok());
    ASSERT_TRUE(cache->Close(kDeadline).ok());
  }
  {
    std::unique_ptr<storage::Store> store = OpenStore();
    ASSERT_TRUE(store != nullptr);
    storage::Namespace ns;
    ASSERT_TRUE(store->OpenNamespace(kNamespace, &ns).ok());
    std::string record;
    ASSERT_TRUE(store->Get(ns, KeyOf(1), &record).ok());
    record.insert(record.size() - 4, "!");  // before the checksum
    ASSERT_TRUE(store->Put(ns, KeyOf(1), Resealed(record)).ok());
  }
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options_, &cache).ok());
  std::vector<Status> statuses;
  std::vector<std::string> values;
  cache->GetMany(kNamespace, {KeyOf(0), KeyOf(1)}, &statuses, &values);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0].ToString();
  EXPECT_EQ(values[0], ValueOf(0));
  EXPECT_TRUE(statuses[1].IsCorruption()) << statuses[1].ToString();
  EXPECT_NE(statuses[1].message().find("follow the payload's last field"), std::string::npos)
      << statuses[1].ToString();
  EXPECT_EQ(values[1], "");
  std::string value = "untouched";
  EXPECT_TRUE(cache->Get(kNamespace, KeyOf(1), &value).IsCorruption());
  EXPECT_EQ(value, "");
}

TEST_F(CorruptionTest, ADamagedRecordIsAMissWhenAskedAndCounted) {
  options_.on_corrupt_record = CorruptRecordAction::kTreatAsMiss;
  std::set<std::string> damaged;
  ASSERT_NO_FATAL_FAILURE(WriteAllAndDamage(/*to_sst=*/false, &damaged));
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options_, &cache).ok());
  const Outcome outcome = GetEveryKey(*cache);
  EXPECT_EQ(outcome.missing, static_cast<int>(damaged.size()));
  EXPECT_EQ(outcome.corrupt, 0);
  EXPECT_EQ(cache->GetStats().disk.corrupt, damaged.size());
}

// CompareAndPut reads only a record's header and checksum: a damaged record
// is Corruption and stays as it was, or, treated as a miss, an absent entry
// that expected version 0 replaces.
TEST_F(CorruptionTest, CompareAndPutOverADamagedRecordFollowsTheSameChoice) {
  std::set<std::string> damaged;
  ASSERT_NO_FATAL_FAILURE(WriteAllAndDamage(/*to_sst=*/false, &damaged));
  const std::string key = damaged.begin()->substr(std::string(kNamespace).size() + 1);
  {
    std::unique_ptr<Cache> cache;
    ASSERT_TRUE(Cache::Open(options_, &cache).ok());
    const Status s = cache->CompareAndPut(kNamespace, key, 0, "new");
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
    EXPECT_EQ(cache->GetStats().disk.corrupt, 1u);
    std::string value;
    EXPECT_TRUE(cache->Get(kNamespace, key, &value).IsCorruption());
    ASSERT_TRUE(cache->Close(kDeadline).ok());
  }
  options_.on_corrupt_record = CorruptRecordAction::kTreatAsMiss;
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options_, &cache).ok());
  EXPECT_TRUE(cache->CompareAndPut(kNamespace, key, 1, "stale").IsConflict());
  ASSERT_TRUE(cache->CompareAndPut(kNamespace, key, 0, "new").ok());
  std::string value;
  ASSERT_TRUE(cache->Get(kNamespace, key, &value).ok());
  EXPECT_EQ(value, "new");
}

TEST_F(CorruptionTest, TheLoaderRefillsADamagedRecordTreatedAsAMiss) {
  options_.on_corrupt_record = CorruptRecordAction::kTreatAsMiss;
  std::set<std::string> damaged;
  ASSERT_NO_FATAL_FAILURE(WriteAllAndDamage(/*to_sst=*/false, &damaged));
  options_.read_policy = ReadPolicy::kReadThrough;
  options_.loader = [](std::string_view, std::string_view key, LoadedValue* loaded) {
    loaded->value = ValueOf(std::stoi(std::string(key.substr(1))));
    return Status::OK();
  };
  {
    std::unique_ptr<Cache> cache;
    ASSERT_TRUE(Cache::Open(options_, &cache).ok());
    EXPECT_EQ(GetEveryKey(*cache).right, kKeys);
    EXPECT_EQ(cache->GetStats().loads.calls, damaged.size());
    EXPECT_EQ(cache->GetStats().disk.corrupt, damaged.size());
    ASSERT_TRUE(cache->Close(kDeadline).ok());
  }
  std::uint64_t checked = 0;
  EXPECT_TRUE(Verify(&checked).empty()) << "the loader's values replaced the damaged records";
}

// SST files hold the data after a compaction. RocksDB checks each block's
// checksum as it reads it: a damaged data block makes its own keys answer
// Corruption and leaves the others readable. Damaged records beside it are
// still found.
TEST_F(CorruptionTest, AFlippedByteInAnSstDataBlockIsCorruptionForThatBlockOnly) {
  ASSERT_NO_FATAL_FAILURE(WriteAll(/*to_sst=*/true));
  const fs::path sst = Largest(".sst");
  std::set<std::string> damaged;
  {
    std::unique_ptr<storage::Store> store = OpenStore();
    damaged = DamageRecords(*store, random_, /*from=*/100);
  }
  // Within the first data block, which holds the first few dozen keys.
  FlipByte(sst, random_() % 512);
  std::unique_ptr<Cache> cache;
  ASSERT_TRUE(Cache::Open(options_, &cache).ok());
  const Outcome outcome = GetEveryKey(*cache);
  const int in_block = outcome.corrupt - static_cast<int>(damaged.size());
  EXPECT_GT(in_block, 0);
  EXPECT_LT(in_block, 100);
  EXPECT_EQ(outcome.right + outcome.corrupt, kKeys);
  EXPECT_EQ(cache->GetStats().disk.corrupt, static_cast<std::uint64_t>(outcome.corrupt));
  ASSERT_TRUE(cache->Close(kDeadline).ok());

  std::uint64_t checked = 0;
  const std::vector<std::string> problems = Verify(&checked);
  ASSERT_EQ(problems.size(), damaged.size() + 2);
  // The damaged block, by file, offset and size, first.
  EXPECT_NE(problems[0].find("SST file " + sst.filename().string()), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[0].find("block checksum mismatch"), std::string::npos) << problems[0];
  // Then each damaged record, found walking back from the end to the block.
  EXPECT_EQ(std::set<std::string>(problems.begin() + 1, problems.end() - 1), damaged);
  // And where the walk from the start stopped. Unchecked: the block's records
  // and the one after it (a backward step in RocksDB reads one entry ahead).
  EXPECT_NE(problems.back().find("the scan stopped early"), std::string::npos) << problems.back();
  EXPECT_EQ(checked, static_cast<std::uint64_t>(kKeys - in_block - 1));
}

// GetEveryKey fails the test at a wrong value. A byte among the data blocks
// damages one block, whose keys (a run of them, as the keys sort) answer
// Corruption while every other key is served. A byte after them, in the
// filter, index or properties blocks or the footer, may refuse the store or
// make its keys Corruption; there, a key may also go missing (RocksDB reads
// on without a damaged properties block and can misread the index then).
TEST_F(CorruptionTest, AFlippedByteAnywhereInAnSstFileNeverServesAWrongValue) {
  for (int round = 0; round < test_util::Rounds(3); ++round) {
    ASSERT_NO_FATAL_FAILURE(WriteAll(/*to_sst=*/true));
    const fs::path sst = Largest(".sst");
    const std::uintmax_t data_end = DataBlocksEnd(sst);
    const std::uintmax_t offset = random_() % SizeOf(sst);
    const bool in_data = offset < data_end;
    SCOPED_TRACE(fmt::format("byte {} of {} bytes, the data blocks ending at {}", offset,
                             SizeOf(sst), data_end));
    FlipByte(sst, offset);
    std::unique_ptr<Cache> cache;
    const Status s = Cache::Open(options_, &cache);
    if (!s.ok()) {
      EXPECT_FALSE(in_data) << "a damaged data block refused the store: " << s.ToString();
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      continue;
    }
    const Outcome outcome = GetEveryKey(*cache);
    if (!in_data) continue;
    EXPECT_EQ(outcome.missing, 0);
    EXPECT_GT(outcome.corrupt, 0);
    EXPECT_EQ(outcome.last_corrupt - outcome.first_corrupt + 1, outcome.corrupt)
        << "Corruption from " << KeyOf(outcome.first_corrupt) << " to "
        << KeyOf(outcome.last_corrupt) << " is not one block's run of keys";
  }
}

TEST_F(CorruptionTest, ACutSstFileFailsOpenWithCorruptionNamingTheFile) {
  ASSERT_NO_FATAL_FAILURE(WriteAll(/*to_sst=*/true));
  const fs::path sst = Largest(".sst");
  fs::resize_file(sst, SizeOf(sst) - 1 - random_() % (SizeOf(sst) - 1));
  std::unique_ptr<Cache> cache;
  const Status s = Cache::Open(options_, &cache);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(sst.filename().string()), std::string::npos) << s.ToString();
}

// Unflushed writes live in the WAL alone. Recovery replays it up to the first
// damaged record: the store opens with the writes before it, in order, and
// without those after it.
TEST_F(CorruptionTest, DamageToTheWalKeepsTheWritesBeforeItAndDropsTheRest) {
  for (int round = 0; round < test_util::Rounds(4); ++round) {
    ASSERT_NO_FATAL_FAILURE(WriteAll(/*to_sst=*/false));
    const fs::path wal = Largest(".log");
    const std::uintmax_t offset = random_() % SizeOf(wal);
    const bool cut = round % 2 == 1;
    SCOPED_TRACE(
        fmt::format("{} byte {} of {} bytes", cut ? "cut at" : "flipped", offset, SizeOf(wal)));
    if (cut) {
      fs::resize_file(wal, offset);
    } else {
      FlipByte(wal, offset);
    }
    std::unique_ptr<Cache> cache;
    ASSERT_TRUE(Cache::Open(options_, &cache).ok());
    const Outcome outcome = GetEveryKey(*cache);
    EXPECT_EQ(outcome.corrupt, 0);
    // The keys were written in order: the survivors are the first ones.
    for (int i = 0; i < outcome.right; ++i) {
      ASSERT_TRUE(cache->Contains(kNamespace, KeyOf(i)).ok()) << KeyOf(i);
    }
    ASSERT_TRUE(cache->Close(kDeadline).ok());
    std::uint64_t checked = 0;
    EXPECT_TRUE(Verify(&checked).empty());
    EXPECT_EQ(checked, static_cast<std::uint64_t>(outcome.right));
  }
}

}  // namespace
}  // namespace tiercache
