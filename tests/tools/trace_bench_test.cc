// `tiercache bench trace` end to end, on traces small enough to count by hand.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace tiercache::tool {
namespace {

class TraceBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tiercache-trace-XXXXXX";
    const int fd = mkstemp(pattern);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = pattern;
  }
  void TearDown() override { std::remove(path_.c_str()); }

  void WriteTrace(const std::string& text) { std::ofstream(path_) << text; }

  // Runs the command; returns its standard output and sets *exit_code.
  std::string Run(const std::string& args, int* exit_code) {
    const char* bin = std::getenv("TIERCACHE_BIN");
    EXPECT_NE(bin, nullptr) << "TIERCACHE_BIN is not set";
    if (bin == nullptr) return "";
    const std::string command = std::string(bin) + " bench trace " + args + " 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    std::string out;
    char buffer[4096];
    for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    const int status = pclose(pipe);
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
  }

  std::string path_;
};

TEST_F(TraceBenchTest, CountsHitsOfGetThenPutOnMiss) {
  // LRU with two entries over a b a c b a: only the second a hits. The
  // checkpoint line '*' is no request.
  WriteTrace("a\nb\na\n*\nc\nb\na\n");
  int code = 0;
  const std::string out = Run("--policy lru --capacity 2 --json " + path_, &code);
  ASSERT_EQ(code, 0) << out;
  const nlohmann::json j = nlohmann::json::parse(out);
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
  int code = 0;
  EXPECT_NE(Run("--policy lru --capacity 2 " + path_, &code).find(" 2 hits"), std::string::npos);
  EXPECT_NE(Run("--policy fifo --capacity 2 " + path_, &code).find(" 1 hits"), std::string::npos);
}

TEST_F(TraceBenchTest, RejectsAnUnknownPolicy) {
  WriteTrace("a\n");
  int code = 0;
  Run("--policy random --capacity 2 " + path_, &code);
  EXPECT_EQ(code, 2);
}

// -1 would reach the tier as 2^64 - 1 shards.
TEST_F(TraceBenchTest, RejectsShardsOutsideOneTo1024) {
  WriteTrace("a\n");
  for (const char* shards : {"-1", "0", "2048"}) {
    int code = 0;
    Run(std::string("--shards ") + shards + " --capacity 2 " + path_, &code);
    EXPECT_EQ(code, 2) << shards;
  }
}

}  // namespace
}  // namespace tiercache::tool
