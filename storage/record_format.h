#pragma once

// The record: how one entry is stored as a RocksDB value. FROZEN FORMAT: every
// number below is written to disk and never changes meaning. A change that old
// readers cannot read takes a new format version; retired values stay here as
// comments.
//
// A record is a header, a payload and a checksum. All header numbers are
// little-endian, at fixed offsets:
//
//   offset size  field
//        0    2  magic            bytes 54 C9 ("T", then 0xC9)
//        2    1  format version   2 (kRecordFormatVersion)
//        3    1  flags            bits 0-1 value codec: 0 none, 1 lz4 (2, 3 unused)
//                                 bit  2   has expiry: expires_at follows
//                                 bits 3-7 reserved, zero
//        4    8  version          unsigned: the entry's version (optimistic locking),
//                                 kMinVersion .. kMaxVersion
//       12    8  expires_at       signed ms since the Unix epoch; only with has expiry
//   12 or 20     payload          to 4 bytes before the record's end
//   last 4       checksum         u32: the low 32 bits of XXH3-64 (seed 0) of every
//                                 byte before it
//
// The record's size, which RocksDB keeps, gives the payload's length. A
// 100-byte value without expiry takes a 126-byte record.
//
// Format 1 (still read, no longer written) has a fixed 36-byte header, then
// the payload, which ends the record:
//
//   offset size  field
//        0    4  magic            bytes 54 43 52 C9 ("TCR", then 0xC9)
//        4    1  format version   1
//        5    1  flags            as in format 2
//        6    2  reserved         zero
//        8    8  expires_at       zero without expiry
//       16    8  version
//       24    4  payload length   the record is exactly 36 + payload length bytes
//       28    8  checksum         XXH3-64 (seed 0) of bytes 0..27, then the payload
//
// Format 2 keeps the payload and leaves out what the record's size or the
// flags already say: 20 bytes of a 100-byte entry's 150, which the block
// cache and the CPU's caches would otherwise hold. Its checksum is 32 bits,
// as RocksDB's own block checksums are: a damaged record goes unnoticed once
// in 4 billion, after the block's checksum has missed it too.
//
// The payload is a Boost.Serialization binary archive (flags no_header and
// no_codecvt) of these fields, in this order; a binary archive writes numbers
// in host byte order, and tiercache builds only on little-endian hosts:
//
//   u8   payload version   3 (kPayloadVersion), written first (see below)
//   u8   present           bit 0 (kPayloadHasAccessData): last_accessed and
//                          access_count follow; without it last_accessed is
//                          created_at and access_count 0, as a new write's are
//                          bit 1 (kPayloadHasMetadata): the metadata follows;
//                          without it there is none
//                          bits 2-7 zero
//   i64  created_at        ms since the Unix epoch
//   i64  last_accessed     ms since the Unix epoch; only with bit 0
//   u64  access_count      only with bit 0
//   u32  value length      the value's length uncompressed; present only when the
//                          codec is lz4
//   u32  stored length     the stored value's bytes; only with bit 1: without
//                          metadata the stored value ends the payload
//   ...  stored value      the value, lz4-compressed (one LZ4 block) when the
//                          codec is lz4, else as is
//   u32  metadata count    only with bit 1
//   then per metadata item, keys strictly ascending:
//   u32  key length, key bytes, u32 value length, value bytes
//
// Payload version 1 (still read, no longer written) has no `present` byte and
// always holds last_accessed, access_count and the metadata count. Version 2
// leaves out what a fresh write does not need: 19 bytes of a 100-byte entry's
// 169, which RocksDB would otherwise write, flush and compact. Version 2
// (still read, no longer written) always holds the stored length; version 3
// leaves it out where the record's size gives it. That takes the record of a
// 100-byte value written without expiry (and never read since) below 128
// bytes, where RocksDB's block entries encode the value's length in one varint
// byte and its reads parse them on a fast path.
//
// Readers refuse (Corruption) lengths that disagree with the record's size, a
// value over kMaxValueBytes, an lz4 value said to be more than 255 times its
// compressed bytes (beyond what LZ4 can produce), metadata over
// kMaxMetadataBytes, and any byte after the last field.
//
// Why a payload version written first rather than BOOST_CLASS_VERSION: a
// class-versioned object makes the archive write class information the first
// time it meets the class, so a record would depend on the archive's state and
// each record would need an archive of its own. Building one costs about
// 250 ns each way here (over this codec's stream buffers, no_codecvt), against
// about 3 ns per field through a reused one: it alone would take a 100-byte
// entry's encode and decode past a tenth of a RocksDB Put. With an explicit
// version the payload is self-contained, one archive serves every record, and
// the version sits at a known place, checked before any other field is read.
//
// The entry's key is not in the record: the RocksDB key holds it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tiercache/clock.h"
#include "tiercache/entry.h"
#include "tiercache/options.h"
#include "tiercache/policies.h"
#include "tiercache/status.h"

namespace tiercache::storage {

// Written to disk.
inline constexpr std::uint8_t kRecordMagic[2] = {0x54, 0xC9};
inline constexpr std::uint8_t kRecordFormatVersion = 2;
inline constexpr std::uint8_t kPayloadVersion = 3;

// The `present` byte of payload versions 2 and later. Written to disk.
inline constexpr std::uint8_t kPayloadHasAccessData = 0x01;
inline constexpr std::uint8_t kPayloadHasMetadata = 0x02;
inline constexpr std::uint8_t kPayloadPresentMask = 0x03;

// The flags byte. Written to disk.
inline constexpr std::uint8_t kFlagCodecMask = 0x03;
inline constexpr std::uint8_t kCodecNone = 0;
inline constexpr std::uint8_t kCodecLz4 = 1;
inline constexpr std::uint8_t kFlagHasExpiry = 0x04;
inline constexpr std::uint8_t kFlagReservedMask = 0xF8;

// The versions an entry may have: what the store's version ceiling allows and
// what load accepts, although the header's field could hold any u64. Not 0:
// CompareAndPut takes 0 for "no entry yet", so a stored 0 would make a present
// key look absent. Below 2^63: the ceiling, one above the highest version
// handed out, then fits in a u64 (at most kMaxVersion + 1), and the cache's
// VersionSource, which raises it a block of versions at a time, can stop at
// the end of the range instead of wrapping around to 0.
inline constexpr std::uint64_t kMinVersion = 1;
inline constexpr std::uint64_t kMaxVersion = (std::uint64_t{1} << 63) - 1;

// Hard limits, checked by the encoder and again by every reader before it
// allocates. Metadata counts as the sum of its key and value lengths plus
// kMetadataItemOverhead per item (its two length fields).
inline constexpr std::size_t kMetadataItemOverhead = 8;
inline constexpr std::size_t kMaxMetadataBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxPayloadBytes = kMaxValueBytes + kMaxMetadataBytes + 64 * 1024;
// A stored value's length is a u32, also where the payload's size gives it.
static_assert(kMaxPayloadBytes <= UINT32_MAX);

// A value in the form a record stores it.
struct StoredValue {
  std::uint8_t codec = 0;          // kCodecNone or kCodecLz4
  std::uint32_t value_length = 0;  // uncompressed; written only for lz4
  std::string_view bytes;          // as stored: compressed for lz4
};

// A record's header and checksum, as ParseRecordHeader reads them.
struct RecordHeader {
  std::uint8_t format_version = 0;
  std::uint8_t flags = 0;
  std::optional<TimePoint> expires_at;
  std::uint64_t version = 0;
  std::size_t payload_offset = 0;  // where the payload starts in the record
  std::uint32_t payload_length = 0;
  std::uint64_t checksum = 0;  // as stored: 64 bits in format 1, 32 in format 2
};

// Parses and checks the header alone, of either format (magic, format
// version, flags, payload length against the record's own size and the hard
// maximum). No Boost; does not verify the checksum. Cheap enough for a
// compaction filter.
// Corruption naming the problem when the header is malformed.
[[nodiscard]] Status ParseRecordHeader(std::string_view record, RecordHeader* header);

// Everything but the payload's contents: the header, as ParseRecordHeader, and
// the checksum. Neither lz4 nor Boost sees a byte. For `verify`, and the first
// step of DecodeRecord.
[[nodiscard]] Status VerifyRecord(std::string_view record, RecordHeader* header);

// Whether the record may be dropped as expired at `now`: its header says it
// expired at or before `now`, and its checksum matches. Reads the header
// alone, a few loads, of a record that has not expired. A damaged record
// (a header that does not parse, a checksum that does not match) is never
// expired: it stays, for `verify` to report. For the compaction filter and
// purge-expired.
[[nodiscard]] bool ExpiredAndIntact(std::string_view record, TimePoint now);

// Encodes entries into records; owns reusable buffers (and the Boost archive)
// so that encoding allocates nothing in steady state, when the caller also
// reuses the output string.
//
// Thread-safety: not thread-safe; one encoder per thread.
class RecordEncoder {
 public:
  // compression_threshold: values shorter than this are stored as they are;
  // longer ones are lz4-compressed when compression is kLz4 and it makes them
  // smaller.
  RecordEncoder(Compression compression, std::size_t compression_threshold);
  ~RecordEncoder();
  RecordEncoder(const RecordEncoder&) = delete;
  RecordEncoder& operator=(const RecordEncoder&) = delete;

  // Replaces *record with the record of `entry` (all fields but key), and
  // *stored, when asked, with the value as the record stores it (its lz4
  // block stays valid until the next Encode; an uncompressed value is a view
  // into entry.value). InvalidArgument when the value exceeds kMaxValueBytes
  // or the metadata kMaxMetadataBytes; *record is then unspecified.
  [[nodiscard]] Status Encode(const Entry& entry, std::string* record,
                              StoredValue* stored = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Full check (header, lengths, checksum, then lz4 and Boost) and decode; fills
// every field of *entry except key, and *stored, when asked, with the value as
// the record stores it (an lz4 block is a view into `record`, an uncompressed
// value one into entry->value). Corruption naming the problem for any
// malformed record; never allocates more than a bounded multiple of the
// record's size. Thread-safe (each thread keeps its own decoding state).
[[nodiscard]] Status DecodeRecord(std::string_view record, Entry* entry,
                                  StoredValue* stored = nullptr);

}  // namespace tiercache::storage
