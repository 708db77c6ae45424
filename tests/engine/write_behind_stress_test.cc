// Write-behind's buffer under many threads at once, against a store stand-in
// that refuses every few batches: writers Add and Flush, readers Find, the
// flusher retries. Nothing here reaches RocksDB, so the engine suite runs it
// under ThreadSanitizer too.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/write_behind.h"
#include "tests/util/run_mode.h"

namespace tiercache::engine {
namespace {

using std::chrono::milliseconds;

constexpr int kWriters = 4;
constexpr int kReaders = 2;
constexpr int kKeysPerWriter = 24;
constexpr int kFailEvery = 4;  // the store refuses every fourth batch
constexpr auto kDeadline = std::chrono::seconds(60);

int OpsPerWriter() { return test_util::Rounds(1500); }

// A key's state: a version, or nullopt for deleted (or never written).
using KeyState = std::optional<std::uint64_t>;

std::string KeyOf(int writer, int index) {
  return "w" + std::to_string(writer) + "-k" + std::to_string(index);
}

// The record a version of a key carries (the buffer does not look inside
// records): it names both, so that a write of one key served for another, or
// a torn one, shows.
std::string RecordOf(std::string_view key, std::uint64_t version, std::size_t padding) {
  return std::string(key) + "#" + std::to_string(version) + "#" + std::string(padding, 'v');
}

// The version a record of `key` names; nullopt when it is not one of key's.
std::optional<std::uint64_t> VersionIn(std::string_view key, std::string_view record) {
  const std::string head = std::string(key) + "#";
  if (!record.starts_with(head)) return std::nullopt;
  const std::size_t end = record.find('#', head.size());
  if (end == std::string::npos || end == head.size()) return std::nullopt;
  if (record.find_first_not_of('v', end + 1) != std::string::npos) return std::nullopt;
  return std::stoull(std::string(record.substr(head.size(), end - head.size())));
}

// The store stand-in: applies a batch, but every kFailEvery-th call only a
// part of it (the first writes, as many as `taken` picks) before it fails.
class FakeStore {
 public:
  Status Write(std::vector<BufferedWrite>* batch, std::size_t* written,
               std::uint64_t taken) {
    std::lock_guard lock(mu_);
    Status s;
    *written = batch->size();
    if (++calls_ % kFailEvery == 0) {
      *written = taken % (batch->size() + 1);
      s = Status::IOError("injected failure");
    }
    taken_ += *written;
    for (std::size_t i = 0; i < *written; ++i) {
      const BufferedWrite& write = (*batch)[i];
      const std::optional<std::uint64_t> version = VersionIn(write.key, write.record);
      if (write.is_delete) {
        data_.erase(std::string(write.key));
      } else if (!version) {
        ++malformed_;
      } else {
        KeyState& state = data_[std::string(write.key)];
        if (state && *state > *version) ++backwards_;
        state = *version;
      }
    }
    return s;
  }

  KeyState Get(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = data_.find(key);
    return it == data_.end() ? KeyState() : it->second;
  }

  std::uint64_t calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::uint64_t taken() const {
    std::lock_guard lock(mu_);
    return taken_;
  }
  std::uint64_t backwards() const {
    std::lock_guard lock(mu_);
    return backwards_;
  }
  std::uint64_t malformed() const {
    std::lock_guard lock(mu_);
    return malformed_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, KeyState> data_;  // GUARDED_BY(mu_)
  std::uint64_t calls_ = 0;               // GUARDED_BY(mu_)
  std::uint64_t taken_ = 0;               // GUARDED_BY(mu_): writes the store holds
  std::uint64_t backwards_ = 0;           // GUARDED_BY(mu_): a key's version went back
  std::uint64_t malformed_ = 0;           // GUARDED_BY(mu_): a value not of its version
};

class WriteBehindStressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = test_util::SeedFromEnvironment();
    std::cout << "seed " << seed_ << " (TIERCACHE_SEED=" << seed_ << " replays it)\n";
    flusher_rng_.seed(seed_ * 7);
    WriteBufferOptions options;
    options.max_entries = 16;
    options.max_bytes = 8 * 1024;
    options.flush_interval = milliseconds(20);
    options.max_wait = milliseconds(20);
    buffer_ = std::make_unique<WriteBehind>(
        options, clock_,
        [this](auto* batch, std::size_t* written) {
          return store_.Write(batch, written, flusher_rng_());
        },
        [this](const Status&, std::size_t, std::uint64_t) {
          failed_.fetch_add(1, std::memory_order_relaxed);
        });
  }

  void Writer(int writer);
  void Reader(int reader);
  // The writer's own check after a Flush returned OK: the store holds the
  // latest write of each of its keys.
  void ExpectStoreHolds(const std::vector<KeyState>& latest, int writer);
  // Find right after writing: the latest write, or nothing once it is flushed.
  void ExpectFindSees(const std::string& key, const KeyState& latest);

  std::uint64_t seed_ = 0;
  std::mt19937_64 flusher_rng_;  // the flusher thread's: how much a failing write takes
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  FakeStore store_;
  std::unique_ptr<WriteBehind> buffer_;
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> busy_{0};
  std::atomic<std::uint64_t> flushes_checked_{0};
  std::atomic<bool> writers_done_{false};
  std::vector<std::vector<KeyState>> final_;  // per writer, set when it ends
  std::mutex final_mu_;
};

void WriteBehindStressTest::ExpectStoreHolds(const std::vector<KeyState>& latest, int writer) {
  for (int i = 0; i < kKeysPerWriter; ++i) {
    const std::string key = KeyOf(writer, i);
    EXPECT_EQ(store_.Get(key), latest[i]) << key << " after a Flush returned OK";
  }
  flushes_checked_.fetch_add(1, std::memory_order_relaxed);
}

void WriteBehindStressTest::ExpectFindSees(const std::string& key, const KeyState& latest) {
  std::string record;
  switch (buffer_->Find(1, key, &record)) {
    case WriteBehind::Found::kNo:
      EXPECT_EQ(store_.Get(key), latest) << key << ": neither buffered nor in the store";
      break;
    case WriteBehind::Found::kDelete:
      EXPECT_FALSE(latest.has_value()) << key << ": Find sees a deletion, not the latest put";
      break;
    case WriteBehind::Found::kPut:
      EXPECT_TRUE(latest.has_value() && VersionIn(key, record) == latest)
          << key << ": Find sees " << record.substr(0, 40);
      break;
  }
}

void WriteBehindStressTest::Writer(int writer) {
  std::mt19937_64 rng(seed_ + static_cast<std::uint64_t>(writer));
  std::vector<KeyState> latest(kKeysPerWriter);
  std::uint64_t version = 0;
  for (int op = 0; op < OpsPerWriter() && !HasFailure(); ++op) {
    const int index = static_cast<int>(rng() % kKeysPerWriter);
    const std::string key = KeyOf(writer, index);
    BufferedWrite write;
    write.ns = 1;
    write.key = key;
    write.is_delete = rng() % 6 == 0;
    std::string record;
    if (!write.is_delete) record = RecordOf(key, ++version, rng() % 600);
    write.record = record;
    TimePoint now = clock_->Now();
    const Status s = buffer_->Add(write, &now);
    if (s.IsBusy()) {
      busy_.fetch_add(1, std::memory_order_relaxed);
    } else {
      ASSERT_TRUE(s.ok()) << s.ToString();
      latest[index] = write.is_delete ? KeyState() : KeyState(version);
      ExpectFindSees(key, latest[index]);
    }
    if (rng() % 8 == 0) clock_->Advance(milliseconds(5));
    if (rng() % 64 == 0) {
      ASSERT_TRUE(buffer_->Flush(kDeadline).ok());
      ExpectStoreHolds(latest, writer);
    }
  }
  std::lock_guard lock(final_mu_);
  final_[writer] = latest;
}

// Readers look up keys of every writer while they write: whatever Find
// returns must be a whole write of that key.
void WriteBehindStressTest::Reader(int reader) {
  std::mt19937_64 rng(seed_ * 31 + static_cast<std::uint64_t>(reader));
  while (!writers_done_.load(std::memory_order_acquire)) {
    const std::string key =
        KeyOf(static_cast<int>(rng() % kWriters), static_cast<int>(rng() % kKeysPerWriter));
    std::string record;
    if (buffer_->Find(1, key, &record) == WriteBehind::Found::kPut) {
      EXPECT_TRUE(VersionIn(key, record).has_value()) << key << ": " << record.substr(0, 40);
    }
    if (rng() % 16 == 0) buffer_->GetStats();
  }
}

TEST_F(WriteBehindStressTest, EveryFlushedWriteReachesTheStoreWhileBatchesFail) {
  final_.resize(kWriters);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back([this, r] { Reader(r); });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) writers.emplace_back([this, w] { Writer(w); });
  for (std::thread& t : writers) t.join();
  writers_done_.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  ASSERT_FALSE(HasFailure());

  std::vector<BufferedWrite> unwritten;
  ASSERT_TRUE(buffer_->Close(kDeadline, &unwritten).ok());
  EXPECT_TRUE(unwritten.empty());
  for (int w = 0; w < kWriters; ++w) ExpectStoreHolds(final_[w], w);
  EXPECT_EQ(store_.backwards(), 0u);
  EXPECT_EQ(store_.malformed(), 0u);
  BufferedWrite late;
  late.key = "late";
  TimePoint now = clock_->Now();
  EXPECT_TRUE(buffer_->Add(late, &now).IsInvalidArgument());

  const WriteBehind::Stats stats = buffer_->GetStats();
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_GT(stats.failures, 0u);
  EXPECT_EQ(stats.failures, failed_.load());
  EXPECT_EQ(stats.flushes + stats.failures, store_.calls());
  EXPECT_EQ(stats.refused, busy_.load());
  EXPECT_GT(store_.taken(), 0u);
  EXPECT_GT(flushes_checked_.load(), 0u);
  std::cout << stats.flushes << " batches written, " << stats.failures << " refused by the store, "
            << store_.taken() << " writes flushed, " << busy_.load() << " Adds refused as Busy, "
            << flushes_checked_.load() << " Flushes checked\n";
}

}  // namespace
}  // namespace tiercache::engine
