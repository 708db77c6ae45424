// Allocations the system refuses, in the storage layer's own code: the guard
// at its edge, the record codec and the write batch. Each call runs with its
// n-th allocation failing, for n = 0, 1, ... until it makes no more, once
// with that allocation failing alone and once with every one from it on
// failing (so that the error's own message finds no memory either): nothing
// throws, the answer is OK or NoSpace, and what was built stays whole.
// RocksDB's own calls are left out: it is not written to survive an exception
// thrown through it (tests/engine/out_of_memory_test.cc says more).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "storage/guarded.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/util/allocation_sweep.h"
#include "tests/util/failing_new.h"
#include "tests/util/temp_dir.h"

namespace tiercache::storage {
namespace {

using test_util::Failing;

TEST(GuardedTest, AnExceptionBecomesAStatusNamingTheOperationAndTheStore) {
  const std::string path = "/some/store";
  Status s = Guarded("Get", path, []() -> Status { throw std::bad_alloc(); });
  EXPECT_TRUE(s.IsNoSpace());
  EXPECT_EQ(s.message(), "Get on the store at /some/store failed: out of memory");
  s = Guarded("Put", path, []() -> Status { throw std::runtime_error("the disk went away"); });
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "Put on the store at /some/store failed: the disk went away");
  s = Guarded("Delete", path, []() -> Status { throw 7; });
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "Delete on the store at /some/store failed: unknown exception");
}

// With no memory left for the message, the answer is the short one that needs
// none, and the process goes on.
TEST(GuardedTest, WithNoMemoryForItsMessageAnExceptionIsOutOfMemory) {
  const std::string path = "/some/store/with/a/path/too/long/for/a/string's/own/storage";
  const std::runtime_error failure("a message far too long to fit a string's own storage");
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    test_util::FailAllocation(0, Failing::kFromThenOn);
    const Status s = Guarded("Get", path, [&]() -> Status {
      if (kind == 0) throw std::bad_alloc();
      if (kind == 1) throw failure;
      throw kind;
    });
    test_util::FailAllocation(-1);
    EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
    EXPECT_EQ(s.message(), "out of memory");
  }
}

Entry MakeEntry() {
  Entry entry;
  entry.value.assign(400, 'v');  // past the compression threshold; lz4 shrinks it
  entry.version = 7;
  entry.metadata = {{"owner", "a name longer than a string's own storage"}, {"tag", "t"}};
  return entry;
}

TEST(RecordOutOfMemoryTest, EncodingAndDecoding) {
  for (const Compression compression : {Compression::kNone, Compression::kLz4}) {
    SCOPED_TRACE(compression == Compression::kNone ? "none" : "lz4");
    const Entry entry = MakeEntry();
    RecordEncoder encoder(compression, /*compression_threshold=*/64);
    std::string expected;
    ASSERT_TRUE(encoder.Encode(entry, &expected, nullptr).ok());

    std::string record;
    test_util::SweepAllocations(
        test_util::NothingToPrepare,
        [&](long) {
          record.clear();
          record.shrink_to_fit();  // so that the encoding allocates every time
          return encoder.Encode(entry, &record, nullptr);
        },
        [&](long, const Status& s) {
          if (s.ok()) {
            EXPECT_EQ(record, expected);
          }
        });

    Entry decoded;
    test_util::SweepAllocations(
        test_util::NothingToPrepare,
        [&](long) {
          decoded = Entry();
          return DecodeRecord(expected, &decoded, nullptr);
        },
        [&](long, const Status& s) {
          if (!s.ok()) return;
          EXPECT_EQ(decoded.value, entry.value);
          EXPECT_EQ(decoded.version, entry.version);
          EXPECT_EQ(decoded.metadata, entry.metadata);
        });
  }
}

// A write the batch refused leaves it as it was; one it took is in it (and
// its namespace noted, for Store::Write to check that it is still live).
TEST(StoreBatchOutOfMemoryTest, AWriteIsInTheBatchExactlyWhenItSaysSo) {
  test_util::TempDir dir;
  StoreOptions options;
  options.path = dir.path();
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(options, &store).ok());
  Namespace a;
  Namespace b;
  ASSERT_TRUE(store->OpenNamespace("a", &a).ok());
  ASSERT_TRUE(store->OpenNamespace("b", &b).ok());

  StoreBatch batch = store->NewBatch();
  // Writes i = 0, 1, ...: key i, in namespace a when i is even, else b (so
  // that every write notes its namespace); a Delete when i % 3 == 2.
  const auto in = [&](std::size_t i) -> const Namespace& { return i % 2 == 0 ? a : b; };
  const auto put = [](std::size_t i) { return i % 3 != 2; };
  const std::string record(100, 'r');
  std::vector<std::size_t> taken;
  taken.reserve(2 * test_util::kMostAllocations);  // noted while allocations fail
  std::size_t calls = 0;
  test_util::SweepAllocations(
      test_util::NothingToPrepare,
      [&](long) {
        const std::size_t i = calls++;
        const std::string key = "key " + std::to_string(i);  // short: no allocation
        const Status s = put(i) ? batch.Put(in(i), key, record) : batch.Delete(in(i), key);
        if (s.ok()) taken.push_back(i);
        return s;
      },
      [&](long, const Status&) { EXPECT_EQ(batch.Count(), taken.size()); });

  ASSERT_TRUE(store->Write(&batch).ok());
  for (const std::size_t i : taken) {
    std::string got;
    const Status s = store->Get(in(i), "key " + std::to_string(i), &got);
    EXPECT_EQ(s.ok(), put(i)) << i << ": " << s.ToString();
  }
}

}  // namespace
}  // namespace tiercache::storage
