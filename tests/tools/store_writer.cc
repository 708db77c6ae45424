// A second process for the command tests: holds a store open read-write, or
// keeps writing entries to it, while a test runs the tiercache command on it
// (tests/tools/process.h).
//
//   tools_test_store_writer hold PATH    opens PATH read-write, prints "ready",
//                                        and keeps it open until stdin ends
//   tools_test_store_writer write PATH   opens PATH read-write and writes
//                                        entries k00000000, k00000001, ... to
//                                        namespace "live" in batches of 10,
//                                        printing how many are written after
//                                        each batch, until printing fails (the
//                                        test stopped reading)

#include <fmt/format.h>

#include <csignal>
#include <memory>
#include <string>
#include <string_view>

#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/util/child_side.h"

namespace {

using tiercache::Entry;
using tiercache::Status;
using tiercache::SystemClock;
using tiercache::storage::Namespace;
using tiercache::storage::RecordEncoder;
using tiercache::storage::Store;
using tiercache::storage::StoreOptions;
using tiercache::test_util::Fail;
using tiercache::test_util::HoldUntilStdinEnds;
using tiercache::test_util::Report;

constexpr int kBatchSize = 10;

Status AddEntry(const Namespace& ns, int number, RecordEncoder* encoder,
                tiercache::storage::StoreBatch* batch) {
  Entry entry;
  entry.key = fmt::format("k{:08}", number);
  entry.value = fmt::format("value {}", number);
  entry.created_at = entry.last_accessed = SystemClock().Now();
  entry.version = static_cast<std::uint64_t>(number) + 1;
  std::string record;
  Status s = encoder->Encode(entry, &record);
  if (s.ok()) s = batch->Put(ns, entry.key, record);
  return s;
}

int Write(Store& store) {
  Namespace ns;
  if (Status s = store.OpenNamespace("live", &ns); !s.ok()) return Fail(s);
  RecordEncoder encoder(tiercache::Compression::kNone, 256);
  for (int written = 0;;) {
    auto batch = store.NewBatch();
    for (int i = 0; i < kBatchSize; ++i, ++written) {
      if (Status s = AddEntry(ns, written, &encoder, &batch); !s.ok()) return Fail(s);
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
  if (mode == "hold") return HoldUntilStdinEnds();
  if (mode == "write") return Write(*store);
  return 2;
}
