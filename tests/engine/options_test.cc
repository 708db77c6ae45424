#include "tiercache/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

namespace tiercache {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

Options Valid() {
  Options o;
  o.path = "/tmp/tiercache-options-test";
  return o;
}

// Applies `change` to valid options and expects Validate() to refuse them
// with a message that names `field` and `value`.
void ExpectRejected(const std::function<void(Options&)>& change, const std::string& field,
                    const std::string& value) {
  Options o = Valid();
  change(o);
  Status s = o.Validate();
  EXPECT_TRUE(s.IsInvalidArgument()) << field << ": " << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(field));
  EXPECT_THAT(s.message(), HasSubstr(value));
}

// As ExpectRejected, under write-behind: the only policy that uses the
// write buffer, and so the only one that checks it.
void ExpectBufferRejected(const std::function<void(Options&)>& change, const std::string& field,
                          const std::string& value) {
  ExpectRejected(
      [&](Options& o) {
        o.write_policy = WritePolicy::kWriteBehind;
        change(o);
      },
      field, value);
}

TEST(OptionsTest, DefaultsWithAPathAreValid) { EXPECT_TRUE(Valid().Validate().ok()); }

// A value cast from an integer that names none of its enum's choices.
TEST(OptionsTest, RejectsEnumValuesThatAreNoneOfTheChoices) {
  ExpectRejected([](Options& o) { o.write_policy = static_cast<WritePolicy>(42); },
                 "write_policy", "42");
  ExpectRejected([](Options& o) { o.read_policy = static_cast<ReadPolicy>(42); }, "read_policy",
                 "kReadThrough or kCacheAside");
  ExpectRejected([](Options& o) { o.eviction = static_cast<EvictionPolicy>(-1); }, "eviction",
                 "-1");
  ExpectRejected([](Options& o) { o.durability = static_cast<Durability>(2); }, "durability",
                 "kProcessCrash or kPowerLoss");
  ExpectRejected([](Options& o) { o.compression = static_cast<Compression>(9); }, "compression",
                 "kNone or kLz4");
}

// Write-through and write-around ignore the write buffer: a small L1 needs
// no buffer setting of its own. Write-behind's buffer must fit it.
TEST(OptionsTest, OnlyWriteBehindChecksTheWriteBuffer) {
  for (const WritePolicy policy : {WritePolicy::kWriteThrough, WritePolicy::kWriteAround}) {
    Options o = Valid();
    o.write_policy = policy;
    o.l1_max_bytes = 4 * 1024 * 1024;
    o.write_buffer.max_entries = 0;
    EXPECT_TRUE(o.Validate().ok()) << Name(policy) << ": " << o.Validate().ToString();
  }
  ExpectBufferRejected([](Options& o) { o.l1_max_bytes = 4 * 1024 * 1024; },
                       "write_buffer.max_bytes", "memory budget");
}

TEST(OptionsTest, EveryPolicyCombinationIsValid) {
  for (auto w : {WritePolicy::kWriteThrough, WritePolicy::kWriteBehind,
                 WritePolicy::kWriteAround}) {
    for (auto e : {EvictionPolicy::kLRU, EvictionPolicy::kLFU, EvictionPolicy::kFIFO,
                   EvictionPolicy::kTTL, EvictionPolicy::kAdaptive}) {
      Options o = Valid();
      o.write_policy = w;
      o.eviction = e;
      o.durability = Durability::kPowerLoss;
      o.compression = Compression::kLz4;
      EXPECT_TRUE(o.Validate().ok()) << Name(w) << " " << Name(e);
    }
  }
}

TEST(OptionsTest, RejectsEmptyPath) {
  ExpectRejected([](Options& o) { o.path.clear(); }, "path", "empty");
}

TEST(OptionsTest, RejectsZeroCapacities) {
  ExpectRejected([](Options& o) { o.l1_max_entries = 0; }, "l1_max_entries", "0");
  ExpectRejected([](Options& o) { o.l1_max_bytes = 0; }, "l1_max_bytes", "0");
  ExpectBufferRejected([](Options& o) { o.write_buffer.max_entries = 0; },
                       "write_buffer.max_entries", "0");
}

TEST(OptionsTest, RejectsCapacitiesAboveTheirMaximum) {
  ExpectRejected([](Options& o) { o.l1_max_entries = (std::size_t{1} << 40) + 1; },
                 "l1_max_entries", "1099511627777");
  ExpectRejected([](Options& o) { o.l1_max_bytes = (std::size_t{1} << 50) + 1; },
                 "l1_max_bytes", "1125899906842625");
  ExpectBufferRejected([](Options& o) { o.write_buffer.max_entries = 10'000'001; },
                       "write_buffer.max_entries", "10000001");
}

TEST(OptionsTest, RejectsShardCountsThatAreNotAPowerOfTwoInRange) {
  ExpectRejected([](Options& o) { o.l1_shards = 0; }, "l1_shards", "0");
  ExpectRejected([](Options& o) { o.l1_shards = 12; }, "l1_shards", "12");
  ExpectRejected([](Options& o) { o.l1_shards = 2048; }, "l1_shards", "2048");
}

TEST(OptionsTest, RejectsMoreShardsThanEntries) {
  ExpectRejected(
      [](Options& o) {
        o.l1_max_entries = 4;
        o.l1_shards = 8;
      },
      "l1_shards", "8");
}

TEST(OptionsTest, RejectsNegativeOrHugeDefaultTtl) {
  ExpectRejected([](Options& o) { o.default_ttl = milliseconds(-1); }, "default_ttl", "-1ms");
  ExpectRejected([](Options& o) { o.default_ttl = std::chrono::hours(24 * 365 * 101); },
                 "default_ttl", "ms");
}

TEST(OptionsTest, RejectsValueLimitsOutOfRange) {
  ExpectRejected([](Options& o) { o.max_value_bytes = 0; }, "max_value_bytes", "0");
  ExpectRejected([](Options& o) { o.max_value_bytes = kMaxValueBytes + 1; },
                 "max_value_bytes", "268435457");
  ExpectRejected([](Options& o) { o.compression_threshold = 0; }, "compression_threshold",
                 "0");
  ExpectRejected([](Options& o) { o.compression_threshold = o.max_value_bytes + 1; },
                 "compression_threshold", "16777217");
}

TEST(OptionsTest, RejectsReadThroughWithoutALoader) {
  ExpectRejected([](Options& o) { o.read_policy = ReadPolicy::kReadThrough; }, "loader",
                 "read-through");
}

TEST(OptionsTest, AcceptsReadThroughWithALoader) {
  Options o = Valid();
  o.read_policy = ReadPolicy::kReadThrough;
  o.loader = [](std::string_view, std::string_view, LoadedValue*) { return Status::OK(); };
  EXPECT_TRUE(o.Validate().ok());
}

TEST(OptionsTest, RejectsNegativeTtlOutOfRange) {
  ExpectRejected([](Options& o) { o.negative_ttl = milliseconds(-1); }, "negative_ttl", "-1ms");
  ExpectRejected([](Options& o) { o.negative_ttl = std::chrono::hours(25); }, "negative_ttl",
                 "90000000ms");
}

TEST(OptionsTest, RejectsLoadWaitTimeoutOutOfRange) {
  ExpectRejected([](Options& o) { o.load_wait_timeout = milliseconds(-1); }, "load_wait_timeout",
                 "-1ms");
  ExpectRejected([](Options& o) { o.load_wait_timeout = std::chrono::hours(25); },
                 "load_wait_timeout", "90000000ms");
}

TEST(OptionsTest, RejectsRefreshSettingsOutOfRange) {
  ExpectRejected([](Options& o) { o.refresh_after_write = milliseconds(-1); },
                 "refresh_after_write", "-1ms");
  ExpectRejected([](Options& o) { o.refresh_after_write = std::chrono::hours(24 * 366); },
                 "refresh_after_write", "31622400000ms");
  ExpectRejected([](Options& o) { o.refresh_threads = 0; }, "refresh_threads", "0");
  ExpectRejected([](Options& o) { o.refresh_threads = 65; }, "refresh_threads", "65");
}

TEST(OptionsTest, RefreshesOnlyUnderReadThrough) {
  ExpectRejected([](Options& o) { o.refresh_after_write = std::chrono::minutes(1); },
                 "refresh_after_write", "read-through");
  Options o = Valid();
  o.read_policy = ReadPolicy::kReadThrough;
  o.loader = [](std::string_view, std::string_view, LoadedValue*) { return Status::OK(); };
  o.refresh_after_write = std::chrono::minutes(1);
  EXPECT_TRUE(o.Validate().ok());
}

TEST(OptionsTest, RejectsFreeSpaceReserveOutOfRange) {
  ExpectRejected([](Options& o) { o.free_space_reserve = 1000; }, "free_space_reserve", "1000");
  ExpectRejected([](Options& o) { o.free_space_reserve = (std::uint64_t{1} << 40) + 1; },
                 "free_space_reserve", "1099511627777");
}

TEST(OptionsTest, RejectsACorruptRecordActionThatIsNoneOfTheTwo) {
  Options o = Valid();
  o.on_corrupt_record = CorruptRecordAction::kTreatAsMiss;
  EXPECT_TRUE(o.Validate().ok());
  ExpectRejected([](Options& o) { o.on_corrupt_record = static_cast<CorruptRecordAction>(7); },
                 "on_corrupt_record", "7");
}

TEST(OptionsTest, RejectsAWriteBufferLargerThanTheMemoryBudget) {
  ExpectBufferRejected(
      [](Options& o) {
        o.l1_max_bytes = 64 * 1024 * 1024;
        o.write_buffer.max_bytes = 128 * 1024 * 1024;
      },
      "write_buffer.max_bytes", "memory budget");
}

TEST(OptionsTest, RejectsAWriteBufferTooSmallForTheLargestValue) {
  ExpectBufferRejected([](Options& o) { o.write_buffer.max_bytes = 1024; },
                       "write_buffer.max_bytes", "max_value_bytes");
}

TEST(OptionsTest, AcceptsASmallWriteBufferWithSmallValues) {
  Options o = Valid();
  o.write_policy = WritePolicy::kWriteBehind;
  o.max_value_bytes = 1024;
  o.compression_threshold = 128;
  o.write_buffer.max_bytes = 4096;
  EXPECT_TRUE(o.Validate().ok()) << o.Validate().ToString();
}

TEST(OptionsTest, RejectsFlushIntervalsWriteBehindCannotUse) {
  ExpectBufferRejected([](Options& o) { o.write_buffer.flush_interval = milliseconds(0); },
                       "write_buffer.flush_interval", "0ms");
  ExpectBufferRejected([](Options& o) { o.write_buffer.flush_interval = std::chrono::hours(2); },
                       "write_buffer.flush_interval", "7200000ms");
}

TEST(OptionsTest, RejectsWriterWaitsOutOfRange) {
  ExpectBufferRejected([](Options& o) { o.write_buffer.max_wait = milliseconds(-5); },
                       "write_buffer.max_wait", "-5ms");
  ExpectBufferRejected([](Options& o) { o.write_buffer.max_wait = std::chrono::minutes(2); },
                       "write_buffer.max_wait", "120000ms");
}

}  // namespace
}  // namespace tiercache
