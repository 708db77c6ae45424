#include "storage/record_format.h"

#include <gtest/gtest.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/value_compressor.h"
#include "tests/util/read_file.h"
#include "tests/util/record_seal.h"
#include "tests/util/run_mode.h"
#include "tests/util/same_entry.h"

namespace tiercache::storage {
namespace {

using std::chrono::milliseconds;
using test_util::ExpectSameFields;
using test_util::FormatOneRecord;

// The checksum as record_format.h documents it, computed independently of
// the encoder: the low 32 bits of XXH3-64 of every byte before it.
std::uint32_t DocumentedChecksum(std::string_view before) {
  return static_cast<std::uint32_t>(XXH3_64bits(before.data(), before.size()));
}

// Format 1's: XXH3-64 of the header's first 28 bytes, then the payload.
std::uint64_t FormatOneChecksum(std::string_view header, std::string_view payload) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, header.data(), header.size());
  XXH3_64bits_update(&state, payload.data(), payload.size());
  return XXH3_64bits_digest(&state);
}

// Text of repeated words: compresses about by half, as real values do.
std::string Text(std::mt19937_64& rng, std::size_t size) {
  static const char* const kWords[] = {"cache", "tier",  "rocks",  "entry",  "value",  "key",
                                       "lz4",   "boost", "record", "header", "payload"};
  std::string out;
  while (out.size() < size) {
    out += kWords[rng() % std::size(kWords)];
    out += static_cast<char>('a' + rng() % 26);
    out += ' ';
  }
  out.resize(size);
  return out;
}

std::string Bytes(std::mt19937_64& rng, std::size_t size) {
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

std::string RandomValue(std::mt19937_64& rng) {
  static const std::size_t kSizes[] = {0, 1, 15, 100, 255, 256, 257, 4096, 70000};
  const std::size_t size = kSizes[rng() % std::size(kSizes)];
  return rng() % 2 ? Text(rng, size) : Bytes(rng, size);
}

TimePoint RandomTime(std::mt19937_64& rng) {
  return TimePoint(milliseconds(static_cast<std::int64_t>(rng())));
}

Entry RandomEntry(std::mt19937_64& rng) {
  Entry entry;
  entry.key = "never stored";
  entry.value = RandomValue(rng);
  entry.created_at = RandomTime(rng);
  if (rng() % 2) entry.expires_at = RandomTime(rng);
  entry.last_accessed = RandomTime(rng);
  entry.access_count = rng();
  entry.version = rng();
  for (std::uint64_t i = rng() % 5; i > 0; --i) {
    entry.metadata[Bytes(rng, rng() % 8)] = Text(rng, rng() % 40);
  }
  return entry;
}

Entry Decoded(const std::string& record) {
  Entry entry;
  const Status s = DecodeRecord(record, &entry);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return entry;
}

std::uint8_t CodecOf(const std::string& record) {
  RecordHeader header;
  EXPECT_TRUE(ParseRecordHeader(record, &header).ok());
  return header.flags & kFlagCodecMask;
}

// Gives each test a seeded generator (the seed is recorded and printed on
// failure) and a record string reused across encodes.
class RecordFormatTest : public ::testing::Test {
 protected:
  RecordFormatTest() : seed_(test_util::SeedFromEnvironment()), rng_(seed_) {
    RecordProperty("seed", std::to_string(seed_));
  }

  std::string SeedTrace() const {
    return "seed " + std::to_string(seed_) + " (set TIERCACHE_SEED to repeat)";
  }

  void ExpectRoundTrip(RecordEncoder& encoder, const Entry& entry) {
    ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
    ExpectSameFields(entry, Decoded(record_));
  }

  const std::uint64_t seed_;
  std::mt19937_64 rng_;
  std::string record_;
};

TEST_F(RecordFormatTest, RoundTripsEveryFieldWithoutCompression) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kNone, 1);
  for (int i = 0; i < 500; ++i) ExpectRoundTrip(encoder, RandomEntry(rng_));
}

TEST_F(RecordFormatTest, RoundTripsEveryFieldWithLz4) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 1 + rng_() % 300);
  for (int i = 0; i < 500; ++i) ExpectRoundTrip(encoder, RandomEntry(rng_));
}

TEST_F(RecordFormatTest, RoundTripsEmptyValue) {
  for (const Compression c : {Compression::kNone, Compression::kLz4}) {
    RecordEncoder encoder(c, 1);
    Entry entry;
    entry.version = 1;
    ExpectRoundTrip(encoder, entry);
    EXPECT_EQ(kCodecNone, CodecOf(record_));
  }
}

TEST_F(RecordFormatTest, RoundTripsBigValue) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 256);
  Entry entry = RandomEntry(rng_);
  entry.value = Text(rng_, 8 * 1024 * 1024);
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecLz4, CodecOf(record_));
  entry.value = Bytes(rng_, 8 * 1024 * 1024);
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecNone, CodecOf(record_));
}

TEST_F(RecordFormatTest, RoundTripsMetadataWithBinaryAndEmptyStrings) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  entry.value = "v";
  entry.metadata = {{"", "empty key"},
                    {"content-type", "text/plain"},
                    {std::string("\0\xff", 2), ""},
                    {"z", std::string(1000, 'z')}};
  ExpectRoundTrip(encoder, entry);
}

TEST_F(RecordFormatTest, RoundTripsExpiryAbsentAndPresent) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  ExpectRoundTrip(encoder, entry);
  for (const std::int64_t ms :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1'700'000'000'000}, INT64_MIN, INT64_MAX}) {
    entry.expires_at = TimePoint(milliseconds(ms));
    ExpectRoundTrip(encoder, entry);
  }
}

TEST_F(RecordFormatTest, DoesNotStoreTheKey) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  entry.key = "a-distinctive-key";
  ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
  EXPECT_EQ(std::string::npos, record_.find(entry.key));
  EXPECT_EQ("", Decoded(record_).key);
}

TEST_F(RecordFormatTest, CompressesOnlyAtOrAboveThreshold) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 500);
  Entry entry;
  entry.value = Text(rng_, 499);
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecNone, CodecOf(record_));
  entry.value = Text(rng_, 500);
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecLz4, CodecOf(record_));
  EXPECT_LT(record_.size(), entry.value.size());
}

TEST_F(RecordFormatTest, StoresValueUncompressedWhenLz4DoesNotShrinkIt) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 1);
  Entry entry;
  entry.value = Bytes(rng_, 4096);
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecNone, CodecOf(record_));
}

// The cache keeps L1 values in the form the record stores them: encoding and
// decoding both report that form, and both report the same one.
TEST_F(RecordFormatTest, EncodeAndDecodeReportTheValueAsStored) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 500);
  Entry entry;
  entry.value = Text(rng_, 4096);
  StoredValue encoded;
  ASSERT_TRUE(encoder.Encode(entry, &record_, &encoded).ok());
  EXPECT_EQ(kCodecLz4, encoded.codec);
  EXPECT_EQ(4096u, encoded.value_length);
  EXPECT_LT(encoded.bytes.size(), entry.value.size());
  const std::string block(encoded.bytes);
  Entry decoded;
  StoredValue read;
  ASSERT_TRUE(DecodeRecord(record_, &decoded, &read).ok());
  EXPECT_EQ(kCodecLz4, read.codec);
  EXPECT_EQ(4096u, read.value_length);
  EXPECT_EQ(block, read.bytes);
  EXPECT_EQ(entry.value, decoded.value);

  entry.value = Text(rng_, 499);
  ASSERT_TRUE(encoder.Encode(entry, &record_, &encoded).ok());
  EXPECT_EQ(kCodecNone, encoded.codec);
  EXPECT_EQ(entry.value, encoded.bytes);
  ASSERT_TRUE(DecodeRecord(record_, &decoded, &read).ok());
  EXPECT_EQ(kCodecNone, read.codec);
  EXPECT_EQ(entry.value, read.bytes);
}

TEST_F(RecordFormatTest, NeverCompressesWhenCompressionIsOff) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  entry.value = std::string(10000, 'a');
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecNone, CodecOf(record_));
}

// The frozen layout, byte for byte: a change here breaks every store on disk.
TEST_F(RecordFormatTest, WritesTheDocumentedLayout) {
  Entry entry;
  entry.value = "hi";
  entry.created_at = TimePoint(milliseconds(0x0102030405060708));
  entry.expires_at = TimePoint(milliseconds(0x1112131415161718));
  entry.last_accessed = TimePoint(milliseconds(0x2122232425262728));
  entry.access_count = 0x3132333435363738;
  entry.version = 0x4142434445464748;
  entry.metadata = {{"k", "vv"}};
  RecordEncoder encoder(Compression::kNone, 1);
  ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
  const std::string payload(
      "\x03"                                  // payload version
      "\x03"                                  // present: access data, metadata
      "\x08\x07\x06\x05\x04\x03\x02\x01"      // created_at
      "\x28\x27\x26\x25\x24\x23\x22\x21"      // last_accessed
      "\x38\x37\x36\x35\x34\x33\x32\x31"      // access_count
      "\x02\x00\x00\x00hi"                    // value
      "\x01\x00\x00\x00"                      // metadata count
      "\x01\x00\x00\x00k\x02\x00\x00\x00vv",  // metadata item
      47);
  const std::string header(
      "T\xc9"                              // magic
      "\x02\x04"                           // format version, flags (has expiry)
      "\x48\x47\x46\x45\x44\x43\x42\x41"   // version
      "\x18\x17\x16\x15\x14\x13\x12\x11",  // expires_at
      20);
  ASSERT_EQ(header.size() + payload.size() + 4, record_.size());
  EXPECT_EQ(header, record_.substr(0, 20));
  EXPECT_EQ(payload, record_.substr(20, payload.size()));
  const std::uint32_t checksum = DocumentedChecksum(header + payload);
  EXPECT_EQ(0, std::memcmp(&checksum, record_.data() + 20 + payload.size(), 4));
}

// A fresh write (never read, no metadata) leaves its access data, its value's
// length and the metadata count out of the payload.
TEST_F(RecordFormatTest, WritesAFreshEntryWithoutItsDefaultFields) {
  Entry entry;
  entry.value = "hi";
  entry.created_at = entry.last_accessed = TimePoint(milliseconds(0x0102030405060708));
  entry.version = 9;
  RecordEncoder encoder(Compression::kNone, 1);
  ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
  const std::string payload(
      "\x03"                              // payload version
      "\x00"                              // present: nothing optional
      "\x08\x07\x06\x05\x04\x03\x02\x01"  // created_at
      "hi",                               // value, to the payload's end
      12);
  const std::string header(
      "T\xc9"                              // magic
      "\x02\x00"                           // format version, flags (nothing)
      "\x09\x00\x00\x00\x00\x00\x00\x00",  // version
      12);
  ASSERT_EQ(header.size() + payload.size() + 4, record_.size());
  EXPECT_EQ(header + payload, record_.substr(0, header.size() + payload.size()));
  Entry decoded;
  decoded.metadata = {{"left", "over"}};  // a reused entry: nothing may remain
  decoded.access_count = 5;
  ASSERT_TRUE(DecodeRecord(record_, &decoded).ok());
  EXPECT_EQ(decoded.last_accessed, entry.created_at);
  EXPECT_EQ(decoded.access_count, 0u);
  EXPECT_TRUE(decoded.metadata.empty());
  EXPECT_EQ(decoded.value, "hi");
}

// An lz4 value: its uncompressed length, then the block's length only where
// metadata follows; without metadata the block runs to the payload's end.
TEST_F(RecordFormatTest, WritesACompressedBlocksLengthOnlyBeforeMetadata) {
  const std::string metadata(
      "\x01\x00\x00\x00"                      // metadata count
      "\x01\x00\x00\x00k\x02\x00\x00\x00vv",  // metadata item
      15);
  for (const bool with_metadata : {false, true}) {
    SCOPED_TRACE(with_metadata ? "with metadata" : "without metadata");
    Entry entry;
    entry.value = std::string(1000, 'x');
    entry.created_at = entry.last_accessed = TimePoint(milliseconds(5));
    entry.version = 9;
    if (with_metadata) entry.metadata = {{"k", "vv"}};
    RecordEncoder encoder(Compression::kLz4, 1);
    ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
    RecordHeader header;
    ASSERT_TRUE(ParseRecordHeader(record_, &header).ok());
    std::string payload = record_.substr(header.payload_offset, header.payload_length);
    const std::string fields = std::string("\x03", 1) +                   // payload version
                               std::string(1, with_metadata ? '\x02' : '\0') +  // present
                               std::string("\x05\x00\x00\x00\x00\x00\x00\x00", 8) +  // created_at
                               std::string("\xe8\x03\x00\x00", 4);  // value length, uncompressed
    ASSERT_GT(payload.size(), fields.size() + (with_metadata ? 4 + metadata.size() : 0));
    EXPECT_EQ(fields, payload.substr(0, fields.size()));
    payload.erase(0, fields.size());
    if (with_metadata) {
      EXPECT_EQ(metadata, payload.substr(payload.size() - metadata.size()));
      payload.resize(payload.size() - metadata.size());
      std::uint32_t stored = 0;
      std::memcpy(&stored, payload.data(), sizeof stored);
      payload.erase(0, sizeof stored);
      EXPECT_EQ(stored, payload.size());
    }
    std::string block;
    ASSERT_TRUE(DecompressValue(payload, 1000, &block).ok());
    EXPECT_EQ(entry.value, block);
    Entry decoded;
    ASSERT_TRUE(DecodeRecord(record_, &decoded).ok());
    ExpectSameFields(entry, decoded);
  }
}

// Stores written before payload version 3 stay readable: version 2 gives the
// stored value's length also where nothing follows it.
TEST_F(RecordFormatTest, ReadsPayloadVersionTwo) {
  for (const bool lz4 : {false, true}) {
    Entry entry;
    entry.value = lz4 ? std::string(1000, 'x') : "hi";
    entry.created_at = entry.last_accessed = TimePoint(milliseconds(0x0102030405060708));
    entry.version = 9;
    RecordEncoder encoder(lz4 ? Compression::kLz4 : Compression::kNone, 1);
    ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
    RecordHeader header;
    ASSERT_TRUE(ParseRecordHeader(record_, &header).ok());
    std::string payload = record_.substr(header.payload_offset, header.payload_length);
    const std::size_t stored_at = lz4 ? 14 : 10;  // past the value length when lz4
    const auto stored = static_cast<std::uint32_t>(payload.size() - stored_at);
    payload.insert(stored_at, reinterpret_cast<const char*>(&stored), sizeof stored);
    payload[0] = '\x02';
    const std::string old_record = test_util::Resealed(
        record_.substr(0, header.payload_offset) + payload + std::string(4, '\0'));
    StoredValue value;
    Entry decoded;
    const Status s = DecodeRecord(old_record, &decoded, &value);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ExpectSameFields(entry, decoded);
    EXPECT_EQ(value.codec, lz4 ? kCodecLz4 : kCodecNone);
  }
}

// Stores written before payload version 2 stay readable.
TEST_F(RecordFormatTest, ReadsPayloadVersionOne) {
  const std::string payload(
      "\x01"                                  // payload version
      "\x08\x07\x06\x05\x04\x03\x02\x01"      // created_at
      "\x28\x27\x26\x25\x24\x23\x22\x21"      // last_accessed
      "\x38\x37\x36\x35\x34\x33\x32\x31"      // access_count
      "\x02\x00\x00\x00hi"                    // value
      "\x01\x00\x00\x00"                      // metadata count
      "\x01\x00\x00\x00k\x02\x00\x00\x00vv",  // metadata item
      46);
  const std::string header(
      "TCR\xc9"                            // magic
      "\x01\x00\x00\x00"                   // format version, flags, reserved
      "\x00\x00\x00\x00\x00\x00\x00\x00"   // expires_at
      "\x07\x00\x00\x00\x00\x00\x00\x00",  // version
      24);
  Entry entry;
  ASSERT_TRUE(DecodeRecord(FormatOneRecord(header, payload), &entry).ok());
  EXPECT_EQ(entry.value, "hi");
  EXPECT_EQ(entry.version, 7u);
  EXPECT_EQ(entry.created_at, TimePoint(milliseconds(0x0102030405060708)));
  EXPECT_EQ(entry.last_accessed, TimePoint(milliseconds(0x2122232425262728)));
  EXPECT_EQ(entry.access_count, 0x3132333435363738u);
  EXPECT_EQ(entry.metadata, (std::map<std::string, std::string>{{"k", "vv"}}));
  EXPECT_FALSE(entry.expires_at.has_value());
}

// Stores written before record format 2 stay readable: format 1 with payload
// version 2, an expiry and an lz4 value.
TEST_F(RecordFormatTest, ReadsRecordFormatOne) {
  Entry entry;
  entry.value = std::string(1000, 'x');
  entry.created_at = entry.last_accessed = TimePoint(milliseconds(5));
  entry.expires_at = TimePoint(milliseconds(0x1112131415161718));
  entry.version = 0x4142434445464748;
  RecordEncoder encoder(Compression::kLz4, 1);
  ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
  RecordHeader header;
  ASSERT_TRUE(ParseRecordHeader(record_, &header).ok());
  const std::string payload = record_.substr(header.payload_offset, header.payload_length);
  const std::string old_header(
      "TCR\xc9"                            // magic
      "\x01\x05\x00\x00"                   // format version, flags (lz4, has expiry), reserved
      "\x18\x17\x16\x15\x14\x13\x12\x11"   // expires_at
      "\x48\x47\x46\x45\x44\x43\x42\x41",  // version
      24);
  const std::string old_record = FormatOneRecord(old_header, payload);
  const auto length = static_cast<std::uint32_t>(payload.size());
  ASSERT_EQ(old_record.substr(0, 28),
            old_header + std::string(reinterpret_cast<const char*>(&length), sizeof length));
  ASSERT_TRUE(ParseRecordHeader(old_record, &header).ok());
  EXPECT_EQ(header.format_version, 1);
  EXPECT_EQ(header.payload_offset, 36u);
  EXPECT_EQ(header.payload_length, payload.size());
  EXPECT_EQ(header.checksum, FormatOneChecksum(old_record.substr(0, 28), payload));
  StoredValue stored;
  Entry decoded;
  ASSERT_TRUE(DecodeRecord(old_record, &decoded, &stored).ok());
  ExpectSameFields(entry, decoded);
  EXPECT_EQ(stored.codec, kCodecLz4);
}

// The seed records of the fuzz corpus (tests/fuzz/record_seeds.cc), as real
// builds wrote them: format1-* before record format 2, payload2-* before
// payload version 3, the others after.
TEST_F(RecordFormatTest, DecodesTheSeedRecordsOfEveryFormat) {
  const char* dir = std::getenv("TIERCACHE_RECORD_CORPUS");
  ASSERT_NE(dir, nullptr) << "set TIERCACHE_RECORD_CORPUS (meson test does)";
  struct Seed {
    const char* name;
    std::size_t value_bytes;
    std::size_t metadata_items;
  };
  // As record_seeds.cc makes them.
  const Seed kSeeds[] = {{"empty", 0, 0},      {"small-expiring", 10, 0}, {"metadata", 100, 3},
                         {"plain-1000", 1000, 1}, {"lz4-100", 100, 2},      {"lz4-1000", 1000, 0}};
  struct Written {
    std::string prefix;
    int record_format;
    int payload_version;
  };
  for (const Seed& seed : kSeeds) {
    for (const Written& written :
         {Written{"format1-", 1, 1}, Written{"payload2-", 2, 2}, Written{"", 2, 3}}) {
      const std::string name = written.prefix + seed.name;
      SCOPED_TRACE(name);
      const std::string record = test_util::ReadFile(std::string(dir) + "/" + name);
      ASSERT_FALSE(record.empty());
      RecordHeader header;
      ASSERT_TRUE(ParseRecordHeader(record, &header).ok());
      EXPECT_EQ(header.format_version, written.record_format);
      EXPECT_EQ(record[header.payload_offset], written.payload_version);
      Entry entry;
      const Status s = DecodeRecord(record, &entry);
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(entry.version, 42u);
      EXPECT_EQ(entry.created_at, TimePoint(milliseconds(1'700'000'000'000)));
      EXPECT_EQ(entry.value.size(), seed.value_bytes);
      EXPECT_EQ(entry.metadata.size(), seed.metadata_items);
    }
  }
}

TEST_F(RecordFormatTest, ParsesTheHeaderAlone) {
  Entry entry;
  entry.value = std::string(1000, 'x');
  entry.expires_at = TimePoint(milliseconds(123456));
  entry.version = 77;
  RecordEncoder encoder(Compression::kLz4, 1);
  ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
  RecordHeader header;
  ASSERT_TRUE(ParseRecordHeader(record_, &header).ok());
  EXPECT_EQ(kRecordFormatVersion, header.format_version);
  EXPECT_EQ(kCodecLz4 | kFlagHasExpiry, header.flags);
  EXPECT_EQ(entry.expires_at, header.expires_at);
  EXPECT_EQ(77u, header.version);
  EXPECT_EQ(20u, header.payload_offset);
  EXPECT_EQ(record_.size() - 20 - 4, header.payload_length);
  EXPECT_EQ(DocumentedChecksum(std::string_view(record_).substr(0, record_.size() - 4)),
            header.checksum);
  RecordHeader verified;
  ASSERT_TRUE(VerifyRecord(record_, &verified).ok());
  EXPECT_EQ(header.checksum, verified.checksum);
  entry.expires_at.reset();
  ASSERT_TRUE(encoder.Encode(entry, &record_).ok());
  ASSERT_TRUE(ParseRecordHeader(record_, &header).ok());
  EXPECT_EQ(kCodecLz4, header.flags);
  EXPECT_FALSE(header.expires_at.has_value());
  EXPECT_EQ(12u, header.payload_offset);
  EXPECT_EQ(record_.size() - 12 - 4, header.payload_length);
}

// The reused archive leaves nothing behind in it. (With lz4 the bytes may
// differ: a reused lz4 stream finds other matches, though never in an
// earlier value, as the round trips show.)
TEST_F(RecordFormatTest, EncodesTheSameBytesWhateverCameBefore) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder reused(Compression::kNone, 1);
  for (int i = 0; i < 50; ++i) {
    const Entry entry = RandomEntry(rng_);
    std::string fresh_record;
    RecordEncoder fresh(Compression::kNone, 1);
    ASSERT_TRUE(reused.Encode(entry, &record_).ok());
    ASSERT_TRUE(fresh.Encode(entry, &fresh_record).ok());
    EXPECT_EQ(fresh_record, record_);
  }
}

TEST_F(RecordFormatTest, Lz4RecordRefersToNoEarlierValue) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 1);
  Entry entry;
  entry.value = Text(rng_, 1000);
  std::string first;
  ASSERT_TRUE(encoder.Encode(entry, &first).ok());
  ExpectRoundTrip(encoder, entry);
  EXPECT_EQ(kCodecLz4, CodecOf(record_));
  EXPECT_GT(record_.size() * 2, first.size());
}

TEST_F(RecordFormatTest, RefusesMetadataAboveTheMaximum) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  entry.metadata["big"] = std::string(kMaxMetadataBytes, 'm');
  const Status s = encoder.Encode(entry, &record_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("metadata")) << s.ToString();
}

// The limit is inclusive, counted as the encoder and the decoder both count
// it: the name, the value and kMetadataItemOverhead per item.
TEST_F(RecordFormatTest, RoundTripsMetadataAtTheMaximumAndRefusesOneByteMore) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  entry.metadata["big"] = std::string(kMaxMetadataBytes - 3 - kMetadataItemOverhead, 'm');
  ExpectRoundTrip(encoder, entry);
  entry.metadata["big"] += 'm';
  EXPECT_TRUE(encoder.Encode(entry, &record_).IsInvalidArgument());
}

// Short values straddle the length from which lz4 saves space: each is
// stored one way or the other and read back whole.
TEST_F(RecordFormatTest, RoundTripsEveryShortValueWithLz4) {
  RecordEncoder encoder(Compression::kLz4, 1);
  Entry entry;
  for (std::size_t size = 0; size <= 64; ++size) {
    SCOPED_TRACE(size);
    entry.value.assign(size, 'a');
    ExpectRoundTrip(encoder, entry);
  }
  EXPECT_EQ(kCodecLz4, CodecOf(record_));
}

TEST_F(RecordFormatTest, RefusesValueAboveTheMaximum) {
  RecordEncoder encoder(Compression::kNone, 1);
  Entry entry;
  entry.value.resize(kMaxValueBytes + 1);
  const Status s = encoder.Encode(entry, &record_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(std::string::npos, s.message().find("value of")) << s.ToString();
}

TEST_F(RecordFormatTest, DecodesOnManyThreadsAtOnce) {
  SCOPED_TRACE(SeedTrace());
  RecordEncoder encoder(Compression::kLz4, 64);
  std::vector<Entry> entries;
  std::vector<std::string> records;
  for (int i = 0; i < 64; ++i) {
    entries.push_back(RandomEntry(rng_));
    records.emplace_back();
    ASSERT_TRUE(encoder.Encode(entries.back(), &records.back()).ok());
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Entry decoded;
      for (int round = 0; round < 20; ++round) {
        for (std::size_t i = 0; i < records.size(); ++i) {
          const bool same = DecodeRecord(records[i], &decoded).ok() &&
                            decoded.value == entries[i].value &&
                            decoded.metadata == entries[i].metadata;
          failures[t] += same ? 0 : 1;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(std::vector<int>(4, 0), failures);
}

}  // namespace
}  // namespace tiercache::storage
