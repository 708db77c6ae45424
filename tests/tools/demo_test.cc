#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/util/temp_dir.h"
#include "tests/tools/process.h"

namespace tiercache::tool {
namespace {

using test_util::TempDir;
using test_util::RunTool;
using ::testing::HasSubstr;

TEST(DemoTest, RecoversEveryAcknowledgedWriteAndLeavesTheStore) {
  TempDir dir;
  const std::string store = dir.Sub("demo");
  const auto run = RunTool({"demo", store});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("killed with SIGKILL"));
  EXPECT_THAT(run.out, HasSubstr(", 0 lost"));
  EXPECT_THAT(run.out, HasSubstr("namespaces                  2"));
  EXPECT_THAT(run.out, HasSubstr("order-00000000"));

  const auto verify = RunTool({"verify", store});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(DemoTest, RefusesADirectoryThatIsNotAStore) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("other/stuff"));
  const auto run = RunTool({"demo", dir.Sub("other")});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr(dir.Sub("other")));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("other/stuff")));
}

}  // namespace
}  // namespace tiercache::tool
