#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "tiercache/clock.h"

namespace tiercache::engine {

// A node's address inside its shard's NodeArena: page index and offset.
// 32 bits instead of a pointer keep the policy links and the hash table small.
using Handle = std::uint32_t;
inline constexpr Handle kNoHandle = ~Handle{0};

// Times are milliseconds since the Unix epoch in 44 bits: enough until 2527.
inline constexpr int kTimeBits = 44;
inline constexpr std::uint64_t kTimeMask = (std::uint64_t{1} << kTimeBits) - 1;
inline constexpr std::uint64_t kMaxKeyLength = (std::uint64_t{1} << 17) - 1;

// Clamps a time into the 44-bit field; before the epoch counts as the epoch.
inline std::uint64_t ToMillis(TimePoint t) {
  const auto ms = t.time_since_epoch().count();
  if (ms <= 0) return 0;
  return static_cast<std::uint64_t>(ms) > kTimeMask ? kTimeMask : static_cast<std::uint64_t>(ms);
}
inline TimePoint FromMillis(std::uint64_t ms) {
  return TimePoint(std::chrono::milliseconds(static_cast<std::int64_t>(ms)));
}

// One cached entry: this 52-byte header, then the key, the value and, when
// present, the encoded metadata (metadata_codec.h), all in one arena slot.
// Every field is packed into 32-bit words so that the header has no padding;
// that is what holds the whole per-entry overhead under 64 bytes.
//
// Not thread-safe: a node is read and written under its shard's lock.
class Node {
 public:
  static constexpr std::size_t kHeaderBytes = 52;
  // The 20-bit field each policy may use for its own state.
  static constexpr std::uint32_t kPolicyMask = (1u << 20) - 1;

  // Bytes a node needs for this key, value and encoded metadata.
  static std::size_t Bytes(std::size_t key, std::size_t value, std::size_t metadata) {
    return kHeaderBytes + key + value + metadata;
  }

  // Sets every field for a fresh entry; times and counters start at zero.
  void Init(std::uint32_t ns, std::string_view key, std::string_view value) {
    std::memset(static_cast<void*>(this), 0, kHeaderBytes);
    prev_ = next_ = kNoHandle;
    ns_ = ns;
    key_len_ = static_cast<std::uint32_t>(key.size());
    value_len_ = static_cast<std::uint32_t>(value.size());
    std::memcpy(data(), key.data(), key.size());
    if (!value.empty()) std::memcpy(data() + key.size(), value.data(), value.size());
  }

  Handle prev() const { return prev_; }
  Handle next() const { return next_; }
  void set_prev(Handle h) { prev_ = h; }
  void set_next(Handle h) { next_ = h; }

  std::uint32_t ns() const { return ns_; }
  std::string_view key() const { return {data(), key_len_}; }
  std::string_view value() const { return {data() + key_len_, value_len_}; }
  // The encoded metadata, empty when the entry has none.
  std::string_view metadata() const {
    if (!has_metadata_) return {};
    std::uint32_t len;
    std::memcpy(&len, data() + key_len_ + value_len_, sizeof len);
    return {data() + key_len_ + value_len_, len};
  }
  char* metadata_area() { return data() + key_len_ + value_len_; }
  std::size_t bytes() const { return Bytes(key_len_, value_len_, metadata().size()); }

  std::uint64_t version() const { return Join(version_lo_, version_hi_); }
  void set_version(std::uint64_t v) { Split(v, &version_lo_, &version_hi_); }

  std::uint64_t created_ms() const { return Join(created_lo_, created_hi_); }
  void set_created_ms(std::uint64_t ms) {
    created_lo_ = Low(ms);
    created_hi_ = High(ms);
  }
  // 0: never expires.
  std::uint64_t expires_ms() const { return Join(expires_lo_, expires_hi_); }
  void set_expires_ms(std::uint64_t ms) {
    expires_lo_ = Low(ms);
    expires_hi_ = High(ms);
  }
  bool ExpiredAt(std::uint64_t now_ms) const {
    const std::uint64_t e = expires_ms();
    return e != 0 && e <= now_ms;
  }
  std::uint64_t last_access_ms() const { return Join(access_lo_, access_hi_); }
  void set_last_access_ms(std::uint64_t ms) {
    access_lo_ = Low(ms);
    access_hi_ = High(ms);
  }

  // 52 bits: the low 32 in their own word, the high 20 beside last_access.
  std::uint64_t access_count() const { return (std::uint64_t{count_hi_} << 32) | count_lo_; }
  void set_access_count(std::uint64_t n) {
    n = n > kMaxCount ? kMaxCount : n;
    count_lo_ = static_cast<std::uint32_t>(n);
    count_hi_ = static_cast<std::uint32_t>(n >> 32);
  }
  // Records one more access at `now_ms`.
  void Touch(std::uint64_t now_ms) {
    set_last_access_ms(now_ms);
    if (count_lo_ != ~std::uint32_t{0}) {
      ++count_lo_;
    } else {
      set_access_count(access_count() + 1);
    }
  }

  std::uint32_t policy_bits() const { return policy_; }
  void set_policy_bits(std::uint32_t bits) { policy_ = bits & kPolicyMask; }

  // A dirty entry is pinned: no policy sees it, so nothing evicts it.
  bool dirty() const { return dirty_ != 0; }
  void set_dirty(bool d) { dirty_ = d ? 1 : 0; }
  bool has_metadata() const { return has_metadata_ != 0; }
  void set_has_metadata(bool m) { has_metadata_ = m ? 1 : 0; }

 private:
  static constexpr std::uint64_t kMaxCount = (std::uint64_t{1} << 52) - 1;

  static std::uint64_t Join(std::uint32_t lo, std::uint32_t hi) {
    return (std::uint64_t{hi} << 32) | lo;
  }
  static void Split(std::uint64_t v, std::uint32_t* lo, std::uint32_t* hi) {
    *lo = static_cast<std::uint32_t>(v);
    *hi = static_cast<std::uint32_t>(v >> 32);
  }
  static std::uint32_t Low(std::uint64_t ms) { return static_cast<std::uint32_t>(ms); }
  static std::uint32_t High(std::uint64_t ms) {
    return static_cast<std::uint32_t>((ms & kTimeMask) >> 32);
  }

  char* data() { return reinterpret_cast<char*>(this) + kHeaderBytes; }
  const char* data() const { return reinterpret_cast<const char*>(this) + kHeaderBytes; }

  Handle prev_;
  Handle next_;
  std::uint32_t version_lo_;
  std::uint32_t version_hi_;
  std::uint32_t created_lo_;
  std::uint32_t created_hi_ : 12;
  std::uint32_t key_len_ : 17;
  std::uint32_t dirty_ : 1;
  std::uint32_t has_metadata_ : 1;
  std::uint32_t expires_lo_;
  std::uint32_t expires_hi_ : 12;
  std::uint32_t policy_ : 20;
  std::uint32_t access_lo_;
  std::uint32_t access_hi_ : 12;
  std::uint32_t count_hi_ : 20;
  std::uint32_t value_len_;
  std::uint32_t ns_;
  std::uint32_t count_lo_;
};

static_assert(sizeof(Node) == Node::kHeaderBytes, "the node header must stay packed");

}  // namespace tiercache::engine
