#pragma once

// How the store lays out its RocksDB keys. FROZEN FORMAT: every constant and
// encoding below is written to disk and never changes meaning.
//
// Column family "tiercache.data": one record per entry, keyed by
//   u32 namespace id, big-endian | the entry's key (any bytes)
// Big-endian so that all keys of a namespace are one contiguous range,
// [id, id + 1), which a namespace drop removes with a single DeleteRange.
//
// Column family "tiercache.meta": the store's own bookkeeping, a few keys:
//   "format_version"     the store format version, decimal ASCII
//   "next_namespace_id"  u32 big-endian: the id the next new namespace gets
//   "namespace/" + name  u32 big-endian: the id of a live namespace
//   "version_ceiling"    u64 big-endian: every entry version handed out so far
//                        is below it (absent: 1, nothing handed out yet);
//                        written at most kMaxVersion + 1 (record_format.h)
// Ids are never reused: a dropped namespace's id stays retired even after a
// restart, so records of a dropped namespace that a compaction has not yet
// removed can never reappear under a new one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tiercache::storage {

// Written to disk. The store's format version: 1, records of payload
// version 1 only; 2, records of payload version 2 as well; 3, records of
// record format 2 as well; 4, records of payload version 3 as well
// (storage/record_format.h). A read-write open
// raises an older store's version before it writes, so that older builds
// refuse the store as a whole rather than each new record as damaged.
inline constexpr std::uint32_t kStoreFormatVersion = 4;
inline constexpr char kDataColumnFamily[] = "tiercache.data";
inline constexpr char kMetaColumnFamily[] = "tiercache.meta";
inline constexpr std::string_view kFormatVersionKey = "format_version";
inline constexpr std::string_view kNextNamespaceIdKey = "next_namespace_id";
inline constexpr std::string_view kNamespaceKeyPrefix = "namespace/";
inline constexpr std::string_view kVersionCeilingKey = "version_ceiling";

inline constexpr std::size_t kNamespaceIdBytes = 4;
inline constexpr std::uint32_t kFirstNamespaceId = 1;
// The largest id handed out: id + 1 must still be a u32, as it bounds the
// namespace's range.
inline constexpr std::uint32_t kLastNamespaceId = 0xFFFFFFFE;

inline constexpr std::size_t kMaxNamespaceNameBytes = 255;

// The 4 big-endian bytes of `id`.
std::string EncodeNamespaceId(std::uint32_t id);

// The inverse of EncodeNamespaceId; nullopt unless `bytes` is exactly 4 bytes.
std::optional<std::uint32_t> DecodeNamespaceId(std::string_view bytes);

// Replaces *out with the data key of (`id`, `key`).
void EncodeDataKey(std::uint32_t id, std::string_view key, std::string* out);
// Appends the data key of (`id`, `key`) to *out: kNamespaceIdBytes + key.size()
// bytes.
void AppendDataKey(std::uint32_t id, std::string_view key, std::string* out);

// The entry's key inside a data key.
// REQUIRES: data_key was made by EncodeDataKey.
inline std::string_view UserKeyOf(std::string_view data_key) {
  return data_key.substr(kNamespaceIdBytes);
}

// The 8 big-endian bytes of `value`, and the inverse (nullopt unless exactly
// 8 bytes).
std::string EncodeU64(std::uint64_t value);
std::optional<std::uint64_t> DecodeU64(std::string_view bytes);

// The meta key that maps `name` to its id.
std::string NamespaceMetaKey(std::string_view name);

// The smallest string greater than every string that starts with `prefix`:
// `prefix` without its trailing 0xff bytes, last byte incremented. nullopt
// when there is none (prefix empty or all 0xff): the range is then unbounded.
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

}  // namespace tiercache::storage
