// A second process for the store tests: holds a store open, or keeps writing
// to it, while the test process looks at it (tests/util/child_process.h).
//
//   store_test_helper hold PATH    opens PATH read-write, prints "ready", and
//                                  keeps it open until stdin reaches its end
//   store_test_helper write PATH   opens PATH read-write and writes keys
//                                  k00000000, k00000001, ... to namespace
//                                  "live" in batches of 10, printing how many
//                                  are written after each batch, until
//                                  printing fails (the test stopped reading)
//   store_test_helper fill-tmpfs DIR
//                                  in a private mount namespace, mounts an
//                                  16 MiB tmpfs on DIR and writes 4 KiB records
//                                  to a store there until a write fails;
//                                  prints "written BYTES", "refused: STATUS"
//                                  and "get: STATUS" (a read after the
//                                  refusal), or "skip: REASON" when no mount
//                                  namespace can be made
//   store_test_helper fill-cache POLICY DIR
//                                  the same through a tiercache::Cache with
//                                  write policy POLICY (write-through,
//                                  write-behind, write-around) on an 8 MiB
//                                  tmpfs that also holds a 3 MiB filler file:
//                                  writes until refused, reads, deletes the
//                                  filler, writes again, reopens and reads
//                                  every acknowledged write back; prints one
//                                  "name: value" line per step (FillCache)

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "storage/store.h"
#include "tests/util/child_side.h"
#include "tiercache/cache.h"

namespace {

using tiercache::Status;
using tiercache::storage::Namespace;
using tiercache::storage::Store;
using tiercache::storage::StoreOptions;
using tiercache::test_util::Fail;
using tiercache::test_util::HoldUntilStdinEnds;
using tiercache::test_util::Report;

constexpr int kBatchSize = 10;

int Write(Store& store) {
  Namespace ns;
  if (Status s = store.OpenNamespace("live", &ns); !s.ok()) return Fail(s);
  for (int written = 0;;) {
    auto batch = store.NewBatch();
    for (int i = 0; i < kBatchSize; ++i, ++written) {
      if (Status s = batch.Put(ns, fmt::format("k{:08}", written), fmt::format("v{:08}", written));
          !s.ok()) {
        return Fail(s);
      }
    }
    if (Status s = store.Write(&batch); !s.ok()) return Fail(s);
    if (!Report(std::to_string(written))) return 0;
  }
}

bool WriteFile(const char* path, std::string_view text) {
  const int fd = ::open(path, O_WRONLY);
  if (fd < 0) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  return ::close(fd) == 0 && written;
}

// Mounts a tmpfs of `size` ("16m") on `dir`, seen by this process only. As root a mount
// namespace is enough; otherwise a user namespace maps us to root in it.
// Both need a single-threaded process: call before anything starts threads.
bool MountTinyTmpfs(const std::string& dir, std::string_view size, std::string* why) {
  if (::unshare(CLONE_NEWNS) != 0) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0 || !WriteFile("/proc/self/setgroups", "deny") ||
        !WriteFile("/proc/self/uid_map", fmt::format("0 {} 1", uid)) ||
        !WriteFile("/proc/self/gid_map", fmt::format("0 {} 1", gid))) {
      *why = fmt::format("no private mount namespace: {}", std::strerror(errno));
      return false;
    }
  }
  // Keep the mount from propagating to the namespace of the test.
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", dir.c_str(), "tmpfs", 0, fmt::format("size={}", size).c_str()) != 0) {
    *why = fmt::format("cannot mount a tmpfs on {}: {}", dir, std::strerror(errno));
    return false;
  }
  return true;
}

// Small memtables so that RocksDB flushes (and preallocates new WALs) many
// times before the file system fills.
int FillTinyTmpfs(const std::string& dir) {
  std::string why;
  if (!MountTinyTmpfs(dir, "16m", &why)) return Report("skip: " + why) ? 0 : 1;
  StoreOptions options;
  options.path = dir + "/store";
  options.free_space_reserve = 1024 * 1024;
  options.write_buffer_bytes = 256 * 1024;
  std::unique_ptr<Store> store;
  Namespace ns;
  if (Status s = Store::Open(options, &store); !s.ok()) return Fail(s);
  if (Status s = store->OpenNamespace("fill", &ns); !s.ok()) return Fail(s);
  std::mt19937 random(1);  // incompressible, and the same on every run
  std::string record(4096, '\0');
  std::uint64_t written = 0;
  Status refused;
  for (int i = 0; refused.ok(); ++i, written += record.size()) {
    for (char& c : record) c = static_cast<char>(random());
    refused = store->Put(ns, fmt::format("k{:08}", i), record);
  }
  std::string first;
  Report(fmt::format("written {}", written - record.size()));
  Report("refused: " + refused.ToString());
  return Report("get: " + store->Get(ns, "k00000000", &first).ToString()) ? 0 : 1;
}

// ---------------------------------------------------------------------------
// fill-cache

using std::chrono::milliseconds;
using tiercache::Cache;
using tiercache::WritePolicy;

constexpr char kFillNamespace[] = "fill";
constexpr std::size_t kFillerBytes = 3 * 1024 * 1024;
constexpr std::size_t kFillValueBytes = 4096;
constexpr int kPutsPerFlush = 32;
constexpr int kWritesAfterFreeing = 16;
// Long enough for a batch of 128 KiB on tmpfs, also under a sanitizer; a
// flush that meets the full disk waits this long once.
constexpr milliseconds kShortFlush{300};
// Past the flusher's backoff (at most 7.5 s) after space returns.
constexpr milliseconds kLongFlush{60'000};

// Spread over the key space, as a cache's keys are, so that compactions
// rewrite overlapping files rather than move them.
std::string FillKey(int i) {
  return fmt::format("{:08x}", static_cast<std::uint32_t>(i) * 2654435761u);
}

// Incompressible, and the same for the same key in every process.
std::string FillValue(int i) {
  std::mt19937 random(static_cast<std::uint32_t>(i));
  std::string value(kFillValueBytes, '\0');
  for (char& c : value) c = static_cast<char>(random());
  return value;
}

tiercache::Options FillCacheOptions(WritePolicy policy, const std::string& path) {
  tiercache::Options options;
  options.path = path;
  options.write_policy = policy;
  options.free_space_reserve = 1024 * 1024;  // the least Validate allows
  options.max_value_bytes = 64 * 1024;
  options.l1_max_bytes = 1024 * 1024;  // most reads reach RocksDB
  // Write-behind: batches up to 256 KiB, only by size or Flush; a full buffer
  // refuses a Put at once.
  options.write_buffer.max_bytes = 256 * 1024;
  options.write_buffer.max_entries = 1'000'000;
  options.write_buffer.flush_interval = std::chrono::hours(1);
  options.write_buffer.max_wait = milliseconds(0);
  // The store's reserve is then 1 MiB + 3 x 256 KiB.
  options.adjust_store_for_testing = [](StoreOptions* store) {
    store->write_buffer_bytes = 256 * 1024;
  };
  return options;
}

struct Fill {
  std::unique_ptr<Cache> cache;
  int written = 0;  // acknowledged Puts: keys 0 .. written - 1
  int flushed = 0;  // write-behind: the keys a successful Flush covered
};

// Puts until one is refused; its status. Write-behind flushes every
// kPutsPerFlush Puts until a batch fails, so that its batches meet the full
// disk, and then fills its buffer.
Status WriteUntilRefused(Fill& fill, bool write_behind) {
  bool flushing = write_behind;
  for (;; ++fill.written) {
    Status s = fill.cache->Put(kFillNamespace, FillKey(fill.written), FillValue(fill.written));
    if (!s.ok()) return s;
    if (!flushing || (fill.written + 1) % kPutsPerFlush != 0) continue;
    s = fill.cache->Flush(kShortFlush);
    // Merely slow while no batch failed: wait on, so that a slow machine
    // never fills the buffer before a batch meets the full disk.
    while (s.IsTimedOut() && fill.cache->GetStats().write_buffer.flush_failures == 0) {
      s = fill.cache->Flush(kShortFlush);
    }
    if (s.ok()) {
      fill.flushed = fill.written + 1;
    } else if (fill.cache->GetStats().write_buffer.flush_failures > 0) {
      // Not merely slow: a batch met the full disk.
      flushing = false;
      Report("flush: " + s.ToString());
    }
  }
}

// How many of keys from .. to - 1 read back with their own value.
int ReadBack(Cache& cache, int from, int to) {
  int right = 0;
  for (int i = from; i < to; ++i) {
    std::string value;
    if (cache.Get(kFillNamespace, FillKey(i), &value).ok() && value == FillValue(i)) ++right;
  }
  return right;
}

// After space is freed: write-behind's buffered writes, then new ones.
Status WriteMore(Fill& fill, bool write_behind) {
  Status s = write_behind ? fill.cache->Flush(kLongFlush) : Status::OK();
  for (int n = 0; s.ok() && n < kWritesAfterFreeing; ++n) {
    s = fill.cache->Put(kFillNamespace, FillKey(fill.written), FillValue(fill.written));
    if (s.ok()) ++fill.written;
  }
  if (s.ok() && write_behind) s = fill.cache->Flush(kLongFlush);
  return s;
}

bool WriteFiller(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << std::string(kFillerBytes, 'f');
  return out.good();
}

// The first line of RocksDB's info LOG that tells of a full disk, or "clean".
std::string FullDiskInLog(const std::string& store) {
  std::ifstream log(store + "/LOG");
  for (std::string line; std::getline(log, line);) {
    if (line.find("No space left") != std::string::npos ||
        line.find("NoSpace") != std::string::npos) {
      return line;
    }
  }
  return "clean";
}

int FillCache(std::string_view policy_name, const std::string& dir) {
  const std::optional<WritePolicy> policy = tiercache::ParseWritePolicy(policy_name);
  if (!policy) return 2;
  std::string why;
  if (!MountTinyTmpfs(dir, "8m", &why)) return Report("skip: " + why) ? 0 : 1;
  const std::string filler = dir + "/filler";
  if (!WriteFiller(filler)) return Fail(Status::IOError("cannot write " + filler));
  const tiercache::Options options = FillCacheOptions(*policy, dir + "/store");
  const bool write_behind = *policy == WritePolicy::kWriteBehind;
  Fill fill;
  if (Status s = Cache::Open(options, &fill.cache); !s.ok()) return Fail(s);
  Report("refused: " + WriteUntilRefused(fill, write_behind).ToString());
  Report(fmt::format("written: {}", fill.written));
  std::string value;
  Report("get: " + fill.cache->Get(kFillNamespace, FillKey(0), &value).ToString());
  if (write_behind) {
    Report(fmt::format("flush failures: {}",
                       fill.cache->GetStats().write_buffer.flush_failures > 0 ? "some" : "none"));
    const int buffered = fill.written - fill.flushed;
    Report(fmt::format("buffered: {} of {} read", ReadBack(*fill.cache, fill.flushed, fill.written),
                       buffered));
  }
  std::filesystem::remove(filler);
  Report("resumed: " + WriteMore(fill, write_behind).ToString());
  Report("close: " + fill.cache->Close(kLongFlush).ToString());
  fill.cache.reset();  // RocksDB's lock goes with it
  if (Status s = Cache::Open(options, &fill.cache); !s.ok()) return Fail(s);
  Report(fmt::format("read back: {} of {}", ReadBack(*fill.cache, 0, fill.written), fill.written));
  return Report("rocksdb log: " + FullDiskInLog(options.path)) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "fill-cache" && argc == 4) return FillCache(argv[2], argv[3]);
  if (argc != 3) return 2;
  if (mode == "fill-tmpfs") return FillTinyTmpfs(argv[2]);
  StoreOptions options;
  options.path = argv[2];
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(options, &store); !s.ok()) return Fail(s);
  if (mode == "hold") return HoldUntilStdinEnds();
  if (mode == "write") return Write(*store);
  return 2;
}
