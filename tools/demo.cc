// tiercache demo [DIR]: a guided run of what tiercache is for. A service
// caches slow lookups with read-through and write-behind under a Zipf
// workload; a writer process is killed with SIGKILL mid-run; the reopened
// store has every acknowledged write; the store is shown with the command's
// own subcommands. The store stays in DIR for the user to inspect.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tiercache/cache.h"
#include "tools/command.h"

namespace tiercache::tool {
namespace {

using std::chrono::milliseconds;
using Seconds = std::chrono::duration<double>;

constexpr int kThreads = 2;
constexpr int kGetsPerThread = 40'000;
constexpr int kUsers = 20'000;
constexpr auto kLookupLatency = std::chrono::microseconds(200);
constexpr int kAcksBeforeKill = 3'000;

std::string Bold(std::string_view text) {
  return isatty(STDOUT_FILENO) ? fmt::format("\033[1m{}\033[0m", text) : std::string(text);
}

void Step(int n, std::string_view title) { fmt::print("\n{}\n", Bold(fmt::format("{}. {}", n, title))); }

// User ids drawn from a Zipf distribution (skew 0.99): a few are very hot.
std::vector<int> ZipfUsers(int count, unsigned seed) {
  std::vector<double> weights(kUsers);
  for (int r = 0; r < kUsers; ++r) weights[r] = 1.0 / std::pow(r + 1.0, 0.99);
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  std::mt19937 random(seed);
  std::vector<int> users(count);
  for (int& u : users) u = pick(random);
  return users;
}

// The slow backend the service puts a cache in front of.
Status LookUpProfile(std::string_view, std::string_view key, LoadedValue* out) {
  std::this_thread::sleep_for(kLookupLatency);
  out->value = fmt::format(R"({{"user": "{}", "plan": "pro", "quota_gb": 50}})", key);
  out->metadata = {{"source", "profile-service"}};
  return Status::OK();
}

Status OpenService(const std::string& dir, std::unique_ptr<Cache>* cache) {
  Options options;
  options.path = dir;
  options.read_policy = ReadPolicy::kReadThrough;
  options.write_policy = WritePolicy::kWriteBehind;
  options.eviction = EvictionPolicy::kAdaptive;
  options.l1_max_entries = 2'000;
  options.write_buffer.flush_interval = milliseconds(200);
  options.loader = LookUpProfile;
  return Cache::Open(options, cache);
}

// Step 1: many Gets through read-through; returns false on an error.
bool RunService(const std::string& dir) {
  Step(1, "A service caches slow profile lookups (read-through, write-behind, adaptive L1)");
  fmt::print("   {} threads x {} Gets of {} user profiles, Zipf-distributed; a lookup takes {} us;\n"
             "   L1 holds 2,000 entries, RocksDB below it holds everything.\n",
             kThreads, kGetsPerThread, kUsers, kLookupLatency.count());
  std::unique_ptr<Cache> cache;
  if (Status s = OpenService(dir, &cache); !s.ok()) {
    fmt::print(stderr, "tiercache demo: {}\n", s.ToString());
    return false;
  }
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string value;
      for (int user : ZipfUsers(kGetsPerThread, t + 1)) {
        if (!cache->Get("profiles", fmt::format("user-{}", user), &value).ok()) failed = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  const Status flushed = cache->Close(milliseconds(10'000));
  const CacheStats stats = cache->GetStats();
  const double gets = kThreads * kGetsPerThread;
  fmt::print("   {:.0f} Gets in {:.2f} s: {:.0f} Gets/s; without the cache: {:.1f} s of lookups\n",
             gets, seconds, gets / seconds, gets * Seconds(kLookupLatency).count());
  fmt::print("   L1 hit ratio {:.1f} %; RocksDB answered {} misses; the backend was called {} times\n",
             100.0 * stats.memory.hit_ratio, stats.disk.hits, stats.loads.calls);
  fmt::print("   write-behind wrote {} records in {} batches; close: {}\n", stats.disk.writes,
             stats.write_buffer.flushes, flushed.ToString());
  return !failed && flushed.ok();
}

// Runs this program with `args` and waits for it; its exit code.
int RunSelf(const std::vector<std::string>& args) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>("tiercache")};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::size_t CountLines(const std::string& path) {
  std::ifstream in(path);
  return static_cast<std::size_t>(std::count(std::istreambuf_iterator<char>(in),
                                             std::istreambuf_iterator<char>(), '\n'));
}

// Starts the writer, waits for its acknowledgements and kills it; the
// acknowledged versions by key.
bool KillWriterMidRun(const std::string& dir, const std::string& ack_path,
                      std::unordered_map<std::string, std::uint64_t>* acked) {
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/proc/self/exe", "tiercache", "demo-writer", dir.c_str(), ack_path.c_str(), nullptr);
    ::_exit(127);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (CountLines(ack_path) < kAcksBeforeKill && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(ack_path);
  std::string key;
  std::uint64_t version = 0;
  while (in >> key >> version) (*acked)[key] = version;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// Step 2: returns false when an acknowledged write was lost.
bool RunCrash(const std::string& dir) {
  Step(2, "A writer process is killed with SIGKILL mid-run (write-through)");
  char scratch[] = "/tmp/tiercache-demo-XXXXXX";
  if (::mkdtemp(scratch) == nullptr) return false;
  const std::string ack_path = std::string(scratch) + "/acks";
  std::unordered_map<std::string, std::uint64_t> acked;
  const bool killed = KillWriterMidRun(dir, ack_path, &acked);
  ::unlink(ack_path.c_str());
  ::rmdir(scratch);
  fmt::print("   the writer acknowledged {} orders, then was {}\n", acked.size(),
             killed ? "killed with SIGKILL" : "found dead before the kill (see its error above)");

  const auto start = std::chrono::steady_clock::now();
  Options options;
  options.path = dir;
  std::unique_ptr<Cache> cache;
  if (Status s = Cache::Open(options, &cache); !s.ok()) {
    fmt::print(stderr, "tiercache demo: reopening after the crash: {}\n", s.ToString());
    return false;
  }
  const double open_ms = Seconds(std::chrono::steady_clock::now() - start).count() * 1000;
  std::size_t recovered = 0;
  for (const auto& [key, version] : acked) {
    Entry entry;
    if (cache->GetEntry("orders", key, &entry).ok() && entry.version == version) ++recovered;
  }
  fmt::print("   reopened in {:.0f} ms: {} of {} acknowledged orders recovered with their "
             "versions, {} lost\n",
             open_ms, recovered, acked.size(), acked.size() - recovered);
  return killed && recovered == acked.size() && !acked.empty();
}

int RunDemo(const std::string& dir) {
  fmt::print("{}\n", Bold("tiercache demo: an in-memory tier in front of RocksDB, in " + dir));
  if (!RunService(dir) || !RunCrash(dir)) return kExitProblems;
  Step(3, "The store on disk, as the tiercache command shows it");
  fmt::print("   $ tiercache stats {}\n", dir);
  RunSelf({"stats", dir});
  fmt::print("   $ tiercache ls {} -n orders --limit 5\n", dir);
  RunSelf({"ls", dir, "-n", "orders", "--limit", "5"});
  // The way to run this very program from here, which need not be on PATH.
  std::error_code ignored;
  const std::string self =
      std::filesystem::relative(std::filesystem::read_symlink("/proc/self/exe", ignored), ignored)
          .string();
  fmt::print("\nThe store stays in {0}. Try:\n  {1} get {0} profiles user-0\n  {1} verify {0}\n"
             "  {1} dump {0} -n orders | head\n",
             dir, self.empty() ? "tiercache" : self);
  return kExitOk;
}

// The demo's crash victim: writes orders write-through and appends each
// acknowledged one ("key version") to the ack file before the next.
int RunDemoWriter(const std::string& dir, const std::string& ack_path) {
  Options options;
  options.path = dir;
  std::unique_ptr<Cache> cache;
  if (Status s = Cache::Open(options, &cache); !s.ok()) {
    fmt::print(stderr, "tiercache demo-writer: {}\n", s.ToString());
    return kExitCannotOpen;
  }
  const int ack = ::open(ack_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
  for (std::uint64_t n = 0;; ++n) {
    const std::string key = fmt::format("order-{:08}", n);
    std::uint64_t version = 0;
    if (!cache->Put("orders", key, fmt::format("order {} for 3 items", n), {}, &version).ok()) {
      return kExitProblems;
    }
    const std::string line = fmt::format("{} {}\n", key, version);
    if (::write(ack, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return kExitProblems;
    }
  }
}

}  // namespace

void AddDemo(CLI::App& app, Action* action) {
  auto dir = std::make_shared<std::string>("tiercache-demo");
  CLI::App* demo = app.add_subcommand(
      "demo", "The guided demonstration: a cached service, a crash and its recovery (under a "
              "minute); leaves its store in DIR");
  demo->add_option("DIR", *dir, "Where the demonstration's store goes")->capture_default_str();
  demo->callback([action, dir] { *action = [dir] { return RunDemo(*dir); }; });

  auto ack = std::make_shared<std::string>();
  auto writer_dir = std::make_shared<std::string>();
  CLI::App* writer = app.add_subcommand("demo-writer", "The demonstration's crash victim");
  writer->group("");  // hidden: the demo starts it
  writer->add_option("DIR", *writer_dir)->required();
  writer->add_option("ACKS", *ack)->required();
  writer->callback([action, writer_dir, ack] {
    *action = [writer_dir, ack] { return RunDemoWriter(*writer_dir, *ack); };
  });
}

}  // namespace tiercache::tool
