// `tiercache bench trace` end to end, on traces small enough to count by hand.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/tools/process.h"
#include "tests/util/temp_dir.h"

namespace tiercache::tool {
namespace {

using test_util::RunTool;
using test_util::ToolRun;

class TraceBenchTest : public ::testing::Test {
 protected:
  void WriteTrace(const std::string& text) { std::ofstream(path_) << text; }

  // Runs `tiercache bench trace args... TRACE`.
  ToolRun Run(const std::vector<std::string>& args) {
    std::vector<std::string> command = {"bench", "trace"};
    command.insert(command.end(), args.begin(), args.end());
    command.push_back(path_);
    return RunTool(command);
  }

  test_util::TempDir dir_;
  const std::string path_ = dir_.Sub("trace");
};

TEST_F(TraceBenchTest, CountsHitsOfGetThenPutOnMiss) {
  // LRU with two entries over a b a c b a: only the second a hits. The
  // checkpoint line '*' is no request.
  WriteTrace("a\nb\na\n*\nc\nb\na\n");
  const ToolRun run = Run({"--policy", "lru", "--capacity", "2", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["bench"], "trace");
  EXPECT_EQ(j["policy"], "lru");
  EXPECT_EQ(j["capacity"], 2);
  EXPECT_EQ(j["shards"], 1);
  EXPECT_EQ(j["requests"], 6);
  EXPECT_EQ(j["hits"], 1);
  EXPECT_NEAR(j["hit_ratio"].get<double>(), 1.0 / 6, 1e-9);
}

TEST_F(TraceBenchTest, FifoIgnoresHitsWhereLruDoesNot) {
  WriteTrace("a\nb\na\nc\na\n");
  const ToolRun lru = Run({"--policy", "lru", "--capacity", "2"});
  EXPECT_EQ(lru.exit_code, 0) << lru.err;
  EXPECT_NE(lru.out.find(" 2 hits"), std::string::npos) << lru.out;
  const ToolRun fifo = Run({"--policy", "fifo", "--capacity", "2"});
  EXPECT_EQ(fifo.exit_code, 0) << fifo.err;
  EXPECT_NE(fifo.out.find(" 1 hits"), std::string::npos) << fifo.out;
}

TEST_F(TraceBenchTest, RejectsAnUnknownPolicy) {
  WriteTrace("a\n");
  EXPECT_EQ(Run({"--policy", "random", "--capacity", "2"}).exit_code, 2);
}

// -1 would reach the tier as 2^64 - 1 shards.
TEST_F(TraceBenchTest, RejectsShardsOutsideOneTo1024) {
  WriteTrace("a\n");
  for (const char* shards : {"-1", "0", "2048"}) {
    EXPECT_EQ(Run({"--shards", shards, "--capacity", "2"}).exit_code, 2) << shards;
  }
}

}  // namespace
}  // namespace tiercache::tool
