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

TEST(OptionsTest, DefaultsWithAPathAreValid) { EXPECT_TRUE(Valid().Validate().ok()); }

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
  ExpectRejected([](Options& o) { o.write_buffer.max_entries = 0; },
                 "write_buffer.max_entries", "0");
}

TEST(OptionsTest, RejectsCapacitiesAboveTheirMaximum) {
  ExpectRejected([](Options& o) { o.l1_max_entries = (std::size_t{1} << 40) + 1; },
                 "l1_max_entries", "1099511627777");
  ExpectRejected([](Options& o) { o.l1_max_bytes = (std::size_t{1} << 50) + 1; },
                 "l1_max_bytes", "1125899906842625");
  ExpectRejected([](Options& o) { o.write_buffer.max_entries = 10'000'001; },
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
  ExpectRejected(
      [](Options& o) {
        o.l1_max_bytes = 64 * 1024 * 1024;
        o.write_buffer.max_bytes = 128 * 1024 * 1024;
      },
      "write_buffer.max_bytes", "memory budget");
}

TEST(OptionsTest, RejectsAWriteBufferTooSmallForTheLargestValue) {
  ExpectRejected(
      [](Options& o) {
        o.write_policy = WritePolicy::kWriteBehind;
        o.write_buffer.max_bytes = 1024;
      },
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
  ExpectRejected([](Options& o) { o.write_buffer.flush_interval = milliseconds(0); },
                 "write_buffer.flush_interval", "0ms");
  ExpectRejected(
      [](Options& o) { o.write_buffer.flush_interval = std::chrono::hours(2); },
      "write_buffer.flush_interval", "7200000ms");
}

TEST(OptionsTest, RejectsWriterWaitsOutOfRange) {
  ExpectRejected([](Options& o) { o.write_buffer.max_wait = milliseconds(-5); },
                 "write_buffer.max_wait", "-5ms");
  ExpectRejected([](Options& o) { o.write_buffer.max_wait = std::chrono::minutes(2); },
                 "write_buffer.max_wait", "120000ms");
}

}  // namespace
}  // namespace tiercache
