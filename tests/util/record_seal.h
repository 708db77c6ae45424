#pragma once

// Records sealed by hand, as storage/record_format.h lays them out: damage
// that only the payload's own checks can find, and records of format 1 as
// earlier builds wrote them.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace tiercache::test_util {

// A record of format 2: its last 4 bytes. Shorter input is returned as it is.
inline std::string Resealed(std::string record) {
  constexpr std::size_t kChecksumBytes = 4;
  if (record.size() < kChecksumBytes) return record;
  const std::size_t at = record.size() - kChecksumBytes;
  const auto checksum = static_cast<std::uint32_t>(XXH3_64bits(record.data(), at));
  std::memcpy(record.data() + at, &checksum, kChecksumBytes);
  return record;
}

// A record of format 1: its payload length (bytes 24..27) and checksum (bytes
// 28..35). Input shorter than the 36-byte header is returned as it is.
inline std::string ResealedFormatOne(std::string record) {
  constexpr std::size_t kLengthAt = 24, kChecksumAt = 28, kHeaderBytes = 36;
  if (record.size() < kHeaderBytes) return record;
  const auto length = static_cast<std::uint32_t>(record.size() - kHeaderBytes);
  std::memcpy(record.data() + kLengthAt, &length, sizeof length);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, record.data(), kChecksumAt);
  XXH3_64bits_update(&state, record.data() + kHeaderBytes, length);
  const std::uint64_t checksum = XXH3_64bits_digest(&state);
  std::memcpy(record.data() + kChecksumAt, &checksum, sizeof checksum);
  return record;
}

// A record of format 1 of `header`, its first 24 bytes (magic, format version,
// flags, reserved, expires_at, version), and `payload`.
inline std::string FormatOneRecord(std::string_view header, std::string_view payload) {
  std::string record(header);
  record.append(4 + 8, '\0');  // payload length and checksum
  return ResealedFormatOne(record.append(payload));
}

}  // namespace tiercache::test_util
