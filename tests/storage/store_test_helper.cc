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

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace {

using tiercache::Status;
using tiercache::storage::Namespace;
using tiercache::storage::Store;
using tiercache::storage::StoreOptions;

constexpr int kBatchSize = 10;

int Fail(const Status& s) {
  std::printf("error: %s\n", s.ToString().c_str());
  return 1;
}

bool Report(std::string_view line) {
  return std::printf("%.*s\n", static_cast<int>(line.size()), line.data()) > 0 &&
         std::fflush(stdout) == 0;
}

int Hold(Store&) {
  if (!Report("ready")) return 1;
  while (std::getchar() != EOF) {
  }
  return 0;
}

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

// Mounts a 16 MiB tmpfs on `dir`, seen by this process only. As root a mount
// namespace is enough; otherwise a user namespace maps us to root in it.
// Both need a single-threaded process: call before anything starts threads.
bool MountTinyTmpfs(const std::string& dir, std::string* why) {
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
      ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=16m") != 0) {
    *why = fmt::format("cannot mount a tmpfs on {}: {}", dir, std::strerror(errno));
    return false;
  }
  return true;
}

// Small memtables so that RocksDB flushes (and preallocates new WALs) many
// times before the file system fills.
int FillTinyTmpfs(const std::string& dir) {
  std::string why;
  if (!MountTinyTmpfs(dir, &why)) return Report("skip: " + why) ? 0 : 1;
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

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc != 3) return 2;
  const std::string_view mode = argv[1];
  if (mode == "fill-tmpfs") return FillTinyTmpfs(argv[2]);
  StoreOptions options;
  options.path = argv[2];
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(options, &store); !s.ok()) return Fail(s);
  if (mode == "hold") return Hold(*store);
  if (mode == "write") return Write(*store);
  return 2;
}
