// The fault-injecting file system on its own (storage/fault_file_system.h),
// then under a Store: the faults reach the caller as the right Status, and a
// store takes writes again once a fault has cleared.

#include "storage/fault_file_system.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "storage/store.h"
#include "tests/util/temp_dir.h"

namespace tiercache::storage {
namespace {

using Fault = FaultFileSystem::Fault;

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class FaultFileSystemTest : public ::testing::Test {
 protected:
  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(fs_->NewWritableFile(dir_.Sub(name), rocksdb::FileOptions(), &file, nullptr).ok());
    return file;
  }
  rocksdb::IOStatus Append(rocksdb::FSWritableFile* file, const std::string& data) {
    return file->Append(data, io_, nullptr);
  }
  rocksdb::IOStatus SyncDirectory() {
    std::unique_ptr<rocksdb::FSDirectory> directory;
    rocksdb::IOStatus s = fs_->NewDirectory(dir_.path(), io_, &directory, nullptr);
    return s.ok() ? directory->Fsync(io_, nullptr) : s;
  }

  test_util::TempDir dir_;
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
  const rocksdb::IOOptions io_;
};

TEST_F(FaultFileSystemTest, FailsTheNthWriteOnceAndLeavesTheFileUnchanged) {
  auto file = Create("f");
  fs_->InjectAt(kFileWrite, 2, Fault::kOnce);
  EXPECT_TRUE(Append(file.get(), "one ").ok());
  const rocksdb::IOStatus failed = Append(file.get(), "two ");
  EXPECT_TRUE(failed.IsIOError());
  EXPECT_TRUE(Append(file.get(), "three").ok());
  ASSERT_TRUE(file->Close(io_, nullptr).ok());
  EXPECT_EQ(Contents(dir_.Sub("f")), "one three");
  EXPECT_EQ(fs_->Count(kFileWrite), 3u);
  EXPECT_EQ(fs_->injected(), 1u);
}

TEST_F(FaultFileSystemTest, AFaultForGoodHitsEveryLaterOperationOfItsKindsUntilCleared) {
  auto file = Create("f");
  fs_->InjectAt(kFileSync, 1, Fault::kForGood);
  EXPECT_TRUE(Append(file.get(), "data").ok());
  EXPECT_TRUE(file->Sync(io_, nullptr).IsIOError());
  EXPECT_TRUE(file->Fsync(io_, nullptr).IsIOError());
  EXPECT_TRUE(SyncDirectory().IsIOError());
  EXPECT_TRUE(Append(file.get(), "more").ok());
  fs_->ClearFaults();
  EXPECT_TRUE(file->Sync(io_, nullptr).ok());
  EXPECT_EQ(fs_->injected(), 3u);
}

TEST_F(FaultFileSystemTest, CountsCreationsAndRenamesAndFailsThem) {
  fs_->InjectAt(kFileCreate | kFileRename, 2, Fault::kOnce);
  auto file = Create("a");
  std::unique_ptr<rocksdb::FSWritableFile> refused;
  EXPECT_TRUE(
      fs_->NewWritableFile(dir_.Sub("b"), rocksdb::FileOptions(), &refused, nullptr).IsIOError());
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("b")));
  EXPECT_TRUE(fs_->RenameFile(dir_.Sub("a"), dir_.Sub("c"), io_, nullptr).ok());
  fs_->InjectAt(kFileRename, 1, Fault::kOnce);
  EXPECT_TRUE(fs_->RenameFile(dir_.Sub("c"), dir_.Sub("d"), io_, nullptr).IsIOError());
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("c")));
  EXPECT_EQ(fs_->Count(kFileCreate), 2u);
  EXPECT_EQ(fs_->Count(kFileRename), 2u);
  EXPECT_EQ(fs_->Count(kAnyFileOp), 4u);
}

TEST_F(FaultFileSystemTest, RunsOutOfSpaceAfterTheBudget) {
  auto file = Create("f");
  fs_->SetSpaceBudget(10);
  EXPECT_TRUE(Append(file.get(), "123456").ok());
  const rocksdb::IOStatus full = Append(file.get(), "7890ab");
  EXPECT_TRUE(full.IsNoSpace()) << full.ToString();
  EXPECT_TRUE(Append(file.get(), "7890").ok());
  EXPECT_TRUE(Append(file.get(), "x").IsNoSpace());
  fs_->ClearFaults();
  EXPECT_TRUE(Append(file.get(), "x").ok());
}

TEST_F(FaultFileSystemTest, APowerCutFailsEveryOperation) {
  auto file = Create("f");
  fs_->CutPower();
  EXPECT_TRUE(Append(file.get(), "x").IsIOError());
  EXPECT_TRUE(file->Sync(io_, nullptr).IsIOError());
  EXPECT_TRUE(fs_->RenameFile(dir_.Sub("f"), dir_.Sub("g"), io_, nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> refused;
  EXPECT_TRUE(
      fs_->NewWritableFile(dir_.Sub("h"), rocksdb::FileOptions(), &refused, nullptr).IsIOError());
}

TEST_F(FaultFileSystemTest, DroppingUnsyncedDataKeepsWhatWasSynced) {
  auto kept = Create("kept");
  ASSERT_TRUE(SyncDirectory().ok());
  ASSERT_TRUE(Append(kept.get(), "synced ").ok());
  ASSERT_TRUE(kept->Sync(io_, nullptr).ok());
  ASSERT_TRUE(Append(kept.get(), "lost").ok());
  auto unlisted = Create("unlisted");  // its directory entry is never synced
  ASSERT_TRUE(Append(unlisted.get(), "data").ok());
  ASSERT_TRUE(unlisted->Sync(io_, nullptr).ok());
  ASSERT_TRUE(kept->Close(io_, nullptr).ok());
  ASSERT_TRUE(unlisted->Close(io_, nullptr).ok());
  fs_->CutPower();

  const rocksdb::IOStatus dropped = fs_->DropUnsyncedData();
  ASSERT_TRUE(dropped.ok()) << dropped.ToString();
  EXPECT_EQ(Contents(dir_.Sub("kept")), "synced ");
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("unlisted")));
  // The drop clears the power cut.
  EXPECT_TRUE(Create("after") != nullptr);
  EXPECT_EQ(fs_->injected(), 0u);
}

// As RocksDB makes a new MANIFEST current: the rename over CURRENT is
// durable, and so is the MANIFEST created before it.
TEST_F(FaultFileSystemTest, ARenameOverADurableFileKeepsItAndTheEntriesMadeBefore) {
  std::ofstream(dir_.Sub("CURRENT")) << "old";
  auto manifest = Create("MANIFEST-2");
  ASSERT_TRUE(Append(manifest.get(), "edits").ok());
  ASSERT_TRUE(manifest->Sync(io_, nullptr).ok());
  auto temp = Create("CURRENT.tmp");
  ASSERT_TRUE(Append(temp.get(), "new").ok());
  ASSERT_TRUE(temp->Sync(io_, nullptr).ok());
  ASSERT_TRUE(temp->Close(io_, nullptr).ok());
  ASSERT_TRUE(fs_->RenameFile(dir_.Sub("CURRENT.tmp"), dir_.Sub("CURRENT"), io_, nullptr).ok());
  auto later = Create("later");  // after the rename, never made durable
  ASSERT_TRUE(manifest->Close(io_, nullptr).ok());
  ASSERT_TRUE(later->Close(io_, nullptr).ok());
  const rocksdb::IOStatus dropped = fs_->DropUnsyncedData();
  ASSERT_TRUE(dropped.ok()) << dropped.ToString();
  EXPECT_EQ(Contents(dir_.Sub("CURRENT")), "new");
  EXPECT_EQ(Contents(dir_.Sub("MANIFEST-2")), "edits");
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("later")));
}

// ---------------------------------------------------------------------------
// Under a store

class FaultyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(Durability durability = Durability::kPowerLoss) {
    store_.reset();
    StoreOptions options;
    options.path = dir_.Sub("store");
    options.durability = durability;
    options.free_space_reserve = 0;
    options.file_system = fs_;
    ASSERT_TRUE(Store::Open(options, &store_).ok());
    ASSERT_TRUE(store_->OpenNamespace("ns", &ns_).ok());
  }
  std::string Read(std::string_view key) {
    std::string record;
    const Status s = store_->Get(ns_, key, &record);
    return s.ok() ? record : s.ToString();
  }

  test_util::TempDir dir_;
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
  std::unique_ptr<Store> store_;
  Namespace ns_;
};

// RocksDB stops taking writes after a failed WAL write, also once the fault
// has gone; a reopen brings the store back with every acknowledged write.
TEST_F(FaultyStoreTest, AFailedWalWriteIsAnIOErrorUntilTheStoreIsReopened) {
  ASSERT_TRUE(store_->Put(ns_, "kept", "v1").ok());
  fs_->InjectAt(kFileWrite, 1, Fault::kOnce);
  const Status failed = store_->Put(ns_, "k", "v1");
  EXPECT_TRUE(failed.IsIOError()) << failed.ToString();
  EXPECT_TRUE(store_->Put(ns_, "k", "v2").IsIOError());
  Reopen();
  ASSERT_TRUE(store_->Put(ns_, "k", "v3").ok());
  EXPECT_EQ(Read("k"), "v3");
  EXPECT_EQ(Read("kept"), "v1");
}

TEST_F(FaultyStoreTest, AFailedWalSyncIsAnIOErrorAndLosesNoAcknowledgedWrite) {
  ASSERT_TRUE(store_->Put(ns_, "k", "v1").ok());
  fs_->InjectAt(kFileSync, 1, Fault::kForGood);
  EXPECT_TRUE(store_->Put(ns_, "k", "v2").IsIOError());
  EXPECT_TRUE(store_->Put(ns_, "other", "x").IsIOError());
  fs_->ClearFaults();
  Reopen();
  // The unsynced write may come back from the WAL, or not.
  const std::string k = Read("k");
  EXPECT_TRUE(k == "v1" || k == "v2") << k;
  ASSERT_TRUE(store_->Put(ns_, "k", "v3").ok());
  EXPECT_EQ(Read("k"), "v3");
}

// Under kProcessCrash a write is not synced by itself; SyncWal makes it, and
// every write before it, survive a power cut.
TEST_F(FaultyStoreTest, SyncWalMakesUnsyncedWritesSurviveAPowerCut) {
  Reopen(Durability::kProcessCrash);
  ASSERT_TRUE(store_->Put(ns_, "k1", "v1").ok());
  ASSERT_TRUE(store_->Put(ns_, "k2", "v2").ok());
  const std::uint64_t syncs = fs_->Count(kFileSync);
  ASSERT_TRUE(store_->SyncWal().ok());
  EXPECT_GT(fs_->Count(kFileSync), syncs);
  store_.reset();
  ASSERT_TRUE(fs_->DropUnsyncedData().ok());
  Reopen();
  EXPECT_EQ(Read("k1"), "v1");
  EXPECT_EQ(Read("k2"), "v2");
}

TEST_F(FaultyStoreTest, AFullDiskIsNoSpace) {
  fs_->SetSpaceBudget(100);
  const Status full = store_->Put(ns_, "k", std::string(1000, 'x'));
  EXPECT_TRUE(full.IsNoSpace()) << full.ToString();
  fs_->ClearFaults();
  Reopen();
  EXPECT_TRUE(store_->Put(ns_, "k", "small").ok());
  EXPECT_EQ(Read("k"), "small");
}

}  // namespace
}  // namespace tiercache::storage
