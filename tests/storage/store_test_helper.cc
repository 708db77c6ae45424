// A second process for the store tests: holds a store open, or keeps writing
// to it, while the test process looks at it (tests/storage/child_process.h).
//
//   store_test_helper hold PATH    opens PATH read-write, prints "ready", and
//                                  keeps it open until stdin reaches its end
//   store_test_helper write PATH   opens PATH read-write and writes keys
//                                  k00000000, k00000001, ... to namespace
//                                  "live" in batches of 10, printing how many
//                                  are written after each batch, until
//                                  printing fails (the test stopped reading)

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>
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

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc != 3) return 2;
  const std::string_view mode = argv[1];
  StoreOptions options;
  options.path = argv[2];
  std::unique_ptr<Store> store;
  if (Status s = Store::Open(options, &store); !s.ok()) return Fail(s);
  if (mode == "hold") return Hold(*store);
  if (mode == "write") return Write(*store);
  return 2;
}
