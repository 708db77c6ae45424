// The free-space guard against a real file system that fills: a tiny tmpfs,
// mounted in a private mount namespace by a child process
// (store_test_helper fill-tmpfs), so that the test needs no privileges and
// leaves no mount behind.

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

}  // namespace
}  // namespace tiercache::storage
