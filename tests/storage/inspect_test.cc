#include "storage/inspect.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>
#include <utility>

#include "storage/entry_json.h"
#include "storage/fault_file_system.h"
#include "storage/record_format.h"
#include "tests/util/record_seal.h"
#include "tests/util/run_mode.h"
#include "tests/util/temp_dir.h"

namespace tiercache::storage {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using test_util::Resealed;

// Where the payload of a record without expiry starts (storage/record_format.h).
constexpr std::size_t kPayloadAt = 12;

class InspectTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(dir_.Sub("store")); }

  static std::unique_ptr<Store> OpenStore(
      const std::string& path, StoreOptions::Mode mode = StoreOptions::Mode::kReadWrite) {
    StoreOptions options;
    options.path = path;
    options.mode = mode;
    std::unique_ptr<Store> store;
    const Status s = Store::Open(options, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  static Namespace Ns(Store* store, std::string_view name) {
    Namespace ns;
    const Status s = store->OpenNamespace(name, &ns);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return ns;
  }

  static std::string Encode(const Entry& entry, Compression compression = Compression::kNone) {
    RecordEncoder encoder(compression, 16);
    std::string record;
    const Status s = encoder.Encode(entry, &record);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return record;
  }

  void PutRecord(std::string_view ns, std::string_view key, std::string_view record) {
    const Status s = store_->Put(Ns(store_.get(), ns), key, record);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void PutEntry(std::string_view ns, const Entry& entry,
                Compression compression = Compression::kNone) {
    PutRecord(ns, entry.key, Encode(entry, compression));
  }

  Entry MakeEntry(std::string key, std::string value, std::uint64_t version = 1) const {
    Entry entry;
    entry.key = std::move(key);
    entry.value = std::move(value);
    entry.created_at = clock_.Now();
    entry.last_accessed = clock_.Now() + milliseconds(5);
    entry.access_count = 3;
    entry.version = version;
    entry.metadata = {{"type", "text/plain"}};
    return entry;
  }

  static std::string DumpOf(const Store& store, std::string_view ns = {}) {
    std::ostringstream out;
    DumpResult result;
    const Status s = Dump(store, ns, &out, {}, {}, &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(result.bad, 0u);
    return out.str();
  }

  static Status LoadText(Store* store, const std::string& text, LoadResult* result,
                         LoadOptions options = {}) {
    std::istringstream in(text);
    return Load(store, &in, options, {}, result);
  }

  // The keys of namespace `ns`, in order.
  static std::vector<std::string> Keys(const Store& store, std::string_view ns) {
    std::vector<std::string> keys;
    ListOptions options;
    options.ns = std::string(ns);
    const Status s = ListEntries(store, options,
                                 [&](std::string_view, const Entry& entry) {
                                   keys.push_back(entry.key);
                                   return true;
                                 },
                                 {});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return keys;
  }

  ManualClock clock_;
  test_util::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// Random entries: text and binary keys and values, with and without expiry
// and metadata, in three namespaces.
void FillRandomly(std::mt19937_64& rng, const std::function<void(std::string, Entry)>& put,
                  TimePoint now) {
  const auto bytes = [&](std::size_t max, bool binary) {
    std::string s(rng() % max, 'x');
    for (char& c : s) c = binary ? static_cast<char>(rng()) : static_cast<char>('a' + rng() % 26);
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    Entry entry;
    entry.key = fmt::format("{:04}", i) + bytes(12, rng() % 4 == 0);
    entry.value = bytes(rng() % 10 == 0 ? 3000 : 200, rng() % 3 == 0);
    entry.created_at = now - milliseconds(rng() % 100000);
    if (rng() % 2 == 0) entry.expires_at = now + milliseconds(rng() % 200000) - minutes(1);
    entry.last_accessed = now - milliseconds(rng() % 1000);
    entry.access_count = rng() % 100;
    entry.version = kMinVersion + rng() % kMaxVersion;
    if (rng() % 3 == 0) entry.metadata["etag"] = bytes(8, rng() % 5 == 0);
    put(fmt::format("ns{}", rng() % 3), std::move(entry));
  }
}

TEST_F(InspectTest, DumpLoadDumpGivesTheSameLines) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  std::printf("DumpLoadDumpGivesTheSameLines seed %llu (TIERCACHE_SEED replays it)\n",
              static_cast<unsigned long long>(seed));
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  FillRandomly(
      rng, [&](std::string ns, Entry entry) { PutEntry(ns, entry, Compression::kLz4); },
      clock_.Now());
  const std::string first = DumpOf(*store_);
  ASSERT_EQ(std::count(first.begin(), first.end(), '\n'), 300);

  auto copy = OpenStore(dir_.Sub("copy"));
  LoadResult result;
  LoadOptions options;
  options.batch_entries = 7;  // several batches, the last one partial
  const Status s = LoadText(copy.get(), first, &result, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(result.entries, 300u);
  EXPECT_EQ(result.lines, 300u);
  EXPECT_EQ(DumpOf(*copy), first);
}

TEST_F(InspectTest, LoadKeepsEveryFieldAsDumped) {
  Entry entry = MakeEntry("k", "v", 41);
  entry.expires_at = clock_.Now() + hours(1);
  entry.metadata["etag"] = "\x01\x02";
  PutEntry("a", entry);
  auto copy = OpenStore(dir_.Sub("copy"));
  LoadResult result;
  ASSERT_TRUE(LoadText(copy.get(), DumpOf(*store_), &result).ok());
  Entry loaded;
  ASSERT_TRUE(GetEntry(*copy, "a", "k", &loaded).ok());
  EXPECT_EQ(loaded.value, "v");
  EXPECT_EQ(loaded.version, 41u);
  EXPECT_EQ(loaded.created_at, entry.created_at);
  EXPECT_EQ(loaded.expires_at, entry.expires_at);
  EXPECT_EQ(loaded.last_accessed, entry.last_accessed);
  EXPECT_EQ(loaded.access_count, 3u);
  EXPECT_EQ(loaded.metadata, entry.metadata);
}

TEST_F(InspectTest, DumpWritesBinaryValuesInBase64) {
  PutEntry("a", MakeEntry("bin", std::string("\x00\xff\x10", 3)));
  EXPECT_NE(DumpOf(*store_).find("\"value\":\"AP8Q\",\"value_encoding\":\"base64\""),
            std::string::npos);
}

TEST_F(InspectTest, DumpOfOneNamespaceHasOnlyItsEntries) {
  PutEntry("a", MakeEntry("k1", "v"));
  PutEntry("b", MakeEntry("k2", "v"));
  const std::string dump = DumpOf(*store_, "b");
  EXPECT_EQ(std::count(dump.begin(), dump.end(), '\n'), 1);
  EXPECT_NE(dump.find("\"key\":\"k2\""), std::string::npos);
}

// A JSON line of entry `key` in namespace "a" with version `version`.
std::string LineWithVersion(std::string_view key, std::uint64_t version) {
  return fmt::format(
      "{{\"namespace\":\"a\",\"key\":\"{}\",\"key_encoding\":\"utf8\",\"value\":\"v\","
      "\"value_encoding\":\"utf8\",\"version\":{},\"created_at\":0,\"expires_at\":null,"
      "\"last_accessed\":0,\"access_count\":0,\"metadata\":{{}}}}\n",
      key, version);
}

TEST_F(InspectTest, LoadReplacesAnOlderEntryWithTheSameKeyAndLoadsExpiredOnes) {
  PutEntry("a", MakeEntry("k", "old", 3));
  auto source = OpenStore(dir_.Sub("source"));
  Entry expired = MakeEntry("k", "new", 5);
  expired.expires_at = clock_.Now() - hours(1);
  ASSERT_TRUE(source->Put(Ns(source.get(), "a"), "k", Encode(expired)).ok());
  LoadResult result;
  ASSERT_TRUE(LoadText(store_.get(), DumpOf(*source), &result).ok());
  EXPECT_EQ(result.entries, 1u);
  EXPECT_EQ(result.kept, 0u);
  Entry loaded;
  ASSERT_TRUE(GetEntry(*store_, "a", "k", &loaded).ok());
  EXPECT_EQ(loaded.value, "new");
  EXPECT_EQ(loaded.version, 5u);
  EXPECT_EQ(loaded.expires_at, expired.expires_at);
}

// A key's version never goes backwards, also through load: a CompareAndPut
// with a version read before the load must stay a Conflict.
TEST_F(InspectTest, LoadKeepsAnEntryTheStoreHoldsAtTheSameOrANewerVersion) {
  PutEntry("a", MakeEntry("newer", "stored", 7));
  PutEntry("a", MakeEntry("same", "stored", 4));
  auto source = OpenStore(dir_.Sub("source"));
  for (const auto& [key, version] : {std::pair{"newer", 6}, {"same", 4}, {"new", 2}}) {
    ASSERT_TRUE(source->Put(Ns(source.get(), "a"), key, Encode(MakeEntry(key, "dumped", version)))
                    .ok());
  }
  LoadResult result;
  ASSERT_TRUE(LoadText(store_.get(), DumpOf(*source), &result).ok());
  EXPECT_EQ(result.lines, 3u);
  EXPECT_EQ(result.entries, 1u);
  EXPECT_EQ(result.kept, 2u);
  for (const auto& [key, value, version] :
       {std::tuple{"newer", "stored", 7}, {"same", "stored", 4}, {"new", "dumped", 2}}) {
    Entry entry;
    ASSERT_TRUE(GetEntry(*store_, "a", key, &entry).ok()) << key;
    EXPECT_EQ(entry.value, value) << key;
    EXPECT_EQ(entry.version, static_cast<std::uint64_t>(version)) << key;
  }
}

// Two dumps of one key in one input: the newer version stays, whichever line
// comes first, also when both lines fall into one batch.
TEST_F(InspectTest, LoadOfAKeyTwiceKeepsItsNewerVersion) {
  for (const std::size_t batch_entries : {std::size_t{1}, std::size_t{1000}}) {
    SCOPED_TRACE(testing::Message() << "batch_entries " << batch_entries);
    auto store = OpenStore(dir_.Sub(fmt::format("twice{}", batch_entries)));
    LoadOptions options;
    options.batch_entries = batch_entries;
    LoadResult result;
    ASSERT_TRUE(LoadText(store.get(),
                         LineWithVersion("up", 2) + LineWithVersion("up", 9) +
                             LineWithVersion("down", 9) + LineWithVersion("down", 2),
                         &result, options)
                    .ok());
    EXPECT_EQ(result.entries, 3u);
    EXPECT_EQ(result.kept, 1u);
    for (const char* key : {"up", "down"}) {
      Entry entry;
      ASSERT_TRUE(GetEntry(*store, "a", key, &entry).ok()) << key;
      EXPECT_EQ(entry.version, 9u) << key;
    }
  }
}

// A record too damaged to read its version by is replaced by the loaded entry.
TEST_F(InspectTest, LoadReplacesADamagedRecord) {
  std::string record = Encode(MakeEntry("k", "stored", 50));
  record.back() ^= 0x01;
  PutRecord("a", "k", record);
  LoadResult result;
  ASSERT_TRUE(LoadText(store_.get(), LineWithVersion("k", 3), &result).ok());
  EXPECT_EQ(result.entries, 1u);
  Entry entry;
  ASSERT_TRUE(GetEntry(*store_, "a", "k", &entry).ok());
  EXPECT_EQ(entry.version, 3u);
}

TEST_F(InspectTest, LoadRaisesTheVersionCeilingAboveEveryLoadedVersion) {
  auto source = OpenStore(dir_.Sub("source"));
  ASSERT_TRUE(source->Put(Ns(source.get(), "a"), "k1", Encode(MakeEntry("k1", "v", 900))).ok());
  ASSERT_TRUE(source->Put(Ns(source.get(), "a"), "k2", Encode(MakeEntry("k2", "v", 70))).ok());
  LoadResult result;
  ASSERT_TRUE(LoadText(store_.get(), DumpOf(*source), &result).ok());
  EXPECT_GT(store_->version_ceiling(), 900u);
}

TEST_F(InspectTest, LoadRefusesVersionZeroAndVersionsFrom2To63NamingTheLine) {
  for (const std::uint64_t version : {std::uint64_t{0}, kMaxVersion + 1, UINT64_MAX}) {
    LoadResult result;
    const Status s =
        LoadText(store_.get(), LineWithVersion("ok", 5) + LineWithVersion("k", version), &result);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(s.message(),
              fmt::format("line 2: \"version\" is {}, outside 1 .. 9223372036854775807", version));
    EXPECT_EQ(Keys(*store_, "a"), std::vector<std::string>{"ok"});
  }
  EXPECT_EQ(store_->version_ceiling(), 6u);
}

TEST_F(InspectTest, LoadOfTheLargestVersionLeavesACeilingTheStoreReopensWith) {
  LoadResult result;
  ASSERT_TRUE(LoadText(store_.get(), LineWithVersion("k", kMaxVersion), &result).ok());
  EXPECT_EQ(store_->version_ceiling(), kMaxVersion + 1);
  store_.reset();
  store_ = OpenStore(dir_.Sub("store"));
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->version_ceiling(), kMaxVersion + 1);
  Entry entry;
  ASSERT_TRUE(GetEntry(*store_, "a", "k", &entry).ok());
  EXPECT_EQ(entry.version, kMaxVersion);
}

// Large values fill the byte limit long before the entry limit: the entries
// go to the store in small batches as the lines come, not 1000 at a time.
TEST_F(InspectTest, LoadWritesABatchOnceItHoldsTheByteLimit) {
  std::string text;
  std::string line;
  for (int i = 0; i < 1100; ++i) {
    ASSERT_TRUE(EntryToJsonLine("a", MakeEntry(fmt::format("k{:04}", i), std::string(1000, 'v')),
                                &line)
                    .ok());
    text += line + "\n";
  }
  LoadOptions options;
  options.batch_entries = 1000;
  options.batch_bytes = 2500;  // two entries and a half
  std::size_t stored_at_progress = 0;
  std::istringstream in(text);
  LoadResult result;
  const Status s = Load(
      store_.get(), &in, options,
      [&](const Progress&) { stored_at_progress = Keys(*store_, "a").size(); }, &result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // At line 1024, all but the at most two entries of the open batch.
  EXPECT_GE(stored_at_progress, kProgressInterval - 2);
  EXPECT_LE(stored_at_progress, kProgressInterval);
  EXPECT_EQ(result.entries, 1100u);
  EXPECT_EQ(Keys(*store_, "a").size(), 1100u);
}

TEST_F(InspectTest, MalformedLineIsNamedAndTheLinesBeforeItAreLoaded) {
  auto source = OpenStore(dir_.Sub("source"));
  for (const char* key : {"k1", "k2", "k3", "k4"}) {
    ASSERT_TRUE(source->Put(Ns(source.get(), "a"), key, Encode(MakeEntry(key, "v"))).ok());
  }
  std::istringstream dump(DumpOf(*source));
  std::string lines[4];
  for (std::string& line : lines) std::getline(dump, line);
  // Line 2 is blank, line 5 is cut short.
  const std::string text = lines[0] + "\n\n" + lines[1] + "\n" + lines[2] + "\n" +
                           lines[3].substr(0, 40) + "\n" + lines[3] + "\n";
  LoadResult result;
  LoadOptions options;
  options.batch_entries = 2;  // lines 1 and 3 written before line 5 is read
  const Status s = LoadText(store_.get(), text, &result, options);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message().rfind("line 5: not valid JSON", 0), 0u) << s.message();
  EXPECT_EQ(result.entries, 3u);
  EXPECT_EQ(Keys(*store_, "a"), (std::vector<std::string>{"k1", "k2", "k3"}));
}

TEST_F(InspectTest, LineTheStoreRefusesIsNamed) {
  const std::string line =
      "{\"namespace\":\"\",\"key\":\"k\",\"key_encoding\":\"utf8\",\"value\":\"v\","
      "\"value_encoding\":\"utf8\",\"version\":1,\"created_at\":0,\"expires_at\":null,"
      "\"last_accessed\":0,\"access_count\":0,\"metadata\":{}}\n";
  LoadResult result;
  const Status s = LoadText(store_.get(), line, &result);
  EXPECT_EQ(s.message(), "line 1: namespace name is empty");
}

TEST_F(InspectTest, DumpLeavesOutAnUndecodableRecordAndNamesIt) {
  PutEntry("a", MakeEntry("good", "v"));
  PutRecord("a", "bad", "not a record");
  std::ostringstream out;
  DumpResult result;
  std::vector<BadRecord> bad;
  const Status s = Dump(
      *store_, {}, &out, {}, [&](const BadRecord& record) { bad.push_back(record); }, &result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(result.entries, 1u);
  EXPECT_EQ(result.bad, 1u);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].ns, "a");
  EXPECT_EQ(bad[0].key, "bad");
}

// ---------------------------------------------------------------------------
// verify

TEST_F(InspectTest, VerifyNamesEachBadRecordAndGoesOn) {
  const std::string good = Encode(MakeEntry("x", "a value long enough to damage"));
  std::string flipped = good;
  flipped[kPayloadAt + 20] ^= 0x01;  // header fine, checksum wrong
  std::string garbage = good;
  garbage[kPayloadAt] = 9;  // checksum fine, payload version 9 unknown
  PutEntry("a", MakeEntry("a1", "v"));
  PutRecord("a", "a2", flipped);
  PutEntry("a", MakeEntry("a3", "v"));
  PutRecord("b", "b1", Resealed(garbage));
  PutRecord("b", "b2", "short");
  PutEntry("b", MakeEntry("b3", "v"));
  std::vector<BadRecord> bad;
  VerifyResult result;
  const Status s = Verify(
      *store_, {}, [&](const BadRecord& record) { bad.push_back(record); }, &result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(result.checked, 6u);
  EXPECT_EQ(result.bad, 3u);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].ns + "/" + *bad[0].key, "a/a2");
  EXPECT_NE(bad[0].problem.find("checksum"), std::string::npos) << bad[0].problem;
  EXPECT_EQ(bad[1].ns + "/" + *bad[1].key, "b/b1");
  EXPECT_NE(bad[1].problem.find("payload version 9"), std::string::npos) << bad[1].problem;
  EXPECT_EQ(bad[2].ns + "/" + *bad[2].key, "b/b2");
}

TEST_F(InspectTest, VerifyOfAHealthyStoreChecksItsSstFilesAndFindsNothing) {
  for (int i = 0; i < 100; ++i) PutEntry("a", MakeEntry(fmt::format("k{}", i), "v"));
  ASSERT_TRUE(store_->Compact().ok());
  VerifyResult result;
  ASSERT_TRUE(Verify(*store_, {}, {}, &result).ok());
  EXPECT_EQ(result.checked, 100u);
  EXPECT_GE(result.sst_files, 1u);
  EXPECT_EQ(result.bad, 0u);
}

// What a power cut leaves of a table a flush was writing: RocksDB never reads
// it, and will write over it when it hands out its number again.
TEST_F(InspectTest, VerifyLeavesAnSstFileRocksDbDoesNotUseAlone) {
  for (int i = 0; i < 10; ++i) PutEntry("a", MakeEntry(fmt::format("k{}", i), "v"));
  std::ofstream(dir_.Sub("store") + "/999999.sst");  // empty
  VerifyResult result;
  ASSERT_TRUE(Verify(*store_, {}, {}, &result).ok());
  EXPECT_EQ(result.checked, 10u);
  EXPECT_EQ(result.bad, 0u);
}

TEST_F(InspectTest, VerifyFindsADamagedSstFileThroughRocksDbChecksums) {
  for (int i = 0; i < 100; ++i) PutEntry("a", MakeEntry(fmt::format("k{:03}", i), "v"));
  ASSERT_TRUE(store_->Compact().ok());
  store_.reset();
  std::vector<fs::path> ssts;
  for (const auto& file : fs::directory_iterator(dir_.Sub("store"))) {
    if (file.path().extension() == ".sst") ssts.push_back(file.path());
  }
  ASSERT_EQ(ssts.size(), 1u);
  {
    std::fstream sst(ssts[0], std::ios::in | std::ios::out | std::ios::binary);
    sst.seekp(20);  // inside the first data block
    sst.put('\x5a');
  }
  auto store = OpenStore(dir_.Sub("store"), StoreOptions::Mode::kSecondary);
  std::vector<BadRecord> bad;
  VerifyResult result;
  ASSERT_TRUE(Verify(
                  *store, {}, [&](const BadRecord& record) { bad.push_back(record); }, &result)
                  .ok());
  ASSERT_GE(bad.size(), 1u);
  EXPECT_EQ(bad[0].ns, "");
  EXPECT_FALSE(bad[0].key.has_value());
  EXPECT_EQ(bad[0].problem.rfind("SST file " + ssts[0].filename().string(), 0), 0u)
      << bad[0].problem;
  EXPECT_EQ(result.bad, bad.size());
}

// ---------------------------------------------------------------------------
// purge-expired, stats, ls, get

TEST_F(InspectTest, PurgeExpiredDeletesExactlyTheExpiredRecords) {
  for (int i = 0; i < 2500; ++i) {
    Entry entry = MakeEntry(fmt::format("soon{:04}", i), "v");
    entry.expires_at = clock_.Now() + minutes(1);
    PutEntry(i % 2 == 0 ? "a" : "b", entry);
  }
  Entry later = MakeEntry("later", "v");
  later.expires_at = clock_.Now() + hours(1);
  PutEntry("a", later);
  PutEntry("a", MakeEntry("never", "v"));
  PutRecord("a", "undecodable", "junk");
  // Expired but damaged, each past what its header says: left for verify.
  Entry damaged = MakeEntry("damaged", "a value long enough to damage");
  damaged.expires_at = clock_.Now() + minutes(1);
  std::string cut = Encode(damaged);
  cut.pop_back();
  PutRecord("b", "cut", cut);
  std::string flipped = Encode(damaged);
  flipped[flipped.size() - 5] ^= 0x01;
  PutRecord("b", "flipped", flipped);
  PurgeResult result;
  ASSERT_TRUE(PurgeExpired(store_.get(), clock_, {}, &result).ok());
  EXPECT_EQ(result.purged, 0u);
  clock_.Advance(minutes(1));
  ASSERT_TRUE(PurgeExpired(store_.get(), clock_, {}, &result).ok());
  EXPECT_EQ(result.scanned, 2505u);
  EXPECT_EQ(result.purged, 2500u);
  VerifyResult verified;
  ASSERT_TRUE(Verify(*store_, {}, {}, &verified).ok());
  EXPECT_EQ(verified.bad, 3u);  // undecodable, cut, flipped
  EXPECT_EQ(Keys(*store_, "a"), (std::vector<std::string>{"later", "never"}));
  EXPECT_TRUE(Keys(*store_, "b").empty());
}

TEST_F(InspectTest, StatsCountEntriesBytesExpiredAndCorruptRecords) {
  Entry expired = MakeEntry("k1", std::string(1000, 'a'));
  expired.expires_at = clock_.Now() - milliseconds(1);
  PutEntry("a", expired, Compression::kLz4);
  PutEntry("a", MakeEntry("k2", "short"));
  PutEntry("b", MakeEntry("k3", "value"));
  PutRecord("b", "k4", "junk");
  StoreFigures figures;
  ASSERT_TRUE(CollectFigures(*store_, clock_, {}, &figures).ok());
  EXPECT_EQ(figures.format_version, kStoreFormatVersion);
  EXPECT_EQ(figures.record_format_version, kRecordFormatVersion);
  EXPECT_EQ(figures.namespaces, 2u);
  EXPECT_EQ(figures.entries, 4u);
  EXPECT_EQ(figures.expired_entries, 1u);
  EXPECT_EQ(figures.corrupt_records, 1u);
  EXPECT_EQ(figures.key_bytes, 8u);
  EXPECT_EQ(figures.value_bytes, 1010u);
  // 1000 repeated bytes compress to a few dozen.
  EXPECT_GT(figures.compression_ratio(), 3.0);
  EXPECT_GT(figures.disk_bytes, 0u);
  EXPECT_GE(figures.rocksdb.estimated_keys, 4u);
}

TEST_F(InspectTest, StatsOfAnUncompressedStoreHaveRatioOne) {
  PutEntry("a", MakeEntry("k", std::string(1000, 'a')));
  StoreFigures figures;
  ASSERT_TRUE(CollectFigures(*store_, clock_, {}, &figures).ok());
  EXPECT_EQ(figures.compression_ratio(), 1.0);
}

TEST_F(InspectTest, ProgressIsReportedEveryIntervalOfRecords) {
  for (std::uint64_t i = 0; i < 2 * kProgressInterval + 5; ++i) {
    PutEntry("a", MakeEntry(fmt::format("k{:05}", i), "v"));
  }
  std::vector<std::uint64_t> reports;
  StoreFigures figures;
  ASSERT_TRUE(CollectFigures(
                  *store_, clock_,
                  [&](const Progress& progress) { reports.push_back(progress.items); }, &figures)
                  .ok());
  EXPECT_EQ(reports, (std::vector<std::uint64_t>{kProgressInterval, 2 * kProgressInterval}));
}

TEST_F(InspectTest, ListFiltersByNamespacePrefixAndLimit) {
  for (const char* key : {"user/1", "user/2", "user/3", "session/1"}) {
    PutEntry("a", MakeEntry(key, "v"));
  }
  PutEntry("b", MakeEntry("user/9", "v"));
  std::vector<std::string> listed;
  ListOptions options;
  options.prefix = "user/";
  options.limit = 3;
  ASSERT_TRUE(ListEntries(*store_, options,
                          [&](std::string_view ns, const Entry& entry) {
                            listed.push_back(std::string(ns) + ":" + entry.key);
                            return true;
                          },
                          {})
                  .ok());
  EXPECT_EQ(listed, (std::vector<std::string>{"a:user/1", "a:user/2", "a:user/3"}));
  EXPECT_EQ(Keys(*store_, "b"), std::vector<std::string>{"user/9"});
}

TEST_F(InspectTest, AMissingNamespaceIsNotFoundAndNotCreated) {
  std::vector<Namespace> namespaces;
  EXPECT_TRUE(SelectNamespaces(*store_, "nope", &namespaces).IsNotFound());
  Entry entry;
  EXPECT_TRUE(GetEntry(*store_, "nope", "k", &entry).IsNotFound());
  ASSERT_TRUE(store_->ListNamespaces(&namespaces).ok());
  EXPECT_TRUE(namespaces.empty());
}

TEST_F(InspectTest, GetNamesAMissingKeyAndAnUndecodableRecord) {
  PutEntry("a", MakeEntry("k", "v"));
  PutRecord("a", "bad", "junk");
  Entry entry;
  ASSERT_TRUE(GetEntry(*store_, "a", "k", &entry).ok());
  EXPECT_EQ(entry.key, "k");
  EXPECT_EQ(entry.value, "v");
  Status s = GetEntry(*store_, "a", "missing", &entry);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(s.message(), "no key 'missing' in namespace 'a'");
  s = GetEntry(*store_, "a", "bad", &entry);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message().rfind("namespace 'a', key 'bad': record:", 0), 0u) << s.message();
}

// An empty name would select every namespace: an entry of whichever came
// first, or none at all.
TEST_F(InspectTest, GetRefusesAnEmptyNamespaceNameWithOrWithoutNamespaces) {
  Entry entry;
  Status s = GetEntry(*store_, "", "k", &entry);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(), "namespace name is empty");
  PutEntry("a", MakeEntry("k", "in a"));
  s = GetEntry(*store_, "", "k", &entry);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(), "namespace name is empty");
}

TEST_F(InspectTest, CompactReportsTheFiguresBeforeAndAfter) {
  for (int i = 0; i < 50; ++i) PutEntry("a", MakeEntry(fmt::format("k{}", i), "v"));
  CompactResult result;
  ASSERT_TRUE(CompactStore(store_.get(), &result).ok());
  EXPECT_GE(result.after.sst_files, 1u);
}

// ---------------------------------------------------------------------------
// A power cut right after load or purge-expired has reported success

class InspectPowerCutTest : public InspectTest {
 protected:
  // Under the default durability, kProcessCrash, as the tiercache command
  // opens stores: data writes are not synced one by one.
  std::unique_ptr<Store> OpenCuttable() {
    StoreOptions options;
    options.path = dir_.Sub("cut");
    options.file_system = fs_;
    std::unique_ptr<Store> store;
    const Status s = Store::Open(options, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  // Closes *store, forgets what it never synced, and opens it again.
  void CutPower(std::unique_ptr<Store>* store) {
    store->reset();
    ASSERT_TRUE(fs_->DropUnsyncedData().ok());
    *store = OpenCuttable();
    ASSERT_NE(*store, nullptr);
  }

  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
};

TEST_F(InspectPowerCutTest, LoadedEntriesSurvive) {
  auto store = OpenCuttable();
  LoadResult result;
  ASSERT_TRUE(
      LoadText(store.get(), LineWithVersion("k1", 1) + LineWithVersion("k2", 2), &result).ok());
  CutPower(&store);
  EXPECT_EQ(Keys(*store, "a"), (std::vector<std::string>{"k1", "k2"}));
}

TEST_F(InspectPowerCutTest, TheLinesLoadedBeforeAMalformedOneSurvive) {
  auto store = OpenCuttable();
  LoadResult result;
  ASSERT_TRUE(
      LoadText(store.get(), LineWithVersion("k1", 1) + "{\n", &result).IsInvalidArgument());
  ASSERT_EQ(result.entries, 1u);
  CutPower(&store);
  EXPECT_EQ(Keys(*store, "a"), std::vector<std::string>{"k1"});
}

TEST_F(InspectPowerCutTest, PurgedEntriesStayPurged) {
  auto store = OpenCuttable();
  Entry expiring = MakeEntry("old", "v");
  expiring.expires_at = clock_.Now() + minutes(1);
  ASSERT_TRUE(store->Put(Ns(store.get(), "a"), "old", Encode(expiring)).ok());
  ASSERT_TRUE(store->Put(Ns(store.get(), "a"), "new", Encode(MakeEntry("new", "v"))).ok());
  ASSERT_TRUE(store->SyncWal().ok());
  clock_.Advance(minutes(2));
  PurgeResult result;
  ASSERT_TRUE(PurgeExpired(store.get(), clock_, {}, &result).ok());
  ASSERT_EQ(result.purged, 1u);
  CutPower(&store);
  EXPECT_EQ(Keys(*store, "a"), std::vector<std::string>{"new"});
}

}  // namespace
}  // namespace tiercache::storage
