// The process crash_recovery_test kills: opens a Cache and writes until it is
// killed, appending an acknowledgement line (tests/engine/crash_log.h) for
// every write the durability contract promises to keep.
//
//   crash_writer STORE POLICY ACK_FILE ROUND SEED [PHASE]
//
// Under write-through and write-around a line follows each Put, Delete,
// PutMany and CompareAndPut that returned OK. Under write-behind a thread
// keeps its lines until a Flush it called after those writes returned OK.
// A Delete's intent line goes out before the Delete starts. The cache's
// options (eviction, L1 size, buffer limits, compression, durability) are
// drawn from SEED. Prints "ready <options>" once the cache is open; exits 1 at
// an unexpected error or a malformed value read back, 2 on bad usage, 3 when
// nobody killed it within a minute.
//
// PHASE (default "random": none) names the phase the test means to kill it
// in. After a warm-up drawn from SEED the writer prints "phase <PHASE>" once,
// on entering it:
//   flush       a thread calls Flush in a loop; printed before a Flush with
//               writes buffered (write-behind);
//   compaction  memtables of 64 KiB; printed when RocksDB's compaction thread
//               starts writing a table file;
//   drop        one more thread writes keys of its own into kDropNamespace
//               and drops it now and then; printed before a DropNamespace;
//   close       the writers stop after the warm-up and the cache closes with
//               their writes still buffered; printed before Close. A Close
//               that returns OK acknowledges everything written, and the
//               writer then waits to be killed.

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/store.h"
#include "tests/engine/crash_log.h"
#include "tiercache/cache.h"

namespace tiercache::crash {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kMaxRun = std::chrono::seconds(60);
constexpr auto kFlushDeadline = std::chrono::seconds(30);

[[noreturn]] void Die(std::string_view what, const Status& s) {
  fmt::print(stderr, "crash_writer: {}: {}\n", what, s.ToString());
  std::_Exit(1);
}

enum class Phase { kRandom, kFlush, kCompaction, kDrop, kClose };

std::optional<Phase> ParsePhase(std::string_view name) {
  if (name == "random") return Phase::kRandom;
  if (name == "flush") return Phase::kFlush;
  if (name == "compaction") return Phase::kCompaction;
  if (name == "drop") return Phase::kDrop;
  if (name == "close") return Phase::kClose;
  return std::nullopt;
}

struct Config {
  std::string store;
  WritePolicy policy = WritePolicy::kWriteThrough;
  std::string acks;
  std::uint32_t round = 0;
  std::uint64_t seed = 0;
  Phase phase = Phase::kRandom;
};

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kRandom:
      return "random";
    case Phase::kFlush:
      return "flush";
    case Phase::kCompaction:
      return "compaction";
    case Phase::kDrop:
      return "drop";
    case Phase::kClose:
      return "close";
  }
  return "?";
}

bool ParseArgs(int argc, char** argv, Config* config) {
  if (argc != 6 && argc != 7) return false;
  const std::optional<WritePolicy> policy = ParseWritePolicy(argv[2]);
  const std::optional<Phase> phase = ParsePhase(argc == 7 ? argv[6] : "random");
  if (!policy || !phase) return false;
  config->store = argv[1];
  config->policy = *policy;
  config->acks = argv[3];
  config->round = static_cast<std::uint32_t>(std::strtoul(argv[4], nullptr, 10));
  config->seed = std::strtoull(argv[5], nullptr, 10);
  config->phase = *phase;
  return true;
}

// Tells the test, once, that the writer has entered the phase it is to be
// killed in; silent during the warm-up, so that the store holds data first.
// Thread-safe: RocksDB's threads announce too.
class PhaseSignal {
 public:
  explicit PhaseSignal(std::string_view phase) : line_(fmt::format("phase {}\n", phase)) {}

  // Announce does nothing before `at`.
  void Arm(SteadyClock::time_point at) {
    armed_at_.store(at.time_since_epoch().count(), std::memory_order_release);
  }
  bool armed() const {
    return SteadyClock::now().time_since_epoch().count() >=
           armed_at_.load(std::memory_order_acquire);
  }

  void Announce() {
    if (!armed() || announced_.exchange(true)) return;
    // One write(2), no stdio buffer: the line is in the pipe when it returns.
    if (::write(STDOUT_FILENO, line_.data(), line_.size()) != static_cast<ssize_t>(line_.size())) {
      Die("announcing the phase", Status::IOError(std::strerror(errno)));
    }
  }

 private:
  const std::string line_;
  std::atomic<SteadyClock::rep> armed_at_{std::numeric_limits<SteadyClock::rep>::max()};
  std::atomic<bool> announced_{false};
};

// Announces the compaction phase when a thread of RocksDB's low-priority
// pool, where its compactions run ("rocksdb:low"; flushes run in
// "rocksdb:high"), starts writing a table file.
class CompactionSignal : public rocksdb::FileSystemWrapper {
 public:
  CompactionSignal(const std::shared_ptr<rocksdb::FileSystem>& target, PhaseSignal& signal)
      : FileSystemWrapper(target), signal_(signal) {}

  const char* Name() const override { return "CompactionSignal"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    char thread[16] = {};
    if (name.ends_with(".sst") &&
        ::pthread_getname_np(::pthread_self(), thread, sizeof thread) == 0 &&
        std::string_view(thread) == "rocksdb:low") {
      signal_.Announce();
    }
    return target()->NewWritableFile(name, options, file, dbg);
  }

 private:
  PhaseSignal& signal_;
};

template <typename T, std::size_t N>
T Pick(std::mt19937_64& rng, const T (&choices)[N]) {
  return choices[rng() % N];
}

// Options drawn from the seed, so that the rounds between them cover small
// and large L1s and buffers, each eviction policy, lz4 and both durabilities.
Options MakeOptions(const Config& config, std::mt19937_64& rng, PhaseSignal& signal) {
  Options options;
  options.path = config.store;
  options.write_policy = config.policy;
  options.eviction = Pick(rng, {EvictionPolicy::kLRU, EvictionPolicy::kLFU, EvictionPolicy::kFIFO,
                                EvictionPolicy::kTTL, EvictionPolicy::kAdaptive});
  options.l1_max_entries = Pick(rng, {std::size_t{64}, std::size_t{100'000}});
  options.write_buffer.max_entries =
      Pick(rng, {std::size_t{8}, std::size_t{128}, std::size_t{10'000}});
  options.write_buffer.flush_interval =
      Pick(rng, {milliseconds(2), milliseconds(20), milliseconds(1000)});
  options.compression = Pick(rng, {Compression::kNone, Compression::kLz4});
  options.compression_threshold = 64;
  options.durability = rng() % 4 == 0 ? Durability::kPowerLoss : Durability::kProcessCrash;
  if (config.phase == Phase::kClose) {
    // The writers do not Flush: all they wrote is still buffered when Close
    // starts, the longest drain.
    options.write_buffer.max_entries = 10'000;
    options.write_buffer.flush_interval = milliseconds(1000);
  }
  if (config.phase == Phase::kCompaction) {
    // The smallest memtables: RocksDB flushes and compacts every few hundred
    // writes.
    options.adjust_store_for_testing = [&signal](storage::StoreOptions* store) {
      store->write_buffer_bytes = 64 * 1024;
      store->file_system = std::make_shared<CompactionSignal>(
          store->file_system ? store->file_system : rocksdb::FileSystem::Default(), signal);
    };
  }
  return options;
}

std::string Describe(const Options& o) {
  return fmt::format("policy={} eviction={} l1_max_entries={} buffer={}/{}ms compression={} {}",
                     Name(o.write_policy), Name(o.eviction), o.l1_max_entries,
                     o.write_buffer.max_entries, o.write_buffer.flush_interval.count(),
                     Name(o.compression), Name(o.durability));
}

// The ack file. Each Append is one write(2) on an O_APPEND descriptor: once
// it returns, the line is in the kernel's page cache and survives SIGKILL.
class AckLog {
 public:
  explicit AckLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) Die("opening " + path, Status::IOError(std::strerror(errno)));
  }

  void Append(std::string_view lines) const {
    while (!lines.empty()) {
      const ssize_t n = ::write(fd_, lines.data(), lines.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) Die("appending to the ack file", Status::IOError(std::strerror(errno)));
      lines.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  const int fd_;
};

// One thread's acknowledgements: written at once, or under write-behind kept
// until a Flush called after the writes returns OK; in the close phase, until
// Close returns OK.
class Acknowledger {
 public:
  Acknowledger(const AckLog& log, Cache& cache, const Config& config, std::mt19937_64& rng)
      : log_(log),
        cache_(cache),
        after_flush_(config.policy == WritePolicy::kWriteBehind),
        flushes_(config.phase != Phase::kClose),
        rng_(rng) {}

  // Written at once under every policy: the write may land any time after.
  void Intent(const Ack& ack) const { log_.Append(FormatAck(ack)); }
  void Intents(const std::vector<Ack>& acks) const {
    std::string lines;
    for (const Ack& ack : acks) lines += FormatAck(ack);
    log_.Append(lines);
  }

  void Done(const Ack& ack) {
    if (!after_flush_) return log_.Append(FormatAck(ack));
    pending_.push_back(ack);
  }

  // Write-behind: after a random number of writes, flushes and acknowledges
  // them. REQUIRES: called after each write of the thread.
  void MaybeFlush() {
    if (!after_flush_ || !flushes_ || ++since_flush_ < flush_every_) return;
    const Status s = cache_.Flush(kFlushDeadline);
    if (!s.ok()) Die("Flush", s);
    log_.Append(TakePending());
    since_flush_ = 0;
    flush_every_ = 1 + rng_() % 40;
  }

  // The lines still waiting for a Flush: a Close that returns OK acknowledges
  // them.
  // As lines, the last one per key alone: SIGKILL can cut a long append
  // short, and every prefix of it must hold. A Put and a later Delete of one
  // key, cut between the two, would claim the Put although the flushed Delete
  // removed it (the Delete's intent line went out before both).
  std::string TakePending() {
    std::map<std::pair<std::string, std::string>, const Ack*> last;
    for (const Ack& ack : pending_) last[{ack.ns, ack.key}] = &ack;
    std::string lines;
    for (const auto& [key, ack] : last) lines += FormatAck(*ack);
    pending_.clear();
    return lines;
  }

 private:
  const AckLog& log_;
  Cache& cache_;
  const bool after_flush_;
  const bool flushes_;
  std::mt19937_64& rng_;
  std::vector<Ack> pending_;
  std::uint64_t since_flush_ = 0;
  std::uint64_t flush_every_ = 1;
};

// Value sizes: mostly small, some past the lz4 threshold, a few large.
std::size_t ValueSize(std::mt19937_64& rng) {
  const std::uint64_t r = rng() % 100;
  if (r < 70) return 16 + rng() % 100;
  if (r < 95) return 200 + rng() % 1800;
  return 4000 + rng() % 16000;
}

// A thread with keys of its own: Puts, Deletes and (but under write-behind,
// where PutMany is not atomic) whole-group PutManys. The dropper
// (kDropperThread) writes no groups but drops its namespace now and then.
class OwnerThread {
 public:
  OwnerThread(Cache& cache, const AckLog& log, const Config& config, int thread,
              PhaseSignal& signal)
      : cache_(cache),
        config_(config),
        thread_(thread),
        dropper_(thread == kDropperThread),
        ns_(dropper_ ? kDropNamespace : NamespaceOf(thread)),
        keys_(dropper_ ? kDropperKeys : kKeysPerThread),
        signal_(signal),
        rng_(config.seed * 31 + static_cast<std::uint64_t>(thread)),
        acks_(log, cache, config, rng_),
        newest_(static_cast<std::size_t>(keys_), 0) {}

  // Writes until `until`; returns the acknowledgements still waiting for a
  // Flush.
  std::string Run(SteadyClock::time_point until) {
    while (SteadyClock::now() < until) {
      const std::uint64_t r = rng_() % 100;
      if (r < 8 && dropper_) {
        DropAll();
      } else if (r < 8 && config_.policy != WritePolicy::kWriteBehind) {
        PutGroup(static_cast<int>(rng_() % kGroupsPerThread));
      } else if (r < 14) {
        DeleteKey(static_cast<int>(rng_() % keys_));
      } else {
        PutKey(static_cast<int>(rng_() % keys_));
      }
      acks_.MaybeFlush();
    }
    return acks_.TakePending();
  }

 private:
  ValueInfo Info(std::string key) const {
    return ValueInfo{std::move(key), config_.round, static_cast<std::uint32_t>(thread_), seq_, 0};
  }

  void PutKey(int index) {
    const std::string key = OwnedKey(thread_, index);
    const std::string value = MakeValue(Info(key), ValueSize(rng_));
    ++seq_;
    std::uint64_t version = 0;
    const Status s = cache_.Put(ns_, key, value, {}, &version);
    if (s.IsBusy()) return;  // write-behind's buffer stayed full: not written
    if (!s.ok()) Die("Put " + key, s);
    newest_[index] = std::max(newest_[index], version);
    acks_.Done({AckKind::kPut, std::string(ns_), key, version, HashValue(value)});
  }

  void DeleteKey(int index) {
    const std::string key = OwnedKey(thread_, index);
    acks_.Intent({AckKind::kDeleteIntent, std::string(ns_), key, 0, 0});
    const Status s = cache_.Delete(ns_, key);
    if (s.IsBusy()) return;
    if (!s.ok()) Die("Delete " + key, s);
    acks_.Done({AckKind::kDelete, std::string(ns_), key, newest_[index], 0});
  }

  // A drop deletes every key of the namespace: an intent for each before,
  // a Delete for each once it returned.
  void DropAll() {
    std::vector<Ack> intents;
    for (int i = 0; i < keys_; ++i) {
      intents.push_back({AckKind::kDeleteIntent, std::string(ns_), OwnedKey(thread_, i), 0, 0});
    }
    acks_.Intents(intents);
    signal_.Announce();
    const Status s = cache_.DropNamespace(ns_);
    if (!s.ok() && !s.IsNotFound()) Die("DropNamespace", s);
    for (int i = 0; i < keys_; ++i) {
      acks_.Done({AckKind::kDelete, std::string(ns_), OwnedKey(thread_, i), newest_[i], 0});
    }
  }

  void PutGroup(int group) {
    const std::string name = GroupName(thread_, group);
    std::vector<KeyValue> pairs;
    for (int m = 0; m < kGroupMembers; ++m) {
      std::string member = GroupMember(name, m);
      std::string value = MakeValue(Info(member), ValueSize(rng_));
      pairs.push_back({std::move(member), std::move(value)});
    }
    const std::uint64_t tag = seq_++;
    const Status s = cache_.PutMany(ns_, pairs);
    if (!s.ok()) Die("PutMany " + name, s);
    acks_.Done({AckKind::kGroup, std::string(ns_), name, tag, 0});
  }

  Cache& cache_;
  const Config& config_;
  const int thread_;
  const bool dropper_;
  const std::string_view ns_;
  const int keys_;
  PhaseSignal& signal_;
  std::mt19937_64 rng_;
  Acknowledger acks_;
  std::vector<std::uint64_t> newest_;  // per key: the newest version this thread wrote
  std::uint64_t seq_ = 0;
};

// A thread incrementing the shared counters with GetEntry and CompareAndPut,
// racing the other counter threads.
class CounterThread {
 public:
  CounterThread(Cache& cache, const AckLog& log, const Config& config, int thread)
      : cache_(cache),
        config_(config),
        thread_(100 + thread),
        rng_(config.seed * 37 + static_cast<std::uint64_t>(thread)),
        acks_(log, cache, config, rng_) {}

  // Increments until `until`; returns the acknowledgements still waiting for
  // a Flush.
  std::string Run(SteadyClock::time_point until) {
    while (SteadyClock::now() < until) {
      if (Increment(CounterKey(static_cast<int>(rng_() % kCounters)))) acks_.MaybeFlush();
    }
    return acks_.TakePending();
  }

 private:
  // True when the CompareAndPut won.
  bool Increment(const std::string& key) {
    const std::string_view ns = kNamespaces[0];
    Entry entry;
    ValueInfo info;
    Status s = cache_.GetEntry(ns, key, &entry);
    if (s.ok() && !ParseValue(entry.value, &info)) {
      Die("GetEntry " + key, Status::Corruption("a malformed value was served"));
    }
    if (!s.ok() && !s.IsNotFound()) Die("GetEntry " + key, s);
    const std::uint64_t expected = s.ok() ? entry.version : 0;
    const std::uint64_t count = s.ok() ? info.count + 1 : 1;
    const ValueInfo next{key, config_.round, static_cast<std::uint32_t>(thread_), seq_++, count};
    const std::string value = MakeValue(next, 32 + rng_() % 64);
    std::uint64_t version = 0;
    s = cache_.CompareAndPut(ns, key, expected, value, {}, &version);
    if (s.IsConflict() || s.IsBusy()) return false;
    if (!s.ok()) Die("CompareAndPut " + key, s);
    acks_.Done({AckKind::kCounter, std::string(ns), key, version, HashValue(value), count});
    return true;
  }

  Cache& cache_;
  const Config& config_;
  const int thread_;
  std::mt19937_64 rng_;
  Acknowledger acks_;
  std::uint64_t seq_ = 0;
};

// The flush phase: Flush after Flush while the writers fill the buffer.
void FlushLoop(Cache& cache, PhaseSignal& signal, SteadyClock::time_point until) {
  while (SteadyClock::now() < until) {
    if (signal.armed() && cache.GetStats().write_buffer.entries > 0) signal.Announce();
    const Status s = cache.Flush(kFlushDeadline);
    if (!s.ok()) Die("Flush", s);
  }
}

// The close phase: the writers have stopped; what they wrote is still
// buffered. A Close that returns OK keeps it all.
[[noreturn]] void CloseAndWait(std::unique_ptr<Cache> cache, const AckLog& log,
                               const std::vector<std::string>& pending, PhaseSignal& signal) {
  signal.Announce();
  const Status s = cache->Close(kFlushDeadline);
  if (!s.ok()) Die("Close", s);
  for (const std::string& lines : pending) log.Append(lines);
  while (true) ::pause();
}

int Run(const Config& config) {
  std::mt19937_64 rng(config.seed);
  const milliseconds warm_up(20 + rng() % 230);
  PhaseSignal signal(PhaseName(config.phase));
  const Options options = MakeOptions(config, rng, signal);
  std::unique_ptr<Cache> cache;
  const Status s = Cache::Open(options, &cache);
  if (!s.ok()) Die("Open " + config.store, s);
  const AckLog log(config.acks);
  std::printf("ready %s\n", Describe(options).c_str());
  std::fflush(stdout);

  const SteadyClock::time_point warmed_up = SteadyClock::now() + warm_up;
  signal.Arm(warmed_up);
  const bool closing = config.phase == Phase::kClose;
  const SteadyClock::time_point until = closing ? warmed_up : SteadyClock::now() + kMaxRun;
  const int owners = kOwnerThreads + (config.phase == Phase::kDrop ? 1 : 0);
  std::vector<std::string> pending(static_cast<std::size_t>(owners + kCounterThreads));
  std::vector<std::thread> threads;
  for (int t = 0; t < owners; ++t) {
    threads.emplace_back(
        [&, t] { pending[t] = OwnerThread(*cache, log, config, t, signal).Run(until); });
  }
  for (int t = 0; t < kCounterThreads; ++t) {
    threads.emplace_back(
        [&, t] { pending[owners + t] = CounterThread(*cache, log, config, t).Run(until); });
  }
  if (config.phase == Phase::kFlush) {
    threads.emplace_back([&] { FlushLoop(*cache, signal, until); });
  }
  for (std::thread& thread : threads) thread.join();
  if (closing) CloseAndWait(std::move(cache), log, pending, signal);
  fmt::print(stderr, "crash_writer: nobody killed me within {} s\n", kMaxRun.count());
  std::_Exit(3);
}

}  // namespace
}  // namespace tiercache::crash

int main(int argc, char** argv) {
  tiercache::crash::Config config;
  if (!tiercache::crash::ParseArgs(argc, argv, &config)) {
    std::fprintf(stderr,
                 "usage: crash_writer STORE POLICY ACK_FILE ROUND SEED "
                 "[random|flush|compaction|drop|close]\n");
    return 2;
  }
  return tiercache::crash::Run(config);
}
