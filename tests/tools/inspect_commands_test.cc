// The inspection subcommands as a user runs them: the real binary, its exit
// codes, its output, and a second process that has the store open.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/key_layout.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/tools/process.h"
#include "tests/util/read_file.h"
#include "tests/util/temp_dir.h"

namespace tiercache::tool {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;
using storage::Namespace;
using storage::Store;
using storage::StoreOptions;
using test_util::ReadFile;
using test_util::RunTool;
using test_util::StoreWriter;
using test_util::ToolRun;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// What a TTL LEFT cell ("1h0m", "59m58s", "850ms") stands for: at least
// `least`, and less than `least + step`, the step of its last unit.
struct TimeLeft {
  milliseconds least{0};
  milliseconds step{0};
};

// One or two parts of a number and a unit; nullopt for anything else.
std::optional<TimeLeft> ParseTimeLeft(std::string_view text) {
  static constexpr std::pair<std::string_view, milliseconds> kUnits[] = {
      {"ms", milliseconds(1)}, {"d", hours(24)}, {"h", hours(1)},
      {"m", std::chrono::minutes(1)}, {"s", std::chrono::seconds(1)}};
  TimeLeft left;
  for (int parts = 0; !text.empty(); ++parts) {
    std::int64_t count = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (error != std::errc() || parts == 2) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    const auto* unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                                    [&](const auto& u) { return text.starts_with(u.first); });
    if (unit == std::end(kUnits)) return std::nullopt;
    text.remove_prefix(unit->first.size());
    left.step = unit->second;
    left.least += count * left.step;
  }
  if (left.step == milliseconds(0)) return std::nullopt;
  return left;
}

// Every subcommand of the issue, with the positional arguments it needs
// after DIR.
struct Subcommand {
  std::string name;
  std::vector<std::string> extra;
};
const std::vector<Subcommand> kSubcommands = {
    {"stats", {}},          {"namespaces", {}},    {"ls", {}},
    {"get", {"ns", "key"}}, {"dump", {}},          {"load", {}},
    {"verify", {}},         {"purge-expired", {}}, {"compact", {}},
};

std::vector<std::string> Args(const Subcommand& command, const std::string& dir) {
  std::vector<std::string> args = {command.name, dir};
  args.insert(args.end(), command.extra.begin(), command.extra.end());
  return args;
}

class InspectCommandsTest : public ::testing::Test {
 protected:
  // A store at path_ with a few entries: text, binary, expired; then closed.
  void MakeStore() {
    StoreOptions options;
    options.path = path_;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(options, &store).ok());
    Put(store.get(), "users", MakeEntry("alice", "{\"age\": 36}", std::nullopt));
    Put(store.get(), "users", MakeEntry("bob", "{\"age\": 41}", now_ + hours(1)));
    Put(store.get(), "thumbs", MakeEntry("img\xff", std::string("\x89PNG\0\x01", 6), std::nullopt));
    Put(store.get(), "thumbs", MakeEntry("old", "stale", now_ - hours(1)));
  }

  Entry MakeEntry(std::string key, std::string value, std::optional<TimePoint> expires_at) const {
    Entry entry;
    entry.key = std::move(key);
    entry.value = std::move(value);
    entry.created_at = entry.last_accessed = now_;
    entry.expires_at = expires_at;
    entry.version = 7;
    entry.metadata["source"] = "test";
    return entry;
  }

  static void Put(Store* store, std::string_view ns_name, const Entry& entry) {
    Namespace ns;
    ASSERT_TRUE(store->OpenNamespace(ns_name, &ns).ok());
    storage::RecordEncoder encoder(Compression::kLz4, 4);
    std::string record;
    ASSERT_TRUE(encoder.Encode(entry, &record).ok());
    ASSERT_TRUE(store->Put(ns, entry.key, record).ok());
  }

  static void PutRaw(const std::string& path, std::string_view key, std::string_view record) {
    StoreOptions options;
    options.path = path;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(options, &store).ok());
    Namespace ns;
    ASSERT_TRUE(store->OpenNamespace("users", &ns).ok());
    ASSERT_TRUE(store->Put(ns, key, record).ok());
  }

  // The store's format version set to `version` behind tiercache's back.
  void SetFormatVersion(const std::string& version) {
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}},
        {storage::kMetaColumnFamily, {}},
        {storage::kDataColumnFamily, {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path_, families, &handles, &db).ok());
    EXPECT_TRUE(db->Put({}, handles[1], std::string(storage::kFormatVersionKey), version).ok());
    for (auto* handle : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    EXPECT_TRUE(db->Close().ok());
    delete db;
  }

  const TimePoint now_ = SystemClock().Now();
  test_util::TempDir dir_;
  const std::string path_ = dir_.Sub("store");
};

// ---------------------------------------------------------------------------
// Usage and refusals

TEST_F(InspectCommandsTest, AnUnknownFlagIsAUsageErrorWithTheSubcommandsUsageOnStderr) {
  for (const Subcommand& command : kSubcommands) {
    std::vector<std::string> args = Args(command, path_);
    args.push_back("--bogus");
    const ToolRun run = RunTool(args);
    EXPECT_EQ(run.exit_code, 2) << command.name;
    EXPECT_TRUE(Contains(run.err, "--bogus")) << run.err;
    EXPECT_TRUE(Contains(run.err, "Usage:") && Contains(run.err, command.name + " [OPTIONS]"))
        << run.err;
    EXPECT_EQ(run.out, "");
    EXPECT_FALSE(fs::exists(path_));
  }
}

TEST_F(InspectCommandsTest, AMissingArgumentIsAUsageError) {
  EXPECT_EQ(RunTool({"get", path_, "ns"}).exit_code, 2);
  EXPECT_EQ(RunTool({"ls"}).exit_code, 2);
  EXPECT_EQ(RunTool({}).exit_code, 2);
}

// CLI11 reads -1 into an unsigned option as 2^64 - 1: no limit at all.
TEST_F(InspectCommandsTest, ANegativeLimitIsAUsageError) {
  MakeStore();
  for (const char* limit : {"-1", "-20"}) {
    const ToolRun run = RunTool({"ls", path_, "--limit", limit});
    EXPECT_EQ(run.exit_code, 2) << limit;
    EXPECT_TRUE(Contains(run.err, fmt::format("--limit: {} is negative", limit))) << run.err;
    EXPECT_EQ(run.out, "");
  }
  EXPECT_EQ(RunTool({"ls", path_, "--limit=-3"}).exit_code, 2);
  EXPECT_EQ(Lines(RunTool({"ls", path_, "--limit", "0"}).out).size(), 5u);
}

// As for load's input: a file the command cannot open is the caller's to fix.
TEST_F(InspectCommandsTest, DumpToAFileThatCannotBeCreatedIsAUsageError) {
  MakeStore();
  const std::string output = dir_.Sub("missing/dump.jsonl");
  const ToolRun run = RunTool({"dump", path_, "-o", output});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err,
            fmt::format("tiercache dump: cannot write {}: No such file or directory\n", output));
  EXPECT_EQ(run.out, "");
}

TEST_F(InspectCommandsTest, EverySubcommandHasHelp) {
  for (const Subcommand& command : kSubcommands) {
    const ToolRun run = RunTool({command.name, "--help"});
    EXPECT_EQ(run.exit_code, 0) << command.name;
    EXPECT_TRUE(Contains(run.out, "Usage:")) << run.out;
  }
}

TEST_F(InspectCommandsTest, AMissingDirectoryIsRefusedWithExit3AndNothingIsCreated) {
  for (const Subcommand& command : kSubcommands) {
    const ToolRun run = RunTool(Args(command, path_));
    EXPECT_EQ(run.exit_code, 3) << command.name;
    EXPECT_EQ(run.err, fmt::format("tiercache {}: {}: no such directory\n", command.name, path_));
    EXPECT_FALSE(fs::exists(path_)) << command.name;
  }
}

TEST_F(InspectCommandsTest, ADirectoryThatIsNotAStoreIsRefusedAndLeftAlone) {
  fs::create_directory(path_);
  std::ofstream(path_ + "/notes.txt") << "mine";
  for (const Subcommand& command : kSubcommands) {
    const ToolRun run = RunTool(Args(command, path_));
    EXPECT_EQ(run.exit_code, 3) << command.name;
    EXPECT_TRUE(Contains(run.err, "is not a tiercache store")) << run.err;
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(path_), fs::directory_iterator()), 1);
}

// server.log once passed for a file RocksDB leaves when a creation stops
// half-way, and load created a store beside it.
TEST_F(InspectCommandsTest, LoadRefusesADirectoryHoldingAUsersLogFile) {
  fs::create_directory(path_);
  std::ofstream(path_ + "/server.log") << "mine";
  const ToolRun run = RunTool({"load", path_});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(run.err, fmt::format("tiercache load: {} is not a tiercache store: the directory "
                                 "holds other files\n",
                                 path_));
  EXPECT_EQ(std::distance(fs::directory_iterator(path_), fs::directory_iterator()), 1);
}

TEST_F(InspectCommandsTest, AnEmptyDirectoryIsNoStoreExceptForLoad) {
  fs::create_directory(path_);
  for (const Subcommand& command : kSubcommands) {
    if (command.name == "load") continue;
    const ToolRun run = RunTool(Args(command, path_));
    EXPECT_EQ(run.exit_code, 3) << command.name;
    EXPECT_TRUE(Contains(run.err, "no tiercache store")) << run.err;
  }
  EXPECT_TRUE(fs::is_empty(path_));
  EXPECT_EQ(RunTool({"load", path_}).exit_code, 0);
  EXPECT_EQ(RunTool({"stats", path_}).exit_code, 0);
}

TEST_F(InspectCommandsTest, ANewerFormatIsRefused) {
  MakeStore();
  const std::string newer = std::to_string(storage::kStoreFormatVersion + 1);
  SetFormatVersion(newer);
  for (const Subcommand& command : kSubcommands) {
    const ToolRun run = RunTool(Args(command, path_));
    EXPECT_EQ(run.exit_code, 3) << command.name;
    EXPECT_TRUE(Contains(run.err, "store format version " + newer + " is newer")) << run.err;
  }
}

TEST_F(InspectCommandsTest, WritingCommandsRefuseAStoreInUse) {
  MakeStore();
  StoreWriter holder("hold", path_);
  ASSERT_EQ(holder.ReadLine(), "ready");
  const std::string dump = dir_.Sub("dump.jsonl");
  ASSERT_EQ(RunTool({"dump", path_, "-o", dump}).exit_code, 0);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"load", path_, dump}, {"purge-expired", path_}, {"compact", path_}}) {
    const ToolRun run = RunTool(args);
    EXPECT_EQ(run.exit_code, 3) << args[0];
    EXPECT_TRUE(Contains(run.err, "is in use by another process")) << run.err;
    EXPECT_TRUE(Contains(run.err, "close the application first")) << run.err;
  }
}

TEST_F(InspectCommandsTest, ReadOnlyCommandsWorkWhileAnotherProcessWrites) {
  MakeStore();
  StoreWriter writer("write", path_);
  ASSERT_EQ(writer.ReadLine(), "10");
  const std::vector<std::vector<std::string>> commands = {
      {"namespaces", path_}, {"ls", path_, "-n", "live", "--limit", "5"},
      {"stats", path_},      {"get", path_, "live", "k00000003"},
      {"dump", path_},       {"verify", path_}};
  for (const std::vector<std::string>& args : commands) {
    const ToolRun run = RunTool(args);
    EXPECT_EQ(run.exit_code, 0) << args[0] << ": " << run.err;
    EXPECT_EQ(run.err, "") << args[0];
  }
  EXPECT_TRUE(Contains(RunTool({"get", path_, "live", "k00000003"}).out, "value 3"));
  // The writer went on meanwhile: it is neither blocked nor failed.
  const std::string before = writer.ReadLine();
  ASSERT_FALSE(before.empty());
  EXPECT_GT(std::stoi(writer.ReadLine()), std::stoi(before));
}

// ---------------------------------------------------------------------------
// Output

TEST_F(InspectCommandsTest, DumpLoadDumpGivesTheSameLines) {
  MakeStore();
  const std::string first = dir_.Sub("first.jsonl");
  ASSERT_EQ(RunTool({"dump", path_, "-o", first}).exit_code, 0);
  EXPECT_EQ(Lines(ReadFile(first)).size(), 4u);
  const std::string copy = dir_.Sub("copy");
  fs::create_directory(copy);
  const ToolRun load = RunTool({"load", copy}, first);  // from stdin
  EXPECT_EQ(load.exit_code, 0) << load.err;
  EXPECT_EQ(load.out, "loaded 4 entries from 4 lines\n");
  EXPECT_EQ(RunTool({"dump", copy}).out, ReadFile(first));
  // Again: the copy holds every entry at its version already.
  const ToolRun again = RunTool({"load", copy, first});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out,
            "loaded 0 entries from 4 lines; left out 4 lines: the store holds their keys at the "
            "same or a newer version\n");
  EXPECT_EQ(RunTool({"dump", copy}).out, ReadFile(first));
}

TEST_F(InspectCommandsTest, DumpWritesBinaryValuesInBase64AndStaysQuietWhenNotATerminal) {
  MakeStore();
  const ToolRun run = RunTool({"dump", path_, "-n", "thumbs"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.err, "");
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(Contains(lines[0], "\"key\":\"aW1n/w==\",\"key_encoding\":\"base64\"")) << lines[0];
  EXPECT_TRUE(Contains(lines[0], "\"value\":\"iVBORwAB\",\"value_encoding\":\"base64\""));
}

TEST_F(InspectCommandsTest, LoadNamesAMalformedLineAndKeepsTheLinesBeforeIt) {
  MakeStore();
  const std::vector<std::string> lines = Lines(RunTool({"dump", path_, "-n", "users"}).out);
  ASSERT_EQ(lines.size(), 2u);
  const std::string input = dir_.Sub("broken.jsonl");
  std::ofstream(input) << lines[0] << "\n{\"namespace\": 5}\n" << lines[1] << "\n";
  const std::string copy = dir_.Sub("copy");
  fs::create_directory(copy);
  const ToolRun run = RunTool({"load", copy, input});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err,
            "tiercache load: line 2: \"namespace\" is not a string; the lines before it are "
            "loaded (1 entries)\n");
  EXPECT_EQ(Lines(RunTool({"dump", copy}).out), std::vector<std::string>{lines[0]});
}

TEST_F(InspectCommandsTest, LoadOfAMissingFileIsAUsageErrorAndCreatesNoStore) {
  const std::string copy = dir_.Sub("copy");
  fs::create_directory(copy);
  const ToolRun run = RunTool({"load", copy, dir_.Sub("nope.jsonl")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(fs::is_empty(copy));
}

TEST_F(InspectCommandsTest, GetShowsEveryFieldAndJsonIsTheDumpLine) {
  MakeStore();
  const ToolRun run = RunTool({"get", path_, "users", "bob"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* part : {"namespace      users\n", "key            bob\n", "version        7\n",
                           "access_count   0\n", "metadata       source: test\n",
                           "value          11 bytes, text\n{\"age\": 41}\n", "time left: "}) {
    EXPECT_TRUE(Contains(run.out, part)) << part << " in\n" << run.out;
  }
  const std::string dump = RunTool({"dump", path_, "-n", "users"}).out;
  EXPECT_EQ(RunTool({"get", path_, "users", "bob", "--json"}).out, Lines(dump)[1] + "\n");
}

TEST_F(InspectCommandsTest, GetShowsABinaryValueAsHexAndTakesABase64Key) {
  MakeStore();
  const ToolRun run = RunTool({"get", path_, "thumbs", "aW1n/w==", "--base64-key"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(Contains(run.out, "key            img\\xff\n")) << run.out;
  EXPECT_TRUE(Contains(run.out, "6 bytes, binary (hex)\n00000000  89 50 4e 47 00 01")) << run.out;
}

TEST_F(InspectCommandsTest, GetOfAMissingKeyExitsOne) {
  MakeStore();
  const ToolRun run = RunTool({"get", path_, "users", "carol"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "tiercache get: no key 'carol' in namespace 'users'\n");
}

TEST_F(InspectCommandsTest, GetWithAnEmptyNamespaceIsAUsageErrorAndShowsNoEntry) {
  const std::string expected =
      "tiercache get: NS is empty: name the entry's namespace ('namespaces DIR' lists them)\n";
  {
    StoreOptions options;  // a store without a namespace
    options.path = path_;
    std::unique_ptr<Store> store;
    ASSERT_TRUE(Store::Open(options, &store).ok());
  }
  ToolRun run = RunTool({"get", path_, "", "alice"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, expected);
  MakeStore();
  run = RunTool({"get", path_, "", "alice"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, expected);
}

// load accepts any int64 of milliseconds; the earliest once overflowed the
// conversion to seconds and milliseconds (undefined behaviour).
TEST_F(InspectCommandsTest, GetAndLsShowTheEarliestAndLatestTimes) {
  const std::string input = dir_.Sub("extreme.jsonl");
  std::ofstream(input)
      << "{\"namespace\":\"a\",\"key\":\"k\",\"key_encoding\":\"utf8\",\"value\":\"v\","
         "\"value_encoding\":\"utf8\",\"version\":1,\"created_at\":-9223372036854775808,"
         "\"expires_at\":null,\"last_accessed\":9223372036854775807,\"access_count\":0,"
         "\"metadata\":{}}\n";
  fs::create_directory(path_);
  ASSERT_EQ(RunTool({"load", path_, input}).exit_code, 0);
  const ToolRun get = RunTool({"get", path_, "a", "k"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_TRUE(Contains(get.out, "created_at     -292275055-05-16 16:47:04.192 UTC\n")) << get.out;
  EXPECT_TRUE(Contains(get.out, "last_accessed  292278994-08-17 07:12:55.807 UTC\n")) << get.out;
  const ToolRun ls = RunTool({"ls", path_});
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_TRUE(Contains(ls.out, "  -292275055-05-16 16:47:04.192\n")) << ls.out;
}

TEST_F(InspectCommandsTest, LsListsKeysVersionsSizesAndTimeLeft) {
  MakeStore();
  // ls reads the real clock: the time left on bob, who expires an hour after
  // now_, is bounded by the clock before and after the run.
  const TimePoint before = SystemClock().Now();
  const std::vector<std::string> lines = Lines(RunTool({"ls", path_, "-n", "users"}).out);
  const TimePoint after = SystemClock().Now();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("NAMESPACE  KEY    VERSION  VALUE BYTES  TTL LEFT  CREATED (UTC)", 0),
            0u)
      << lines[0];
  EXPECT_EQ(lines[1].rfind("users      alice  7        11           -         ", 0), 0u)
      << lines[1];
  std::istringstream bob(lines[2]);
  std::string ns, key, version, value_bytes, ttl_left;
  bob >> ns >> key >> version >> value_bytes >> ttl_left;
  EXPECT_EQ(ns + " " + key + " " + version + " " + value_bytes, "users bob 7 11") << lines[2];
  const std::optional<TimeLeft> left = ParseTimeLeft(ttl_left);
  ASSERT_TRUE(left.has_value()) << lines[2];
  const TimePoint expires_at = now_ + hours(1);
  EXPECT_LE(left->least.count(), (expires_at - before).count()) << lines[2];
  EXPECT_GT((left->least + left->step).count(), (expires_at - after).count()) << lines[2];
  const std::vector<std::string> json =
      Lines(RunTool({"ls", path_, "--prefix", "b", "--json"}).out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_TRUE(Contains(json[0], "\"key\":\"bob\"")) << json[0];
  EXPECT_TRUE(Contains(json[0], "\"value_bytes\":11")) << json[0];
  EXPECT_FALSE(Contains(json[0], "\"value\":")) << json[0];
  EXPECT_EQ(Lines(RunTool({"ls", path_, "--limit", "3"}).out).size(), 4u);
  const std::vector<std::string> binary =
      Lines(RunTool({"ls", path_, "--prefix", "aW1n", "--base64-prefix"}).out);
  ASSERT_EQ(binary.size(), 2u);
  EXPECT_EQ(binary[1].rfind("thumbs     img\\xff", 0), 0u) << binary[1];
}

TEST_F(InspectCommandsTest, NamespacesAndStatsDescribeTheStore) {
  MakeStore();
  EXPECT_EQ(RunTool({"namespaces", path_}).out, "NAMESPACE  ID\nthumbs     2\nusers      1\n");
  const ToolRun json = RunTool({"stats", path_, "--json"});
  EXPECT_EQ(json.exit_code, 0);
  const std::vector<std::string> parts = {
      "\"format_version\":" + std::to_string(storage::kStoreFormatVersion),
      "\"namespaces\":2", "\"entries\":4", "\"expired_entries\":1", "\"corrupt_records\":0",
      "\"sst_files\":"};
  for (const std::string& part : parts) {
    EXPECT_TRUE(Contains(json.out, part)) << part << " in " << json.out;
  }
  EXPECT_TRUE(Contains(RunTool({"stats", path_}).out, "expired, not yet purged   1\n"));
}

TEST_F(InspectCommandsTest, VerifyNamesEachBadRecordAndExitsOne) {
  MakeStore();
  PutRaw(path_, "broken", "not a record at all");
  const ToolRun run = RunTool({"verify", path_});
  EXPECT_EQ(run.exit_code, 1);
  const std::vector<std::string> lines = Lines(run.out);
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_EQ(lines[0].rfind("BAD namespace 'users', key 'broken': record:", 0), 0u) << lines[0];
  EXPECT_TRUE(Contains(lines[1], "checked 5 records")) << lines[1];
  const std::vector<std::string> json = Lines(RunTool({"verify", path_, "--json"}).out);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0].rfind("{\"namespace\":\"users\",\"namespace_encoding\":\"utf8\","
                          "\"key\":\"broken\",\"key_encoding\":\"utf8\",\"problem\":\"record:",
                          0),
            0u)
      << json[0];
  EXPECT_EQ(json[1].rfind("{\"checked\":5,\"bad\":1,", 0), 0u) << json[1];
  EXPECT_EQ(RunTool({"verify", path_ + "/../store"}).exit_code, 1);
}

TEST_F(InspectCommandsTest, PurgeExpiredDeletesTheExpiredEntriesAndCompactRuns) {
  MakeStore();
  const ToolRun purge = RunTool({"purge-expired", path_});
  EXPECT_EQ(purge.exit_code, 0) << purge.err;
  EXPECT_EQ(purge.out, "purged 1 expired entries of 4\n");
  EXPECT_EQ(RunTool({"purge-expired", path_, "--json"}).out, "{\"scanned\":3,\"purged\":0}\n");
  const ToolRun compact = RunTool({"compact", path_});
  EXPECT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_EQ(compact.out.rfind("compacted: SST files ", 0), 0u) << compact.out;
  EXPECT_EQ(Lines(RunTool({"dump", path_}).out).size(), 3u);
}

}  // namespace
}  // namespace tiercache::tool
