// Malformed records: every one must be Corruption naming its problem, never a
// crash, an exception or an allocation beyond the record's size.
#include <gtest/gtest.h>
#include <lz4.h>

#include "storage/record_format.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "tests/storage/allocation_tracker.h"

namespace tiercache::storage {
namespace {

// Room for a Status message and the like, whatever the record.
constexpr std::size_t kAllocationSlack = 1024;

// Builds payloads field by field, as the layout in record_format.h gives it.
class PayloadBuilder {
 public:
  template <typename T>
  PayloadBuilder& Put(T value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
    return *this;
  }
  PayloadBuilder& Bytes(std::string_view s) {
    Put(static_cast<std::uint32_t>(s.size()));
    bytes_.append(s);
    return *this;
  }
  PayloadBuilder& Raw(std::string_view s) {
    bytes_.append(s);
    return *this;
  }
  // Version, created_at, last_accessed and access_count.
  PayloadBuilder& FixedFields(std::uint8_t version = 1) {
    return Put(version).Put(std::int64_t{1}).Put(std::int64_t{2}).Put(std::uint64_t{3});
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// A record around `payload` with a checksum that matches: only the payload's
// own checks can refuse it.
std::string SealedRecord(const std::string& payload, std::uint8_t flags = kCodecNone) {
  std::string record("TCR\xc9\x01", 5);
  record += static_cast<char>(flags);
  record.append(2 + 8 + 8, '\0');
  const auto length = static_cast<std::uint32_t>(payload.size());
  record.append(reinterpret_cast<const char*>(&length), 4);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, record.data(), record.size());
  XXH3_64bits_update(&state, payload.data(), payload.size());
  const std::uint64_t checksum = XXH3_64bits_digest(&state);
  record.append(reinterpret_cast<const char*>(&checksum), 8);
  return record + payload;
}

// Decodes with a Corruption expected, and the largest allocation bounded;
// returns the message.
std::string DecodeCorrupt(const std::string& record, std::size_t allowed_allocation = 0) {
  Entry entry;
  std::size_t largest_allocation = 0;
  Status s;
  {
    AllocationTracker tracker;
    s = DecodeRecord(record, &entry);
    largest_allocation = tracker.largest();
  }
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_LE(largest_allocation, std::max(allowed_allocation, record.size() + kAllocationSlack));
  return s.message();
}

void ExpectCorruptionNaming(const std::string& record, const std::string& words) {
  const std::string message = DecodeCorrupt(record);
  EXPECT_NE(std::string::npos, message.find(words))
      << "expected \"" << words << "\" in \"" << message << "\"";
}

std::string ValidRecord(Compression compression) {
  Entry entry;
  entry.value = std::string(300, 'a') + "tail of a value that compresses";
  entry.expires_at = TimePoint(std::chrono::milliseconds(99));
  entry.version = 5;
  entry.metadata = {{"a", "1"}, {"b", "2"}};
  RecordEncoder encoder(compression, 1);
  std::string record;
  EXPECT_TRUE(encoder.Encode(entry, &record).ok());
  return record;
}

template <typename T>
std::string WithField(std::string record, std::size_t offset, T value) {
  std::memcpy(record.data() + offset, &value, sizeof(T));
  return record;
}

// The allocation bound below would pass vacuously if the tracker saw nothing.
TEST(MalformedRecordTest, AllocationTrackerSeesAllocations) {
  AllocationTracker tracker;
  const std::string big(5000, 'x');
  EXPECT_EQ('x', big.back());
  EXPECT_GE(tracker.largest(), big.size());
}

TEST(MalformedRecordTest, EveryTruncationIsCorruption) {
  for (const Compression c : {Compression::kNone, Compression::kLz4}) {
    const std::string record = ValidRecord(c);
    for (std::size_t size = 0; size < record.size(); ++size) {
      SCOPED_TRACE(size);
      DecodeCorrupt(record.substr(0, size));
      RecordHeader header;
      EXPECT_TRUE(ParseRecordHeader(record.substr(0, size), &header).IsCorruption());
    }
  }
}

TEST(MalformedRecordTest, EveryBitFlipIsCorruption) {
  for (const Compression c : {Compression::kNone, Compression::kLz4}) {
    const std::string record = ValidRecord(c);
    for (std::size_t bit = 0; bit < record.size() * 8; ++bit) {
      SCOPED_TRACE(bit);
      std::string flipped = record;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      DecodeCorrupt(flipped);
    }
  }
}

TEST(MalformedRecordTest, ShortRecordNamesTheHeaderSize) {
  ExpectCorruptionNaming("TCR", "3 bytes is shorter than the 36-byte header");
}

TEST(MalformedRecordTest, HugePayloadLengthIsCorruption) {
  const std::string record = WithField(ValidRecord(Compression::kNone), 24, UINT32_MAX);
  ExpectCorruptionNaming(record, "payload length 4294967295 exceeds the record's");
  RecordHeader header;
  EXPECT_TRUE(ParseRecordHeader(record, &header).IsCorruption());
}

TEST(MalformedRecordTest, ShortPayloadLengthIsCorruption) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 24, std::uint32_t{1}),
                         "unaccounted for");
}

TEST(MalformedRecordTest, WrongMagicIsCorruption) {
  ExpectCorruptionNaming("XXXX" + ValidRecord(Compression::kNone).substr(4),
                         "magic 58 58 58 58 is not a tiercache record's");
}

TEST(MalformedRecordTest, NewerFormatVersionIsNamed) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 4, std::uint8_t{2}),
                         "record format version 2 is newer than this tiercache (1)");
}

TEST(MalformedRecordTest, FormatVersionZeroIsCorruption) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 4, std::uint8_t{0}),
                         "format version 0");
}

TEST(MalformedRecordTest, ReservedFlagBitsAreCorruption) {
  for (int bit = 3; bit < 8; ++bit) {
    ExpectCorruptionNaming(
        WithField(ValidRecord(Compression::kNone), 5, static_cast<std::uint8_t>(1 << bit)),
        "reserved bits set in flags");
  }
}

TEST(MalformedRecordTest, UnknownCodecIsCorruption) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 5, std::uint8_t{2}),
                         "unknown value codec 2");
}

TEST(MalformedRecordTest, ReservedHeaderBytesAreCorruption) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 6, std::uint16_t{1}),
                         "reserved header bytes");
}

TEST(MalformedRecordTest, ExpiryWithoutItsFlagIsCorruption) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 5, std::uint8_t{0}),
                         "has-expiry flag is clear");
}

TEST(MalformedRecordTest, ChecksumMismatchIsNamed) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 28, std::uint64_t{42}),
                         "checksum 0x000000000000002a does not match");
}

TEST(MalformedRecordTest, SealedValidPayloadDecodes) {
  PayloadBuilder payload;
  payload.FixedFields().Bytes("value").Put(std::uint32_t{1}).Bytes("k").Bytes("v");
  Entry entry;
  ASSERT_TRUE(DecodeRecord(SealedRecord(payload.bytes()), &entry).ok());
  EXPECT_EQ("value", entry.value);
  EXPECT_EQ(1u, entry.metadata.size());
}

TEST(MalformedRecordTest, NewerPayloadVersionIsNamed) {
  PayloadBuilder payload;
  payload.FixedFields(3).Bytes("value").Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes()),
                         "record payload version 3 is newer than this tiercache (2)");
}

TEST(MalformedRecordTest, UnknownPresentFieldBitsAreCorruption) {
  PayloadBuilder payload;
  payload.Put(std::uint8_t{2}).Put(std::uint8_t{0x04}).Put(std::int64_t{1}).Bytes("value");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "present-fields byte 0x04");
}

// Version 2 leaves out the access data and the metadata count: a payload that
// then still carries them has bytes after its last field.
TEST(MalformedRecordTest, FieldsThePresentByteLeavesOutAreTrailingBytes) {
  PayloadBuilder payload;
  payload.Put(std::uint8_t{2}).Put(std::uint8_t{0}).Put(std::int64_t{1}).Bytes("value");
  payload.Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "4 bytes follow the payload's last field");
}

TEST(MalformedRecordTest, PayloadVersionZeroIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields(0).Bytes("value").Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "payload version 0");
}

TEST(MalformedRecordTest, PayloadCutInsideAFieldIsNamed) {
  PayloadBuilder payload;
  payload.Put(std::uint8_t{1}).Put(std::int64_t{1}).Put(std::uint32_t{7});
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "payload ends inside last_accessed");
}

TEST(MalformedRecordTest, HugeValueLengthIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields().Put(UINT32_MAX).Raw("abc");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()),
                         "value length 4294967295 exceeds the 3 payload bytes left");
}

TEST(MalformedRecordTest, HugeMetadataCountIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields().Bytes("v").Put(UINT32_MAX).Bytes("k").Bytes("v");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "metadata count 4294967295 needs more");
}

TEST(MalformedRecordTest, HugeMetadataKeyLengthIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields()
      .Bytes("v")
      .Put(std::uint32_t{1})
      .Put(std::uint32_t{0x7fffffff})
      .Raw("12345678");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()),
                         "metadata key length 2147483647 exceeds the 8 payload bytes left");
}

TEST(MalformedRecordTest, HugeMetadataValueLengthIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields().Bytes("v").Put(std::uint32_t{1}).Bytes("k").Put(UINT32_MAX);
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "metadata value length 4294967295");
}

TEST(MalformedRecordTest, RepeatedMetadataKeyIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields()
      .Bytes("v")
      .Put(std::uint32_t{2})
      .Bytes("k")
      .Bytes("1")
      .Bytes("k")
      .Bytes("2");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "metadata key \"k\" is out of order");
}

TEST(MalformedRecordTest, BytesAfterTheLastFieldAreCorruption) {
  PayloadBuilder payload;
  payload.FixedFields().Bytes("v").Put(std::uint32_t{0}).Raw("junk");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "4 bytes follow the payload's last field");
}

TEST(MalformedRecordTest, Lz4GarbageWithValidChecksumIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields()
      .Put(std::uint32_t{100})
      .Bytes("\xff\xff\xff\xff garbage")
      .Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes(), kCodecLz4), "is not valid lz4");
}

std::string Compressed(const std::string& value) {
  std::string out(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(value.size()))),
                  '\0');
  out.resize(static_cast<std::size_t>(LZ4_compress_default(
      value.data(), out.data(), static_cast<int>(value.size()), static_cast<int>(out.size()))));
  return out;
}

TEST(MalformedRecordTest, UncompressedLengthTooLongIsCorruption) {
  const std::string value(1000, 'x');
  PayloadBuilder payload;
  payload.FixedFields().Put(std::uint32_t{1001}).Bytes(Compressed(value)).Put(std::uint32_t{0});
  const std::string message = DecodeCorrupt(SealedRecord(payload.bytes(), kCodecLz4), 1001);
  EXPECT_NE(std::string::npos, message.find("decompresses to 1000 bytes, not its stated 1001"))
      << message;
}

TEST(MalformedRecordTest, UncompressedLengthTooShortIsCorruption) {
  const std::string value(1000, 'x');
  PayloadBuilder payload;
  payload.FixedFields().Put(std::uint32_t{999}).Bytes(Compressed(value)).Put(std::uint32_t{0});
  const std::string message = DecodeCorrupt(SealedRecord(payload.bytes(), kCodecLz4), 999);
  EXPECT_NE(std::string::npos, message.find("not valid lz4")) << message;
}

TEST(MalformedRecordTest, UncompressedLengthBeyondLz4RatioIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields().Put(std::uint32_t{256 * 10}).Bytes("0123456789").Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes(), kCodecLz4),
                         "uncompressed value length 2560 is more than 255 times its 10");
}

TEST(MalformedRecordTest, UncompressedLengthAboveTheMaximumIsCorruption) {
  PayloadBuilder payload;
  payload.FixedFields().Put(UINT32_MAX).Bytes("0123456789").Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes(), kCodecLz4),
                         "uncompressed value length 4294967295 exceeds the maximum");
}

}  // namespace
}  // namespace tiercache::storage
