// Opening a store: creation, refusals, the lock, and secondary instances
// beside a writer in another process.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/key_layout.h"
#include "storage/store.h"
#include "storage/store_directory.h"
#include "tests/util/child_process.h"
#include "tests/util/temp_dir.h"

namespace tiercache::storage {
namespace {

namespace fs = std::filesystem;
using test_util::ChildProcess;

class StoreOpenTest : public ::testing::Test {
 protected:
  StoreOptions ReadWrite() const {
    StoreOptions options;
    options.path = path_;
    return options;
  }

  StoreOptions Secondary() const {
    StoreOptions options;
    options.path = path_;
    options.mode = StoreOptions::Mode::kSecondary;
    options.secondary_path = dir_.Sub("secondary");
    return options;
  }

  std::unique_ptr<Store> OpenOk(const StoreOptions& options) {
    std::unique_ptr<Store> store;
    const Status s = Store::Open(options, &store);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return store;
  }

  Status OpenStatus(const StoreOptions& options) {
    std::unique_ptr<Store> store;
    return Store::Open(options, &store);
  }

  // A RocksDB database at path_ with the given column families (beside
  // "default") and, in the first of them, the given keys.
  void MakeRawRocksDb(const std::vector<std::string>& families,
                      const std::vector<std::pair<std::string, std::string>>& keys) {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, {}}};
    for (const std::string& name : families) descriptors.push_back({name, {}});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path_, descriptors, &handles, &db).ok());
    for (const auto& [key, value] : keys) {
      // Into the first family named, else the default one.
      ASSERT_TRUE(
          db->Put(rocksdb::WriteOptions(), handles.at(families.empty() ? 0 : 1), key, value).ok());
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }

  // The value of `key` in the store's meta column family, read by RocksDB alone.
  std::string ReadRawMeta(const std::string& key) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {kMetaColumnFamily, {}}, {kDataColumnFamily, {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    std::string value;
    if (rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path_, descriptors, &handles, &db)
            .ok()) {
      if (!db->Get(rocksdb::ReadOptions(), handles[1], key, &value).ok()) value = "(none)";
      for (rocksdb::ColumnFamilyHandle* handle : handles) {
        static_cast<void>(db->DestroyColumnFamilyHandle(handle));
      }
      delete db;
    }
    return value;
  }

  test_util::TempDir dir_;
  const std::string path_ = dir_.Sub("store");
};

TEST_F(StoreOpenTest, ReadWriteOpenCreatesAMissingDirectory) {
  ASSERT_FALSE(fs::exists(path_));
  auto store = OpenOk(ReadWrite());
  EXPECT_TRUE(fs::is_directory(path_));
}

TEST_F(StoreOpenTest, ReadWriteOpenCreatesAStoreInAnEmptyDirectory) {
  fs::create_directory(path_);
  auto store = OpenOk(ReadWrite());
  Namespace ns;
  EXPECT_TRUE(store->OpenNamespace("a", &ns).ok());
}

TEST_F(StoreOpenTest, OpensADirectoryLeftByAnInterruptedCreation) {
  fs::create_directory(path_);
  std::ofstream(path_ + "/LOCK").put('\0');
  std::ofstream(path_ + "/LOG") << "creation started";
  auto store = OpenOk(ReadWrite());
  EXPECT_NE(store, nullptr);
}

TEST_F(StoreOpenTest, OptionsWithoutAPathAreRefused) {
  StoreOptions options;
  const Status s = OpenStatus(options);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "StoreOptions::path is empty");
}

// ---------------------------------------------------------------------------
// The lock

TEST_F(StoreOpenTest, ASecondReadWriteOpenInThisProcessIsBusyNamingThePath) {
  auto first = OpenOk(ReadWrite());
  const Status s = OpenStatus(ReadWrite());
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_EQ(s.message(), fmt::format("the store at {} is in use by another Store of this process "
                                     "(a Cache or a tool's)",
                                     path_));
}

TEST_F(StoreOpenTest, ReadWriteOpenWhileAnotherProcessHoldsTheStoreIsBusyNamingThePath) {
  ChildProcess holder({"hold", path_});
  ASSERT_EQ(holder.ReadLine(), "ready");
  const Status s = OpenStatus(ReadWrite());
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_EQ(s.message(), fmt::format("the store at {} is in use by another process", path_));
  holder.CloseStdin();
  ASSERT_EQ(holder.Wait(), 0);
  EXPECT_NE(OpenOk(ReadWrite()), nullptr);
}

// ---------------------------------------------------------------------------
// Refusals

TEST_F(StoreOpenTest, ANewerFormatVersionIsRefused) {
  OpenOk(ReadWrite()).reset();
  const std::uint32_t newer = kStoreFormatVersion + 1;
  MakeRawRocksDb({kMetaColumnFamily, kDataColumnFamily},
                 {{"format_version", std::to_string(newer)}});
  for (const StoreOptions& options : {ReadWrite(), Secondary()}) {
    const Status s = OpenStatus(options);
    EXPECT_TRUE(s.IsNotSupported()) << s.ToString();
    EXPECT_EQ(s.message(), fmt::format("{}: store format version {} is newer than this tiercache ({})",
                                       path_, newer, kStoreFormatVersion));
  }
}

// A store of an older format (1: records of payload version 1 only; 2:
// records of record format 1 only; 3: records of payload version 2 at most) is
// read as it is; a read-write open raises it to the current one before writing
// records of payload version 3.
TEST_F(StoreOpenTest, AnOlderFormatVersionIsRaisedByAReadWriteOpen) {
  for (const std::string older : {"1", "2", "3"}) {
    OpenOk(ReadWrite()).reset();
    MakeRawRocksDb({kMetaColumnFamily, kDataColumnFamily}, {{"format_version", older}});
    OpenOk(Secondary()).reset();
    EXPECT_EQ(ReadRawMeta("format_version"), older);
    OpenOk(ReadWrite()).reset();
    EXPECT_EQ(ReadRawMeta("format_version"), "4");
  }
}

// An older tiercache's load could write a ceiling above the range: the store
// still opens, to be read and dumped (the cache then has no versions left).
TEST_F(StoreOpenTest, AVersionCeilingAboveTheRangeStillOpens) {
  OpenOk(ReadWrite()).reset();
  MakeRawRocksDb({kMetaColumnFamily, kDataColumnFamily},
                 {{std::string(kVersionCeilingKey), EncodeU64(UINT64_MAX)}});
  for (const StoreOptions& options : {ReadWrite(), Secondary()}) {
    EXPECT_EQ(OpenOk(options)->version_ceiling(), UINT64_MAX);
  }
}

TEST_F(StoreOpenTest, ADirectoryWithOtherFilesIsRefusedAndLeftAlone) {
  fs::create_directory(path_);
  std::ofstream(path_ + "/notes.txt") << "mine";
  for (const StoreOptions& options : {ReadWrite(), Secondary()}) {
    const Status s = OpenStatus(options);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(s.message(),
              fmt::format("{} is not a tiercache store: the directory holds other files", path_));
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(path_), fs::directory_iterator()), 1);
}

// Names close to RocksDB's own are still a user's: taken for leftovers of a
// creation, they would have a store created among them.
TEST_F(StoreOpenTest, UserFilesNamedLikeRocksDbsAreRefusedAndLeftAlone) {
  for (const char* name : {"server.log", "LOGO.png", "x.dbtmp", "LOG.old", "LOG.old.1.gz",
                           "MANIFEST-", "MANIFEST-1.bak", "OPTIONS-x", "12a.log", ".log",
                           "LOCKED", "IDENTITY.txt"}) {
    fs::remove_all(path_);
    fs::create_directory(path_);
    std::ofstream(path_ + "/" + name) << "mine";
    DirectoryKind kind = DirectoryKind::kEmpty;
    ASSERT_TRUE(InspectDirectory(path_, &kind).ok());
    EXPECT_EQ(kind, DirectoryKind::kForeign) << name;
    const Status s = OpenStatus(ReadWrite());
    EXPECT_TRUE(s.IsInvalidArgument()) << name << ": " << s.ToString();
    EXPECT_EQ(s.message(),
              fmt::format("{} is not a tiercache store: the directory holds other files", path_));
    EXPECT_EQ(std::distance(fs::directory_iterator(path_), fs::directory_iterator()), 1) << name;
  }
}

TEST_F(StoreOpenTest, RocksDbsOwnFilesFromBeforeCurrentCountAsAnEmptyDirectory) {
  fs::create_directory(path_);
  for (const char* name : {"LOCK", "IDENTITY", "LOG", "LOG.old.1700000000000000",
                           "MANIFEST-000001", "OPTIONS-000005", "OPTIONS-000007.dbtmp",
                           "000004.log", "000003.dbtmp"}) {
    std::ofstream(path_ + "/" + name).put('\0');
    DirectoryKind kind = DirectoryKind::kForeign;
    ASSERT_TRUE(InspectDirectory(path_, &kind).ok());
    EXPECT_EQ(kind, DirectoryKind::kEmpty) << "with " << name;
  }
}

TEST_F(StoreOpenTest, ARocksDbDatabaseWithoutTheMarkerIsRefused) {
  MakeRawRocksDb({"theirs"}, {{"key", "value"}});
  for (const StoreOptions& options : {ReadWrite(), Secondary()}) {
    const Status s = OpenStatus(options);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(s.message(), fmt::format("{} is a RocksDB database but not a tiercache store "
                                       "(no tiercache.meta column family)",
                                       path_));
  }
}

TEST_F(StoreOpenTest, AFileIsRefused) {
  std::ofstream(path_) << "a file";
  const Status s = OpenStatus(ReadWrite());
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(), fmt::format("{} is not a directory", path_));
}

TEST_F(StoreOpenTest, ReadWriteOpenCompletesAStoreWhoseFormatVersionWasNeverWritten) {
  MakeRawRocksDb({kMetaColumnFamily, kDataColumnFamily}, {});
  EXPECT_TRUE(OpenStatus(Secondary()).IsBusy());
  auto store = OpenOk(ReadWrite());
  Namespace ns;
  ASSERT_TRUE(store->OpenNamespace("a", &ns).ok());
  EXPECT_EQ(ns.id, kFirstNamespaceId);
}

// RocksDB writes CURRENT before it adds the families a store asks for.
TEST_F(StoreOpenTest, ReadWriteOpenCompletesAStoreWhoseCreationStoppedBeforeItsFamilies) {
  MakeRawRocksDb({}, {});
  EXPECT_TRUE(OpenStatus(Secondary()).IsNotFound());
  auto store = OpenOk(ReadWrite());
  Namespace ns;
  ASSERT_TRUE(store->OpenNamespace("a", &ns).ok());
  EXPECT_EQ(ns.id, kFirstNamespaceId);
}

TEST_F(StoreOpenTest, ARocksDbDatabaseWithDataInItsDefaultFamilyAloneIsRefused) {
  MakeRawRocksDb({}, {{"key", "value"}});
  const Status s = OpenStatus(ReadWrite());
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

// ---------------------------------------------------------------------------
// Secondary instances

TEST_F(StoreOpenTest, SecondaryOpenOfAMissingDirectoryIsNotFoundAndCreatesNothing) {
  const Status s = OpenStatus(Secondary());
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(s.message(), fmt::format("no tiercache store at {}", path_));
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_FALSE(fs::exists(Secondary().secondary_path));
}

TEST_F(StoreOpenTest, SecondaryOpenOfAnEmptyDirectoryIsNotFound) {
  fs::create_directory(path_);
  EXPECT_TRUE(OpenStatus(Secondary()).IsNotFound());
  EXPECT_TRUE(fs::is_empty(path_));
}

TEST_F(StoreOpenTest, SecondaryRefusesWritesAndUnknownNamespaces) {
  {
    auto primary = OpenOk(ReadWrite());
    Namespace ns;
    ASSERT_TRUE(primary->OpenNamespace("a", &ns).ok());
    ASSERT_TRUE(primary->Put(ns, "k", "v").ok());
  }
  auto secondary = OpenOk(Secondary());
  Namespace ns;
  ASSERT_TRUE(secondary->OpenNamespace("a", &ns).ok());
  std::string record;
  ASSERT_TRUE(secondary->Get(ns, "k", &record).ok());
  EXPECT_EQ(record, "v");
  EXPECT_TRUE(secondary->Put(ns, "k", "w").IsNotSupported());
  EXPECT_TRUE(secondary->Delete(ns, "k").IsNotSupported());
  EXPECT_TRUE(secondary->DropNamespace("a").IsNotSupported());
  EXPECT_TRUE(secondary->Compact().IsNotSupported());
  Namespace unknown;
  EXPECT_TRUE(secondary->OpenNamespace("b", &unknown).IsNotFound());
}

TEST_F(StoreOpenTest, SecondaryRemovesItsPrivateDirectoryOnClose) {
  OpenOk(ReadWrite()).reset();
  auto secondary = OpenOk(Secondary());
  const std::string parent = Secondary().secondary_path;
  ASSERT_EQ(std::distance(fs::directory_iterator(parent), fs::directory_iterator()), 1);
  secondary.reset();
  EXPECT_TRUE(fs::is_empty(parent));
}

TEST_F(StoreOpenTest, SecondaryBesideAWriterInThisProcessSeesNewNamespacesAfterCatchUp) {
  auto primary = OpenOk(ReadWrite());
  auto secondary = OpenOk(Secondary());
  Namespace written;
  ASSERT_TRUE(primary->OpenNamespace("later", &written).ok());
  ASSERT_TRUE(primary->Put(written, "k", "v").ok());
  Namespace seen;
  EXPECT_TRUE(secondary->OpenNamespace("later", &seen).IsNotFound());
  ASSERT_TRUE(secondary->CatchUp().ok());
  ASSERT_TRUE(secondary->OpenNamespace("later", &seen).ok());
  EXPECT_EQ(seen.id, written.id);
  std::string record;
  EXPECT_TRUE(secondary->Get(seen, "k", &record).ok());
}

// Reads the writer's progress lines until it reports at least `count` keys.
void WaitForKeys(ChildProcess& writer, int count) {
  for (;;) {
    const std::string line = writer.ReadLine();
    ASSERT_FALSE(line.empty() || line.rfind("error", 0) == 0) << "writer: " << line;
    if (std::stoi(line) >= count) return;
  }
}

TEST_F(StoreOpenTest, SecondaryReadsWhileAnotherProcessWritesAndCatchUpSeesNewerData) {
  ChildProcess writer({"write", path_});
  WaitForKeys(writer, 10);
  auto secondary = OpenOk(Secondary());
  Namespace ns;
  ASSERT_TRUE(secondary->OpenNamespace("live", &ns).ok());
  int visible = 0;
  ASSERT_TRUE(secondary
                  ->ForEach(ns, "",
                            [&](std::string_view, std::string_view) {
                              ++visible;
                              return true;
                            })
                  .ok());
  ASSERT_GE(visible, 10);

  // A key the writer writes only after the secondary opened.
  const int later = visible + 100;
  const std::string key = fmt::format("k{:08}", later);
  WaitForKeys(writer, later + 1);
  std::string record;
  EXPECT_TRUE(secondary->Get(ns, key, &record).IsNotFound());
  const Status caught_up = secondary->CatchUp();
  ASSERT_TRUE(caught_up.ok()) << caught_up.ToString();
  ASSERT_TRUE(secondary->Get(ns, key, &record).ok());
  EXPECT_EQ(record, fmt::format("v{:08}", later));

  writer.CloseStdout();
  EXPECT_EQ(writer.Wait(), 0);
}

}  // namespace
}  // namespace tiercache::storage
