#include "storage/expiry_filter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "storage/record_format.h"
#include "storage/store.h"
#include "tests/util/temp_dir.h"
#include "tiercache/entry.h"

namespace tiercache::storage {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

class ExpiryFilterTest : public ::testing::Test {
 protected:
  // A record that expires at `expires_at` (never, when nullopt).
  std::string Record(std::optional<TimePoint> expires_at) {
    Entry entry;
    entry.value = "value";
    entry.created_at = clock_->Now();
    entry.expires_at = expires_at;
    entry.version = 1;
    std::string record;
    EXPECT_TRUE(encoder_.Encode(entry, &record).ok());
    return record;
  }

  bool Drops(const rocksdb::CompactionFilter& filter, const std::string& record) {
    std::string new_value;
    bool changed = false;
    return filter.Filter(0, "key", record, &new_value, &changed);
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  RecordEncoder encoder_{Compression::kNone, 256};
};

TEST_F(ExpiryFilterTest, DropsRecordsExpiredAtOrBeforeNow) {
  const auto filter = NewExpiryFilter(clock_);
  EXPECT_TRUE(Drops(*filter, Record(clock_->Now() - milliseconds(1))));
  EXPECT_TRUE(Drops(*filter, Record(clock_->Now())));
  EXPECT_FALSE(Drops(*filter, Record(clock_->Now() + milliseconds(1))));
}

TEST_F(ExpiryFilterTest, KeepsRecordsWithoutExpiry) {
  EXPECT_FALSE(Drops(*NewExpiryFilter(clock_), Record(std::nullopt)));
}

TEST_F(ExpiryFilterTest, KeepsDamagedRecords) {
  const auto filter = NewExpiryFilter(clock_);
  EXPECT_FALSE(Drops(*filter, "not a record"));
  EXPECT_FALSE(Drops(*filter, ""));
  const std::string expired = Record(clock_->Now() - hours(1));
  std::string truncated = expired;
  truncated.resize(truncated.size() - 1);
  EXPECT_FALSE(Drops(*filter, truncated));
  std::string flipped = expired;
  flipped[flipped.size() - 5] ^= 0x01;  // the value's last byte: the header still parses
  EXPECT_FALSE(Drops(*filter, flipped));
  EXPECT_TRUE(Drops(*filter, expired));
}

TEST_F(ExpiryFilterTest, CompactionRemovesExpiredRecordsFromTheStore) {
  test_util::TempDir dir;
  StoreOptions options;
  options.path = dir.Sub("store");
  options.clock = clock_;
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(options, &store).ok());
  Namespace ns;
  ASSERT_TRUE(store->OpenNamespace("a", &ns).ok());
  const TimePoint now = clock_->Now();
  ASSERT_TRUE(store->Put(ns, "expired", Record(now - hours(1))).ok());
  ASSERT_TRUE(store->Put(ns, "later", Record(now + hours(1))).ok());
  ASSERT_TRUE(store->Put(ns, "forever", Record(std::nullopt)).ok());
  ASSERT_TRUE(store->Put(ns, "garbage", "not a record").ok());

  auto keys = [&] {
    std::vector<std::string> out;
    EXPECT_TRUE(store
                    ->ForEach(ns, "",
                              [&](std::string_view key, std::string_view) {
                                out.emplace_back(key);
                                return true;
                              })
                    .ok());
    return out;
  };
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_EQ(keys(), (std::vector<std::string>{"forever", "garbage", "later"}));

  clock_->Advance(hours(2));
  ASSERT_TRUE(store->Compact().ok());
  EXPECT_EQ(keys(), (std::vector<std::string>{"forever", "garbage"}));
}

}  // namespace
}  // namespace tiercache::storage
