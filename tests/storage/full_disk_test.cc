// The free-space guard against a real file system that fills: a tiny tmpfs,
// mounted in a private mount namespace by a child process
// (store_test_helper fill-tmpfs and fill-cache), so that the test needs no
// privileges and leaves no mount behind.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/util/child_process.h"
#include "tests/util/temp_dir.h"

namespace tiercache::storage {
namespace {

TEST(FullDiskTest, WritesStopWithNoSpaceBeforeATinyFileSystemFillsAndReadsStillWork) {
  test_util::TempDir dir;
  const std::string mount_point = dir.Sub("mnt");
  std::filesystem::create_directory(mount_point);
  test_util::ChildProcess filler({"fill-tmpfs", mount_point});
  const std::string written = filler.ReadLine();
  if (written.rfind("skip: ", 0) == 0) GTEST_SKIP() << written;
  ASSERT_EQ(written.rfind("written ", 0), 0u) << written;
  // Enough for RocksDB to have flushed its 256 KiB memtables many times and
  // compacted the results.
  EXPECT_GE(std::stoull(written.substr(8)), 4u * 1024u * 1024u) << written;
  const std::string refused = filler.ReadLine();
  // The guard's refusal, not RocksDB meeting the full disk.
  EXPECT_EQ(refused.rfind("refused: NoSpace: free space on FS of " + mount_point + "/store is ", 0),
            0u)
      << refused;
  EXPECT_EQ(filler.ReadLine(), "get: OK");
  // Exited normally: RocksDB did not abort the process.
  EXPECT_EQ(filler.Wait(), 0);
}

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Through the cache, with each write policy, on an 8 MiB tmpfs: writes stop
// with the guard's NoSpace (write-behind: its flushes fail with it, then Put
// answers Busy when the buffer is full) before RocksDB meets the full disk,
// reads go on, and once a filler file is deleted writes go through again and
// nothing acknowledged is lost across a reopen.
class FullDiskCacheTest : public ::testing::TestWithParam<std::string> {};

TEST_P(FullDiskCacheTest, RefusesWritesBeforeTheDiskFillsLosesNothingAndResumesWhenSpaceIsFreed) {
  test_util::TempDir dir;
  const std::string mount_point = dir.Sub("mnt");
  std::filesystem::create_directory(mount_point);
  test_util::ChildProcess child({"fill-cache", GetParam(), mount_point});
  const std::string guard = "NoSpace: free space on FS of " + mount_point + "/store is ";
  std::string line = child.ReadLine();
  if (line.rfind("skip: ", 0) == 0) GTEST_SKIP() << line;
  const bool write_behind = GetParam() == "write-behind";
  if (write_behind) {
    // A batch refused by the guard, not by RocksDB.
    EXPECT_THAT(line, StartsWith("flush: TimedOut: write-behind flush"));
    EXPECT_THAT(line, HasSubstr("the last batch failed with " + guard));
    EXPECT_THAT(child.ReadLine(), StartsWith("refused: Busy: the write-behind buffer is full"));
  } else {
    EXPECT_THAT(line, StartsWith("refused: " + guard));
  }
  line = child.ReadLine();
  ASSERT_THAT(line, StartsWith("written: "));
  const int written = std::stoi(line.substr(9));
  // Values of 4 KiB: half a MiB or more went in, through memtable flushes
  // (256 KiB each) and compactions.
  EXPECT_GE(written, 128);
  EXPECT_EQ(child.ReadLine(), "get: OK");
  if (write_behind) {
    EXPECT_EQ(child.ReadLine(), "flush failures: some");
    line = child.ReadLine();
    const auto of = line.find(" of ");
    ASSERT_THAT(line, StartsWith("buffered: "));
    EXPECT_EQ(line.substr(10, of - 10), line.substr(of + 4, line.find(" read") - of - 4)) << line;
  }
  EXPECT_EQ(child.ReadLine(), "resumed: OK");
  EXPECT_EQ(child.ReadLine(), "close: OK");
  line = child.ReadLine();
  ASSERT_THAT(line, StartsWith("read back: "));
  const int total = written + 16;
  EXPECT_EQ(line, "read back: " + std::to_string(total) + " of " + std::to_string(total));
  // RocksDB never met the full disk: not in a write, a flush or a compaction.
  EXPECT_EQ(child.ReadLine(), "rocksdb log: clean");
  EXPECT_EQ(child.Wait(), 0);  // no abort
}

INSTANTIATE_TEST_SUITE_P(WritePolicies, FullDiskCacheTest,
                         ::testing::Values("write-through", "write-behind", "write-around"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name.erase(name.find('-'), 1);
                           return name;
                         });

}  // namespace
}  // namespace tiercache::storage
