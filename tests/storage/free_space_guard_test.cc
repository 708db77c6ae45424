#include "storage/free_space_guard.h"

#include <gtest/gtest.h>

#include <memory>

#include "tests/util/temp_dir.h"

namespace tiercache::storage {
namespace {

using std::chrono::milliseconds;

constexpr std::uint64_t kMiB = 1024 * 1024;

// A file system whose free bytes the test sets, counting the probes.
class FreeSpaceGuardTest : public ::testing::Test {
 protected:
  FreeSpaceGuard MakeGuard(std::uint64_t reserve) {
    return FreeSpaceGuard(
        FreeSpaceGuard::Options{"/store", reserve, milliseconds(1000),
                                [this](const std::string&, std::uint64_t* free_bytes) {
                                  ++probes_;
                                  *free_bytes = free_bytes_;
                                  return probe_status_;
                                },
                                clock_, [this] { return extra_reserve_; }});
  }

  std::uint64_t free_bytes_ = 100 * kMiB;
  std::uint64_t extra_reserve_ = 0;
  Status probe_status_ = Status::OK();
  int probes_ = 0;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(FreeSpaceGuardTest, AdmitsWritesWhileAboveTheReserve) {
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  EXPECT_TRUE(guard.Admit(1000).ok());
}

TEST_F(FreeSpaceGuardTest, RefusesWithNoSpaceNamingPathFreeBytesAndReserveWhenBelow) {
  free_bytes_ = 5 * kMiB;
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  const Status s = guard.Admit(1000);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_EQ(s.message(),
            "free space on FS of /store is 5242880 bytes, below the reserve of 10485760 bytes");
}

TEST_F(FreeSpaceGuardTest, RefusesAWriteThatWouldCrossTheReserve) {
  free_bytes_ = 11 * kMiB;
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  const Status s = guard.Admit(2 * kMiB);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_NE(s.message().find("would go below the reserve"), std::string::npos) << s.ToString();
}

TEST_F(FreeSpaceGuardTest, AddsTheExtraReserveAsReadAtEachProbe) {
  free_bytes_ = 15 * kMiB;
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  EXPECT_TRUE(guard.Admit(1000).ok());
  extra_reserve_ = 6 * kMiB;  // the store grew: a compaction needs more room
  clock_->Advance(milliseconds(1000));
  const Status s = guard.Admit(1000);
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_EQ(s.message(),
            "free space on FS of /store is 15728640 bytes, below the reserve of 16777216 bytes");
}

TEST_F(FreeSpaceGuardTest, ProbesOnceWhileTheBudgetLasts) {
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  // Headroom 90 MiB: half of it is 45 MiB, 2 KiB charged per 1 KiB write.
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(guard.Admit(1024).ok());
  EXPECT_EQ(probes_, 1);
}

TEST_F(FreeSpaceGuardTest, ProbesAgainOnceHalfTheHeadroomIsCharged) {
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  const std::uint64_t write = kMiB;
  const std::uint64_t writes_in_budget =
      (90 * kMiB / 2) / (write * FreeSpaceGuard::kSpaceAmplification);
  for (std::uint64_t i = 0; i < writes_in_budget; ++i) ASSERT_TRUE(guard.Admit(write).ok());
  EXPECT_EQ(probes_, 1);
  ASSERT_TRUE(guard.Admit(write).ok());
  EXPECT_EQ(probes_, 2);
}

TEST_F(FreeSpaceGuardTest, ProbesAgainAfterTheRecheckInterval) {
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  ASSERT_TRUE(guard.Admit(1).ok());
  clock_->Advance(milliseconds(999));
  ASSERT_TRUE(guard.Admit(1).ok());
  EXPECT_EQ(probes_, 1);
  // Meanwhile another process filled the disk.
  free_bytes_ = kMiB;
  clock_->Advance(milliseconds(1));
  EXPECT_TRUE(guard.Admit(1).IsNoSpace());
  EXPECT_EQ(probes_, 2);
}

TEST_F(FreeSpaceGuardTest, AdmitsAgainAsSoonAsSpaceReturns) {
  free_bytes_ = kMiB;
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  ASSERT_TRUE(guard.Admit(1).IsNoSpace());
  free_bytes_ = 100 * kMiB;
  EXPECT_TRUE(guard.Admit(1).ok());
}

TEST_F(FreeSpaceGuardTest, ZeroReserveDisablesTheGuard) {
  free_bytes_ = 0;
  FreeSpaceGuard guard = MakeGuard(0);
  EXPECT_TRUE(guard.Admit(kMiB).ok());
  EXPECT_EQ(probes_, 0);
}

TEST_F(FreeSpaceGuardTest, ReportsAFailingProbe) {
  probe_status_ = Status::IOError("statvfs failed");
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  EXPECT_TRUE(guard.Admit(1).IsIOError());
}

TEST(StatvfsFreeSpaceTest, ReadsTheFreeSpaceOfARealDirectory) {
  test_util::TempDir dir;
  std::uint64_t free_bytes = 0;
  ASSERT_TRUE(StatvfsFreeSpace(dir.path(), &free_bytes).ok());
  EXPECT_GT(free_bytes, 0u);
}

TEST(StatvfsFreeSpaceTest, NamesAMissingPath) {
  std::uint64_t free_bytes = 0;
  const Status s = StatvfsFreeSpace("/nonexistent/tiercache", &free_bytes);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("/nonexistent/tiercache"), std::string::npos);
}

TEST_F(FreeSpaceGuardTest, RequireRoomWantsTheBytesAboveTheReserveAlone) {
  extra_reserve_ = 50 * kMiB;  // the room kept for this very work: not added
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  free_bytes_ = 14 * kMiB;
  EXPECT_TRUE(guard.RequireRoom(4 * kMiB, "compacting").ok());
  free_bytes_ = 14 * kMiB - 1;
  const Status s = guard.RequireRoom(4 * kMiB, "compacting");
  EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
  EXPECT_EQ(s.message(),
            "free space on FS of /store is 14680063 bytes; compacting needs about 4194304 bytes "
            "above the reserve of 10485760 bytes");
  free_bytes_ = 5 * kMiB;
  EXPECT_TRUE(guard.RequireRoom(0, "compacting").IsNoSpace());
}

TEST_F(FreeSpaceGuardTest, RequireRoomProbesEachTimeAndPassesProbeErrorsOn) {
  FreeSpaceGuard guard = MakeGuard(10 * kMiB);
  ASSERT_TRUE(guard.Admit(1000).ok());
  const int probes = probes_;
  EXPECT_TRUE(guard.RequireRoom(kMiB, "compacting").ok());
  free_bytes_ = 0;
  EXPECT_TRUE(guard.RequireRoom(kMiB, "compacting").IsNoSpace());
  EXPECT_EQ(probes_, probes + 2);
  probe_status_ = Status::IOError("statvfs failed");
  EXPECT_TRUE(guard.RequireRoom(kMiB, "compacting").IsIOError());
}

TEST_F(FreeSpaceGuardTest, RequireRoomWithTheGuardOffIsAlwaysOk) {
  free_bytes_ = 0;
  FreeSpaceGuard guard = MakeGuard(0);
  EXPECT_TRUE(guard.RequireRoom(kMiB, "compacting").ok());
  EXPECT_EQ(probes_, 0);
}

}  // namespace
}  // namespace tiercache::storage
