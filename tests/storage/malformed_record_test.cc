// Malformed records: every one must be Corruption naming its problem, never a
// crash, an exception or an allocation beyond the record's size.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <lz4.h>

#include "storage/record_format.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "tests/storage/allocation_tracker.h"
#include "tests/util/record_seal.h"

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
  std::string record("T\xc9\x02", 3);
  record += static_cast<char>(flags);
  record.append(8, '\0');  // version
  if ((flags & kFlagHasExpiry) != 0) record.append(8, '\0');
  record += payload;
  return test_util::Resealed(record.append(4, '\0'));
}

// The same in format 1, which stores still hold.
std::string SealedFormatOneRecord(const std::string& payload, std::uint8_t flags = kCodecNone) {
  std::string header("TCR\xc9\x01", 5);
  header += static_cast<char>(flags);
  header.append(2, '\0');
  const std::int64_t expires_at = (flags & kFlagHasExpiry) != 0 ? 99 : 0;
  header.append(reinterpret_cast<const char*>(&expires_at), 8);
  header.append(8, '\0');  // version
  return test_util::FormatOneRecord(header, payload);
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

// A valid record of format 1, with an expiry and metadata.
std::string ValidFormatOneRecord() {
  PayloadBuilder payload;
  payload.FixedFields().Bytes("value").Put(std::uint32_t{1}).Bytes("k").Bytes("v");
  return SealedFormatOneRecord(payload.bytes(), kFlagHasExpiry);
}

// Where format 2's checksum starts.
std::size_t ChecksumOffset(const std::string& record) { return record.size() - 4; }

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

// The header alone, parsed without the checksum, finds a cut inside the header
// and checksum; format 1's, which holds the payload's length, any cut.
TEST(MalformedRecordTest, EveryTruncationIsCorruption) {
  constexpr std::size_t kHeaderAndChecksum = 24;  // with an expiry, as ValidRecord's has
  for (const std::string& record : {ValidRecord(Compression::kNone),
                                    ValidRecord(Compression::kLz4), ValidFormatOneRecord()}) {
    const bool format_one = record.starts_with("TCR");
    for (std::size_t size = 0; size < record.size(); ++size) {
      SCOPED_TRACE(size);
      DecodeCorrupt(record.substr(0, size));
      RecordHeader header;
      if (format_one || size < kHeaderAndChecksum) {
        EXPECT_TRUE(ParseRecordHeader(record.substr(0, size), &header).IsCorruption());
      }
    }
  }
}

TEST(MalformedRecordTest, EveryBitFlipIsCorruption) {
  for (const std::string& record : {ValidRecord(Compression::kNone),
                                    ValidRecord(Compression::kLz4), ValidFormatOneRecord()}) {
    for (std::size_t bit = 0; bit < record.size() * 8; ++bit) {
      SCOPED_TRACE(bit);
      std::string flipped = record;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      DecodeCorrupt(flipped);
    }
  }
}

TEST(MalformedRecordTest, ShortRecordNamesTheSizeItNeeds) {
  ExpectCorruptionNaming("T", "1 bytes is shorter than the 2-byte magic");
  ExpectCorruptionNaming(std::string("T\xc9\x02\x00", 4),
                         "4 bytes is shorter than the 16-byte header and checksum");
  ExpectCorruptionNaming(std::string("T\xc9\x02\x04", 4) + std::string(16, '\0'),
                         "20 bytes is shorter than the 24-byte header with an expiry and checksum");
  ExpectCorruptionNaming("TCR", "3 bytes is shorter than the 4-byte magic of format 1");
  ExpectCorruptionNaming("TCR\xc9\x01", "5 bytes is shorter than the 36-byte header");
}

TEST(MalformedRecordTest, WrongMagicIsCorruption) {
  ExpectCorruptionNaming("XX" + ValidRecord(Compression::kNone).substr(2),
                         "magic 58 58 02 04 is not a tiercache record's "
                         "(54 c9; format 1: 54 43 52 c9)");
  ExpectCorruptionNaming("TCX" + ValidFormatOneRecord().substr(3), "magic 54 43 58 c9 is not");
  ExpectCorruptionNaming("TCX", "magic 54 43 58 is not");
}

TEST(MalformedRecordTest, NewerFormatVersionIsNamed) {
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 2, std::uint8_t{3}),
                         "record format version 3 is newer than this tiercache (2)");
}

TEST(MalformedRecordTest, AnOlderFormatVersionUnderTheNewMagicIsCorruption) {
  for (const std::uint8_t version : {0, 1}) {
    ExpectCorruptionNaming(
        WithField(ValidRecord(Compression::kNone), 2, version),
        fmt::format("format version {} under format 2's magic (54 c9) is not valid", version));
  }
}

TEST(MalformedRecordTest, AnyOtherFormatVersionUnderTheOldMagicIsCorruption) {
  for (const std::uint8_t version : {0, 2, 3}) {
    ExpectCorruptionNaming(
        WithField(ValidFormatOneRecord(), 4, version),
        fmt::format("format version {} under format 1's magic (54 43 52 c9) is not valid",
                    version));
  }
}

TEST(MalformedRecordTest, ReservedFlagBitsAreCorruption) {
  for (int bit = 3; bit < 8; ++bit) {
    const auto flags = static_cast<std::uint8_t>(kFlagHasExpiry | (1 << bit));
    ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 3, flags),
                           "reserved bits set in flags");
    ExpectCorruptionNaming(WithField(ValidFormatOneRecord(), 5, flags),
                           "reserved bits set in flags");
  }
}

TEST(MalformedRecordTest, UnknownCodecIsCorruption) {
  const auto flags = static_cast<std::uint8_t>(kFlagHasExpiry | 2);
  ExpectCorruptionNaming(WithField(ValidRecord(Compression::kNone), 3, flags),
                         "unknown value codec 2");
  ExpectCorruptionNaming(WithField(ValidFormatOneRecord(), 5, flags), "unknown value codec 2");
}

TEST(MalformedRecordTest, ChecksumMismatchIsNamed) {
  const std::string record = ValidRecord(Compression::kNone);
  ExpectCorruptionNaming(WithField(record, ChecksumOffset(record), std::uint32_t{42}),
                         "checksum 0x0000002a does not match");
  ExpectCorruptionNaming(WithField(ValidFormatOneRecord(), 28, std::uint64_t{42}),
                         "checksum 0x000000000000002a does not match");
}

// Format 1's header alone: what format 2 no longer has.

TEST(MalformedRecordTest, FormatOneHugePayloadLengthIsCorruption) {
  const std::string record = WithField(ValidFormatOneRecord(), 24, UINT32_MAX);
  ExpectCorruptionNaming(record, "payload length 4294967295 exceeds the record's");
  RecordHeader header;
  EXPECT_TRUE(ParseRecordHeader(record, &header).IsCorruption());
}

TEST(MalformedRecordTest, FormatOneShortPayloadLengthIsCorruption) {
  ExpectCorruptionNaming(WithField(ValidFormatOneRecord(), 24, std::uint32_t{1}),
                         "unaccounted for");
}

TEST(MalformedRecordTest, FormatOneReservedHeaderBytesAreCorruption) {
  ExpectCorruptionNaming(WithField(ValidFormatOneRecord(), 6, std::uint16_t{1}),
                         "reserved header bytes");
}

TEST(MalformedRecordTest, FormatOneExpiryWithoutItsFlagIsCorruption) {
  ExpectCorruptionNaming(WithField(ValidFormatOneRecord(), 5, std::uint8_t{0}),
                         "has-expiry flag is clear");
}

TEST(MalformedRecordTest, SealedValidPayloadDecodes) {
  PayloadBuilder payload;
  payload.FixedFields().Bytes("value").Put(std::uint32_t{1}).Bytes("k").Bytes("v");
  for (const std::string& record :
       {SealedRecord(payload.bytes()), SealedRecord(payload.bytes(), kFlagHasExpiry),
        SealedFormatOneRecord(payload.bytes()), ValidFormatOneRecord()}) {
    Entry entry;
    const Status s = DecodeRecord(record, &entry);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ("value", entry.value);
    EXPECT_EQ(1u, entry.metadata.size());
  }
}

TEST(MalformedRecordTest, NewerPayloadVersionIsNamed) {
  PayloadBuilder payload;
  payload.FixedFields(4).Bytes("value").Put(std::uint32_t{0});
  ExpectCorruptionNaming(SealedRecord(payload.bytes()),
                         "record payload version 4 is newer than this tiercache (3)");
}

// Version 3 writes no length before a value that ends the payload: whatever
// follows the fields before it is the value, checked as a length would be.
TEST(MalformedRecordTest, AValueEndingThePayloadTakesEveryByteLeft) {
  PayloadBuilder payload;
  const std::string_view looks_like_a_length("\x05\x00\x00\x00value", 9);
  payload.Put(std::uint8_t{3}).Put(std::uint8_t{0}).Put(std::int64_t{1}).Raw(looks_like_a_length);
  Entry entry;
  const Status s = DecodeRecord(SealedRecord(payload.bytes()), &entry);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(entry.value, looks_like_a_length);

  PayloadBuilder lz4;
  lz4.Put(std::uint8_t{3}).Put(std::uint8_t{0}).Put(std::int64_t{1});
  lz4.Put(std::uint32_t{256 * 10}).Raw("0123456789");
  ExpectCorruptionNaming(SealedRecord(lz4.bytes(), kCodecLz4),
                         "uncompressed value length 2560 is more than 255 times its 10");
}

// With metadata after it, version 3 gives the value's length as version 2 did.
TEST(MalformedRecordTest, AValueBeforeMetadataKeepsItsLength) {
  PayloadBuilder payload;
  payload.Put(std::uint8_t{3}).Put(std::uint8_t{kPayloadHasMetadata}).Put(std::int64_t{1});
  payload.Put(std::uint32_t{1000}).Raw("value");
  ExpectCorruptionNaming(SealedRecord(payload.bytes()), "value length 1000 exceeds the 5 payload");
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
