// The crash recovery harness: runs crash_writer (TIERCACHE_CRASH_WRITER),
// kills it with SIGKILL at a random moment, reopens the store and checks it
// against what the writer had acknowledged (tests/engine/crash_check.h), then
// starts the next round on the same store. 20 rounds per write policy, ten
// times as many with TIERCACHE_LONG=1; TIERCACHE_SEED replays a run.
//
// Then the kills aimed at a phase: the writer announces that it entered a
// write-behind Flush, a compaction, a namespace drop or Close, and is killed
// a few milliseconds later, inside it or just after. 5 rounds per phase (50
// in the long mode), the write policy changing from round to round.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/engine/crash_check.h"
#include "tests/engine/crash_log.h"
#include "tests/util/read_file.h"
#include "tests/util/run_mode.h"
#include "tests/util/temp_dir.h"
#include "tiercache/cache.h"

namespace tiercache::crash {
namespace {

constexpr int kRoundsPerPolicy = 20;
constexpr int kRoundsPerPhase = 5;
constexpr int kMinKillDelayMs = 20;
constexpr int kMaxKillDelayMs = 300;
// The longest wait after the phase's announcement: short enough for most
// kills to land inside the phase, which lasts about this long (a drop or a
// Close a few milliseconds; Flush and compaction come again and again).
int MaxKillDelayMs(std::string_view phase) {
  if (phase == "close") return 5;
  if (phase == "drop") return 10;
  return 25;
}
constexpr int kReadyTimeoutMs = 120'000;  // opening under ASan on a busy machine
constexpr std::size_t kProblemsShown = 20;

// crash_writer as a child process, its stdout a pipe to us. It prints
// "ready ..." and, when asked to, "phase ...": the pipe's end of file is its
// end.
class WriterProcess {
 public:
  explicit WriterProcess(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec. The writer dies
      // with us should the test itself be killed.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipe_fds[1]);
    out_ = pipe_fds[0];
  }

  ~WriterProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;

  // The writer's next line; empty when it ended or was silent for timeout_ms.
  std::string NextLine(int timeout_ms) {
    std::string line;
    char c = 0;
    while (WaitReadable(timeout_ms) && ::read(out_, &c, 1) == 1) {
      if (c == '\n') return line;
      line.push_back(c);
    }
    return "";
  }

  // Waits `ms`, reading what the writer prints; false when it ended meanwhile.
  bool RunsFor(int ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    char buffer[256];
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !WaitReadable(static_cast<int>(left.count()))) return true;
      if (::read(out_, buffer, sizeof buffer) <= 0) return false;
    }
  }

  // Kills the writer; false (with *how) when it had ended by itself.
  bool Kill(std::string* how) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    const pid_t pid = std::exchange(pid_, -1);
    if (::waitpid(pid, &status, 0) != pid) {
      *how = "waitpid failed";
      return false;
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return true;
    *how = WIFEXITED(status) ? "the writer exited with " + std::to_string(WEXITSTATUS(status))
                             : "the writer died of signal " + std::to_string(WTERMSIG(status));
    return false;
  }

 private:
  // True when the pipe has a byte or its end of file within timeout_ms.
  bool WaitReadable(int timeout_ms) const {
    pollfd fd{out_, POLLIN, 0};
    int n = 0;
    do {
      n = ::poll(&fd, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n > 0;
  }

  pid_t pid_ = -1;
  int out_ = -1;
};

// Decodes every record of the store through storage::Store (with the
// record's checksum and every length checked) into *state; each record that
// fails, or holds a value not made for its key, goes to *problems.
Status ScanStore(const std::string& path, StoreState* state, std::vector<std::string>* problems) {
  storage::StoreOptions options;
  options.path = path;
  std::unique_ptr<storage::Store> store;
  Status s = storage::Store::Open(options, &store);
  std::vector<storage::Namespace> namespaces;
  if (s.ok()) s = store->ListNamespaces(&namespaces);
  for (std::size_t i = 0; s.ok() && i < namespaces.size(); ++i) {
    const std::string& ns = namespaces[i].name;
    s = store->ForEach(namespaces[i], "", [&](std::string_view key, std::string_view record) {
      Entry entry;
      ValueInfo info;
      const Status decoded = storage::DecodeRecord(record, &entry);
      if (!decoded.ok()) {
        problems->push_back(FullKey(ns, key) + ": " + decoded.ToString());
      } else if (!ParseValue(entry.value, &info) || info.key != key) {
        problems->push_back(FullKey(ns, key) + ": a value not made for the key");
      } else {
        (*state)[FullKey(ns, key)] = Observed{entry.version, HashValue(entry.value), info};
      }
      return true;
    });
  }
  return s;
}

// The Cache, reopened, must serve exactly what the scan found, for every key
// in `keys`.
Status CheckCacheServes(const Options& options, const StoreState& state,
                        const std::set<std::string>& keys, std::vector<std::string>* problems) {
  std::unique_ptr<Cache> cache;
  Status s = Cache::Open(options, &cache);
  for (auto it = keys.begin(); s.ok() && it != keys.end(); ++it) {
    const std::size_t slash = it->find('/');
    Entry entry;
    const Status got = cache->GetEntry(it->substr(0, slash), it->substr(slash + 1), &entry);
    const auto stored = state.find(*it);
    if (got.ok() && stored != state.end() && entry.version == stored->second.version &&
        HashValue(entry.value) == stored->second.hash) {
      continue;
    }
    if (got.IsNotFound() && stored == state.end()) continue;
    problems->push_back(fmt::format(
        "{}: the reopened Cache answers {} (version {}), the store "
        "holds version {}",
        *it, got.ToString(), entry.version, stored == state.end() ? 0 : stored->second.version));
  }
  if (cache) {
    const Status closed = cache->Close(std::chrono::seconds(10));
    if (s.ok()) s = closed;
  }
  return s;
}

std::set<std::string> KeysOf(const StoreState& before, const std::vector<Ack>& acks,
                             const StoreState& after) {
  std::set<std::string> keys;
  for (const auto& [key, observed] : before) keys.insert(key);
  for (const auto& [key, observed] : after) keys.insert(key);
  for (const Ack& ack : acks) {
    if (ack.kind != AckKind::kGroup) keys.insert(FullKey(ack.ns, ack.key));
  }
  return keys;
}

class CrashRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* writer = std::getenv("TIERCACHE_CRASH_WRITER");
    ASSERT_TRUE(writer != nullptr && writer[0] != '\0')
        << "TIERCACHE_CRASH_WRITER must name the crash_writer executable (meson test sets it)";
    writer_ = writer;
    seed_ = test_util::SeedFromEnvironment();
    std::cout << "seed " << seed_ << " (TIERCACHE_SEED=" << seed_ << " replays it)\n";
    RecordProperty("seed", std::to_string(seed_));
  }

  // Rounds of write, kill, recover and check on one store, killed at random.
  void RunRounds(WritePolicy policy) {
    RunRounds(Name(policy), test_util::Rounds(kRoundsPerPolicy), {policy}, "random");
  }

  // Rounds of write, kill, recover and check on one store, killed in `phase`
  // (crash_writer's PHASE argument; "random": anywhere). Round r writes by
  // policies[r % policies.size()].
  void RunRounds(std::string_view label, int rounds, const std::vector<WritePolicy>& policies,
                 std::string_view phase) {
    std::mt19937_64 rng(seed_ ^ std::hash<std::string_view>()(label));
    for (int round = 1; round <= rounds && !HasFailure(); ++round) {
      const WritePolicy policy = policies[static_cast<std::size_t>(round) % policies.size()];
      RunRound(policy, phase, static_cast<std::uint32_t>(round), rng);
    }
    std::cout << label << ": " << rounds_ << " rounds killed and recovered; checked "
              << acks_[AckKind::kPut] << " acknowledged Puts, " << acks_[AckKind::kDelete]
              << " Deletes, " << acks_[AckKind::kGroup] << " PutManys, " << acks_[AckKind::kCounter]
              << " CompareAndPuts, " << keys_checked_ << " key states\n";
    EXPECT_GT(acks_[AckKind::kPut], 0u);
    EXPECT_GT(acks_[AckKind::kCounter], 0u);
  }

  void RunRound(WritePolicy policy, std::string_view phase, std::uint32_t round,
                std::mt19937_64& rng) {
    const std::string acks_path = dir_.Sub("acks-" + std::to_string(round));
    const std::uint64_t writer_seed = rng();
    const bool aimed = phase != "random";
    const int delay_ms =
        aimed ? static_cast<int>(rng() % (MaxKillDelayMs(phase) + 1))
              : kMinKillDelayMs + static_cast<int>(rng() % (kMaxKillDelayMs - kMinKillDelayMs + 1));
    SCOPED_TRACE(fmt::format("round {} ({}, phase {}), writer seed {}, killed after {} ms", round,
                             Name(policy), phase, writer_seed, delay_ms));
    {
      WriterProcess writer({writer_, store_path(), std::string(Name(policy)), acks_path,
                            std::to_string(round), std::to_string(writer_seed),
                            std::string(phase)});
      const std::string ready = writer.NextLine(kReadyTimeoutMs);
      ASSERT_TRUE(ready.starts_with("ready")) << "the writer did not open the store";
      SCOPED_TRACE(ready);
      if (aimed) {
        const std::string entered = writer.NextLine(kReadyTimeoutMs);
        ASSERT_EQ(entered, fmt::format("phase {}", phase)) << "the writer did not enter the phase";
      }
      ASSERT_TRUE(writer.RunsFor(delay_ms)) << "the writer ended before it was killed";
      std::string how;
      ASSERT_TRUE(writer.Kill(&how)) << how;
      Recover(policy, round, acks_path);
    }
    if (!HasFatalFailure()) ++rounds_;
  }

  void Recover(WritePolicy policy, std::uint32_t round, const std::string& acks_path) {
    std::vector<Ack> acks;
    std::string error;
    ASSERT_TRUE(ParseAcks(test_util::ReadFile(acks_path), &acks, &error)) << error;
    StoreState after;
    std::vector<std::string> problems;
    Status s = ScanStore(store_path(), &after, &problems);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const std::set<std::string> keys = KeysOf(before_, acks, after);
    Options options;
    options.path = store_path();
    options.write_policy = policy;
    s = CheckCacheServes(options, after, keys, &problems);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const std::vector<std::string> broken = CheckRound({round, &before_, &acks, &after});
    problems.insert(problems.end(), broken.begin(), broken.end());
    ASSERT_TRUE(problems.empty()) << Report(problems);
    for (const Ack& ack : acks) {
      ++acks_[ack.kind];
      if (ack.ns == kDropNamespace && ack.kind == AckKind::kDelete) ++drop_deletes_;
    }
    keys_checked_ += keys.size();
    before_ = std::move(after);
  }

  static std::string Report(const std::vector<std::string>& problems) {
    std::string report = fmt::format("{} problems after recovery:", problems.size());
    for (std::size_t i = 0; i < problems.size() && i < kProblemsShown; ++i) {
      report += "\n  " + problems[i];
    }
    return report;
  }

  std::string store_path() const { return dir_.Sub("store"); }

  test_util::TempDir dir_;
  std::string writer_;
  std::uint64_t seed_ = 0;
  StoreState before_;
  int rounds_ = 0;
  std::map<AckKind, std::uint64_t> acks_;
  std::uint64_t drop_deletes_ = 0;  // Deletes acknowledged by a namespace drop
  std::uint64_t keys_checked_ = 0;
};

TEST_F(CrashRecoveryTest, WriteThroughKeepsEveryAcknowledgedWrite) {
  RunRounds(WritePolicy::kWriteThrough);
  EXPECT_GT(acks_[AckKind::kGroup], 0u);
}

TEST_F(CrashRecoveryTest, WriteAroundKeepsEveryAcknowledgedWrite) {
  RunRounds(WritePolicy::kWriteAround);
  EXPECT_GT(acks_[AckKind::kGroup], 0u);
}

TEST_F(CrashRecoveryTest, WriteBehindKeepsEveryFlushedWrite) {
  RunRounds(WritePolicy::kWriteBehind);
}

const std::vector<WritePolicy> kAllPolicies = {
    WritePolicy::kWriteThrough, WritePolicy::kWriteBehind, WritePolicy::kWriteAround};

TEST_F(CrashRecoveryTest, KilledInsideAFlushKeepsEveryFlushedWrite) {
  RunRounds("flush", test_util::Rounds(kRoundsPerPhase), {WritePolicy::kWriteBehind}, "flush");
}

TEST_F(CrashRecoveryTest, KilledInsideACompactionKeepsEveryAcknowledgedWrite) {
  RunRounds("compaction", test_util::Rounds(kRoundsPerPhase), kAllPolicies, "compaction");
}

TEST_F(CrashRecoveryTest, KilledWhileDroppingANamespaceKeepsItEmptyOrRefilledByLaterWrites) {
  RunRounds("drop", test_util::Rounds(kRoundsPerPhase), kAllPolicies, "drop");
  EXPECT_GT(drop_deletes_, 0u);
}

TEST_F(CrashRecoveryTest, KilledInsideCloseKeepsWhatCloseAcknowledged) {
  // Write-behind has the most to do in Close: it has every other round.
  RunRounds("close", test_util::Rounds(kRoundsPerPhase),
            {WritePolicy::kWriteBehind, WritePolicy::kWriteBehind, WritePolicy::kWriteThrough,
             WritePolicy::kWriteAround},
            "close");
}

}  // namespace
}  // namespace tiercache::crash
