#include "storage/record_format.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <bit>
#include <chrono>
#include <cstring>
#include <new>
#include <span>
#include <utility>

#include "storage/guarded.h"
#include "storage/record_payload.h"
#include "storage/value_compressor.h"

namespace tiercache::storage {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the header is copied to and from memory as is, and Boost binary archives "
              "write host byte order: the format is little-endian");

// Format 1's header, fixed at 36 bytes (read, no longer written).
namespace v1 {
constexpr std::uint8_t kMagic[4] = {0x54, 0x43, 0x52, 0xC9};
constexpr std::size_t kHeaderSize = 36;
constexpr std::size_t kFormatVersionOffset = 4;
constexpr std::size_t kFlagsOffset = 5;
constexpr std::size_t kReservedOffset = 6;
constexpr std::size_t kExpiresAtOffset = 8;
constexpr std::size_t kVersionOffset = 16;
constexpr std::size_t kPayloadLengthOffset = 24;
constexpr std::size_t kChecksumOffset = 28;
static_assert(kChecksumOffset + sizeof(std::uint64_t) == kHeaderSize);
}  // namespace v1

// Format 2's header: 12 bytes, 20 with an expiry; its checksum trails the payload.
namespace v2 {
constexpr std::size_t kFormatVersionOffset = 2;
constexpr std::size_t kFlagsOffset = 3;
constexpr std::size_t kVersionOffset = 4;
constexpr std::size_t kExpiresAtOffset = 12;
constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kExpiryHeaderSize = kHeaderSize + sizeof(std::int64_t);
constexpr std::size_t kChecksumSize = sizeof(std::uint32_t);
static_assert(sizeof(kRecordMagic) == kFormatVersionOffset);
}  // namespace v2

template <typename T>
T LoadFixed(std::string_view record, std::size_t offset) {
  T value;
  std::memcpy(&value, record.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void StoreFixed(std::string* record, std::size_t offset, T value) {
  std::memcpy(record->data() + offset, &value, sizeof(T));
}

template <typename T>
void AppendFixed(std::string* record, T value) {
  record->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

bool HasMagic(std::string_view record, std::span<const std::uint8_t> magic) {
  return record.size() >= magic.size() &&
         std::memcmp(record.data(), magic.data(), magic.size()) == 0;
}

Status TooShort(std::string_view record, std::size_t needed, std::string_view what) {
  return Status::Corruption(
      fmt::format("record: {} bytes is shorter than the {}-byte {}", record.size(), needed, what));
}

// Records up to this size are hashed in one piece from a copy: XXH3's
// streaming state costs more than the copy for them (about 420 instructions
// against 170 for a 169-byte record under callgrind).
constexpr std::size_t kMaxContiguousHash = 4096;

// Format 1: XXH3-64 of the header before the checksum, then the payload.
std::uint64_t ChecksumV1(std::string_view record) {
  const std::string_view payload = record.substr(v1::kHeaderSize);
  if (record.size() <= kMaxContiguousHash) {
    char joined[kMaxContiguousHash];
    std::memcpy(joined, record.data(), v1::kChecksumOffset);
    std::memcpy(joined + v1::kChecksumOffset, payload.data(), payload.size());
    return XXH3_64bits(joined, v1::kChecksumOffset + payload.size());
  }
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, record.data(), v1::kChecksumOffset);
  XXH3_64bits_update(&state, payload.data(), payload.size());
  return XXH3_64bits_digest(&state);
}

// Format 2: the low 32 bits of XXH3-64 of every byte before the checksum.
std::uint32_t ChecksumV2(std::string_view before_checksum) {
  return static_cast<std::uint32_t>(XXH3_64bits(before_checksum.data(), before_checksum.size()));
}

// The checksum of `record` as its format, which `header` names, computes it.
std::uint64_t ComputedChecksum(std::string_view record, const RecordHeader& header) {
  if (header.format_version == 1) return ChecksumV1(record);
  return ChecksumV2(record.substr(0, record.size() - v2::kChecksumSize));
}

Status CheckFlags(std::uint8_t flags) {
  if ((flags & kFlagReservedMask) != 0) {
    return Status::Corruption(fmt::format("record: reserved bits set in flags 0x{:02x}", flags));
  }
  const int codec = flags & kFlagCodecMask;
  if (codec != kCodecNone && codec != kCodecLz4) {
    return Status::Corruption(
        fmt::format("record: unknown value codec {} in flags 0x{:02x}", codec, flags));
  }
  return Status::OK();
}

Status CheckPayloadLength(std::size_t length) {
  if (length > kMaxPayloadBytes) {
    return Status::Corruption(
        fmt::format("record: payload length {} exceeds the maximum {}", length, kMaxPayloadBytes));
  }
  return Status::OK();
}

Status ParseV1(std::string_view record, RecordHeader* header) {
  if (record.size() < v1::kHeaderSize) return TooShort(record, v1::kHeaderSize, "header");
  const auto version = LoadFixed<std::uint8_t>(record, v1::kFormatVersionOffset);
  if (version != 1) {
    return Status::Corruption(fmt::format(
        "record: format version {} under format 1's magic (54 43 52 c9) is not valid", version));
  }
  const auto flags = LoadFixed<std::uint8_t>(record, v1::kFlagsOffset);
  if (Status s = CheckFlags(flags); !s.ok()) return s;
  const auto reserved = LoadFixed<std::uint16_t>(record, v1::kReservedOffset);
  if (reserved != 0) {
    return Status::Corruption(
        fmt::format("record: reserved header bytes are 0x{:04x}, not zero", reserved));
  }
  const auto expires_at = LoadFixed<std::int64_t>(record, v1::kExpiresAtOffset);
  if ((flags & kFlagHasExpiry) == 0 && expires_at != 0) {
    return Status::Corruption(
        fmt::format("record: expires_at is {} but the has-expiry flag is clear", expires_at));
  }
  const auto length = LoadFixed<std::uint32_t>(record, v1::kPayloadLengthOffset);
  const std::size_t available = record.size() - v1::kHeaderSize;
  if (length > available) {
    return Status::Corruption(
        fmt::format("record: payload length {} exceeds the record's {} bytes ({} after the header)",
                    length, record.size(), available));
  }
  if (length < available) {
    return Status::Corruption(
        fmt::format("record: payload length {} leaves {} of the record's {} bytes unaccounted for",
                    length, available - length, record.size()));
  }
  if (Status s = CheckPayloadLength(length); !s.ok()) return s;
  header->format_version = 1;
  header->flags = flags;
  header->expires_at.reset();
  if ((flags & kFlagHasExpiry) != 0) {
    header->expires_at = TimePoint(std::chrono::milliseconds(expires_at));
  }
  header->version = LoadFixed<std::uint64_t>(record, v1::kVersionOffset);
  header->payload_offset = v1::kHeaderSize;
  header->payload_length = length;
  header->checksum = LoadFixed<std::uint64_t>(record, v1::kChecksumOffset);
  return Status::OK();
}

Status ParseV2(std::string_view record, RecordHeader* header) {
  constexpr std::size_t kLeast = v2::kHeaderSize + v2::kChecksumSize;
  if (record.size() < kLeast) return TooShort(record, kLeast, "header and checksum");
  const auto version = LoadFixed<std::uint8_t>(record, v2::kFormatVersionOffset);
  if (version > kRecordFormatVersion) {
    return Status::Corruption(
        fmt::format("record format version {} is newer than this tiercache ({})", version,
                    kRecordFormatVersion));
  }
  if (version != kRecordFormatVersion) {
    return Status::Corruption(fmt::format(
        "record: format version {} under format 2's magic (54 c9) is not valid", version));
  }
  const auto flags = LoadFixed<std::uint8_t>(record, v2::kFlagsOffset);
  if (Status s = CheckFlags(flags); !s.ok()) return s;
  const bool has_expiry = (flags & kFlagHasExpiry) != 0;
  const std::size_t header_size = has_expiry ? v2::kExpiryHeaderSize : v2::kHeaderSize;
  if (record.size() < header_size + v2::kChecksumSize) {
    return TooShort(record, header_size + v2::kChecksumSize,
                    "header with an expiry and checksum");
  }
  const std::size_t length = record.size() - header_size - v2::kChecksumSize;
  if (Status s = CheckPayloadLength(length); !s.ok()) return s;
  header->format_version = version;
  header->flags = flags;
  header->expires_at.reset();
  if (has_expiry) {
    header->expires_at = TimePoint(
        std::chrono::milliseconds(LoadFixed<std::int64_t>(record, v2::kExpiresAtOffset)));
  }
  header->version = LoadFixed<std::uint64_t>(record, v2::kVersionOffset);
  header->payload_offset = header_size;
  header->payload_length = static_cast<std::uint32_t>(length);
  header->checksum = LoadFixed<std::uint32_t>(record, record.size() - v2::kChecksumSize);
  return Status::OK();
}

}  // namespace

Status ParseRecordHeader(std::string_view record, RecordHeader* header) {
  if (HasMagic(record, kRecordMagic)) return ParseV2(record, header);
  if (HasMagic(record, v1::kMagic)) return ParseV1(record, header);
  if (record.size() < sizeof(kRecordMagic)) return TooShort(record, sizeof(kRecordMagic), "magic");
  if (record.size() < sizeof(v1::kMagic) &&
      HasMagic(record, std::span(v1::kMagic).first(record.size()))) {
    return TooShort(record, sizeof(v1::kMagic), "magic of format 1");
  }
  const auto* m = reinterpret_cast<const unsigned char*>(record.data());
  return Status::Corruption(
      fmt::format("record: magic {:02x} is not a tiercache record's (54 c9; format 1: 54 43 52 c9)",
                  fmt::join(m, m + std::min(record.size(), sizeof(v1::kMagic)), " ")));
}

Status VerifyRecord(std::string_view record, RecordHeader* header) {
  if (Status s = ParseRecordHeader(record, header); !s.ok()) return s;
  const std::uint64_t computed = ComputedChecksum(record, *header);
  if (computed == header->checksum) return Status::OK();
  const int digits = header->format_version == 1 ? 16 : 8;
  return Status::Corruption(
      fmt::format("record: checksum 0x{:0{}x} does not match the contents (0x{:0{}x})",
                  header->checksum, digits, computed, digits));
}

bool ExpiredAndIntact(std::string_view record, TimePoint now) {
  RecordHeader header;
  if (!ParseRecordHeader(record, &header).ok()) return false;
  if (!header.expires_at || *header.expires_at > now) return false;
  return ComputedChecksum(record, header) == header.checksum;
}

// Owns what Encode reuses from one entry to the next.
struct RecordEncoder::Impl {
  Impl(Compression c, std::size_t threshold) : compressor(c, threshold) {}

  // The value as it will be stored: its lz4 block when the compressor makes
  // one, otherwise the value itself.
  StoredValue Store(std::string_view value) {
    if (std::optional<std::string_view> block = compressor.Compress(value)) {
      return {kCodecLz4, static_cast<std::uint32_t>(value.size()), *block};
    }
    return {kCodecNone, 0, value};
  }

  ValueCompressor compressor;
  PayloadWriter writer;
};

namespace {

Status CheckEncodable(const Entry& entry) {
  if (entry.value.size() > kMaxValueBytes) {
    return Status::InvalidArgument(fmt::format("record: value of {} bytes exceeds the maximum {}",
                                               entry.value.size(), kMaxValueBytes));
  }
  std::size_t metadata_bytes = 0;
  for (const auto& [key, value] : entry.metadata) {
    metadata_bytes += key.size() + value.size() + kMetadataItemOverhead;
  }
  if (metadata_bytes > kMaxMetadataBytes) {
    return Status::InvalidArgument(fmt::format(
        "record: metadata of {} bytes exceeds the maximum {}", metadata_bytes, kMaxMetadataBytes));
  }
  return Status::OK();
}

std::size_t HeaderSize(const Entry& entry) {
  return entry.expires_at ? v2::kExpiryHeaderSize : v2::kHeaderSize;
}

// Fills the header HeaderSize(entry) left zeroed before the payload, then
// appends the checksum.
void Seal(const Entry& entry, std::uint8_t codec, std::string* record) {
  std::memcpy(record->data(), kRecordMagic, sizeof(kRecordMagic));
  StoreFixed(record, v2::kFormatVersionOffset, kRecordFormatVersion);
  StoreFixed(record, v2::kFlagsOffset,
             static_cast<std::uint8_t>(codec | (entry.expires_at ? kFlagHasExpiry : 0)));
  StoreFixed(record, v2::kVersionOffset, std::uint64_t{entry.version});
  if (entry.expires_at) {
    StoreFixed(record, v2::kExpiresAtOffset,
               static_cast<std::int64_t>(entry.expires_at->time_since_epoch().count()));
  }
  AppendFixed(record, ChecksumV2(*record));
}

// Each thread decodes through its own archive: building one per record costs
// about 250 ns, more than decoding a 100-byte record through a reused one.
PayloadReader& ThreadPayloadReader() {
  thread_local PayloadReader reader;
  return reader;
}

}  // namespace

RecordEncoder::RecordEncoder(Compression compression, std::size_t compression_threshold)
    : impl_(std::make_unique<Impl>(compression, compression_threshold)) {}

RecordEncoder::~RecordEncoder() = default;

Status RecordEncoder::Encode(const Entry& entry, std::string* record, StoredValue* stored) {
  if (Status s = CheckEncodable(entry); !s.ok()) return s;
  try {
    const StoredValue value = impl_->Store(entry.value);
    record->assign(HeaderSize(entry), '\0');
    impl_->writer.Write(entry, value, record);
    Seal(entry, value.codec, record);
    if (stored != nullptr) *stored = value;
  } catch (const std::bad_alloc&) {
    return OrOutOfMemory([&] {
      return Status::NoSpace(fmt::format("record: out of memory encoding a {}-byte value",
                                         entry.value.size()));
    });
  } catch (const std::exception& e) {
    return OrOutOfMemory(
        [&] { return Status::IOError(fmt::format("record: encoding failed: {}", e.what())); });
  }
  return Status::OK();
}

Status DecodeRecord(std::string_view record, Entry* entry, StoredValue* stored) {
  RecordHeader header;
  if (Status s = VerifyRecord(record, &header); !s.ok()) return s;
  try {
    const StoredValue value =
        ThreadPayloadReader().Read(record.substr(header.payload_offset, header.payload_length),
                                   header.flags & kFlagCodecMask, entry);
    if (stored != nullptr) *stored = value;
  } catch (const PayloadCorruption& e) {
    return OrOutOfMemory([&] { return Status::Corruption(e.what()); });
  } catch (const std::bad_alloc&) {
    return OrOutOfMemory([&] {
      return Status::NoSpace(
          fmt::format("record: out of memory decoding a {}-byte record", record.size()));
    });
  } catch (const std::exception& e) {
    return OrOutOfMemory(
        [&] { return Status::Corruption(fmt::format("record: payload: {}", e.what())); });
  }
  entry->expires_at = header.expires_at;
  entry->version = header.version;
  return Status::OK();
}

}  // namespace tiercache::storage
