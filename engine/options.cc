#include "tiercache/options.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <bit>

namespace tiercache {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kMinL1Bytes = 64 * 1024;
constexpr std::size_t kMaxL1Bytes = std::size_t{1} << 50;
constexpr std::size_t kMaxL1Entries = std::size_t{1} << 40;
constexpr std::size_t kMaxShards = 1024;
constexpr std::size_t kMaxBufferEntries = 10'000'000;
constexpr std::uint64_t kMinReserve = 1024 * 1024;
constexpr std::uint64_t kMaxReserve = std::uint64_t{1} << 40;
constexpr milliseconds kMaxTtl = std::chrono::hours(24 * 365 * 100);
constexpr milliseconds kMaxFlushInterval = std::chrono::hours(1);
constexpr milliseconds kMaxWriterWait = std::chrono::minutes(1);
constexpr milliseconds kMaxNegativeTtl = std::chrono::hours(24);
constexpr milliseconds kMaxLoadWait = std::chrono::hours(24);
constexpr milliseconds kMaxRefreshAfterWrite = std::chrono::hours(24 * 365);
constexpr std::size_t kMaxRefreshThreads = 64;

template <typename T>
Status OutOfRange(std::string_view field, const T& value, std::string_view range) {
  return Status::InvalidArgument(
      fmt::format("Options::{} = {} is out of range: {}", field, value, range));
}

// An enum field holds one of its named values; one cast from an integer out
// of range has none.
template <typename E>
Status CheckNamed(std::string_view field, E value, std::optional<E> (*parse)(std::string_view),
                  std::string_view choices) {
  if (parse(Name(value)) == value) return Status::OK();
  return OutOfRange(field, static_cast<int>(value), fmt::format("must be {}", choices));
}

Status ValidateChoices(const Options& o) {
  for (Status s : {
           CheckNamed("write_policy", o.write_policy, ParseWritePolicy,
                      "kWriteThrough, kWriteBehind or kWriteAround"),
           CheckNamed("read_policy", o.read_policy, ParseReadPolicy, "kReadThrough or kCacheAside"),
           CheckNamed("eviction", o.eviction, ParseEvictionPolicy,
                      "kLRU, kLFU, kFIFO, kTTL or kAdaptive"),
           CheckNamed("durability", o.durability, ParseDurability, "kProcessCrash or kPowerLoss"),
           CheckNamed("compression", o.compression, ParseCompression, "kNone or kLz4"),
       }) {
    if (!s.ok()) return s;
  }
  if (o.on_corrupt_record != CorruptRecordAction::kReportCorruption &&
      o.on_corrupt_record != CorruptRecordAction::kTreatAsMiss) {
    return OutOfRange("on_corrupt_record", static_cast<int>(o.on_corrupt_record),
                      "must be kReportCorruption or kTreatAsMiss");
  }
  return Status::OK();
}

Status ValidateL1(const Options& o) {
  if (o.l1_max_entries < 1 || o.l1_max_entries > kMaxL1Entries) {
    return OutOfRange("l1_max_entries", o.l1_max_entries, "must be 1 .. 2^40");
  }
  if (o.l1_max_bytes < kMinL1Bytes || o.l1_max_bytes > kMaxL1Bytes) {
    return OutOfRange("l1_max_bytes", o.l1_max_bytes, "must be 64 KiB .. 2^50");
  }
  if (o.l1_shards < 1 || o.l1_shards > kMaxShards || !std::has_single_bit(o.l1_shards)) {
    return OutOfRange("l1_shards", o.l1_shards, "must be a power of two, 1 .. 1024");
  }
  if (o.l1_shards > o.l1_max_entries) {
    return OutOfRange("l1_shards", o.l1_shards,
                      fmt::format("must not exceed l1_max_entries ({})", o.l1_max_entries));
  }
  return Status::OK();
}

Status ValidateValues(const Options& o) {
  if (o.default_ttl < milliseconds(0) || o.default_ttl > kMaxTtl) {
    return OutOfRange("default_ttl", o.default_ttl, "must be 0 (never expires) .. 100 years");
  }
  if (o.max_value_bytes < 1 || o.max_value_bytes > kMaxValueBytes) {
    return OutOfRange("max_value_bytes", o.max_value_bytes, "must be 1 .. 256 MiB");
  }
  if (o.compression_threshold < 1 || o.compression_threshold > o.max_value_bytes) {
    return OutOfRange("compression_threshold", o.compression_threshold,
                      fmt::format("must be 1 .. max_value_bytes ({})", o.max_value_bytes));
  }
  if (o.negative_ttl < milliseconds(0) || o.negative_ttl > kMaxNegativeTtl) {
    return OutOfRange("negative_ttl", o.negative_ttl, "must be 0 (not remembered) .. 1 day");
  }
  if (o.load_wait_timeout < milliseconds(0) || o.load_wait_timeout > kMaxLoadWait) {
    return OutOfRange("load_wait_timeout", o.load_wait_timeout, "must be 0 (no limit) .. 1 day");
  }
  if (o.refresh_after_write < milliseconds(0) || o.refresh_after_write > kMaxRefreshAfterWrite) {
    return OutOfRange("refresh_after_write", o.refresh_after_write,
                      "must be 0 (never refreshed) .. 365 days");
  }
  if (o.refresh_threads < 1 || o.refresh_threads > kMaxRefreshThreads) {
    return OutOfRange("refresh_threads", o.refresh_threads, "must be 1 .. 64");
  }
  if (o.free_space_reserve < kMinReserve || o.free_space_reserve > kMaxReserve) {
    return OutOfRange("free_space_reserve", o.free_space_reserve, "must be 1 MiB .. 1 TiB");
  }
  return Status::OK();
}

// Under write-behind only: the other policies ignore the buffer, so that a
// small L1 under write-through needs no buffer setting it never uses.
Status ValidateWriteBuffer(const Options& o) {
  const WriteBufferOptions& b = o.write_buffer;
  if (b.max_entries < 1 || b.max_entries > kMaxBufferEntries) {
    return OutOfRange("write_buffer.max_entries", b.max_entries, "must be 1 .. 10,000,000");
  }
  if (b.max_bytes > o.l1_max_bytes) {
    return OutOfRange("write_buffer.max_bytes", b.max_bytes,
                      fmt::format("the write buffer must fit in the memory budget "
                                  "l1_max_bytes ({})",
                                  o.l1_max_bytes));
  }
  if (b.max_bytes < o.max_value_bytes) {
    return OutOfRange("write_buffer.max_bytes", b.max_bytes,
                      fmt::format("write-behind could never buffer a value of "
                                  "max_value_bytes ({}); lower max_value_bytes or "
                                  "raise the buffer",
                                  o.max_value_bytes));
  }
  if (b.flush_interval < milliseconds(1) || b.flush_interval > kMaxFlushInterval) {
    return OutOfRange("write_buffer.flush_interval", b.flush_interval,
                      "must be 1 ms .. 1 hour");
  }
  if (b.max_wait < milliseconds(0) || b.max_wait > kMaxWriterWait) {
    return OutOfRange("write_buffer.max_wait", b.max_wait, "must be 0 .. 1 minute");
  }
  return Status::OK();
}

}  // namespace

Status Options::Validate() const {
  if (path.empty()) {
    return Status::InvalidArgument("Options::path is empty: name the store's directory");
  }
  if (Status s = ValidateChoices(*this); !s.ok()) return s;
  if (read_policy == ReadPolicy::kReadThrough && !loader) {
    return Status::InvalidArgument(
        "Options::read_policy = read-through needs Options::loader, which is empty");
  }
  for (Status s : {ValidateL1(*this), ValidateValues(*this)}) {
    if (!s.ok()) return s;
  }
  if (refresh_after_write.count() > 0 && read_policy != ReadPolicy::kReadThrough) {
    return Status::InvalidArgument(
        "Options::refresh_after_write is set, but only read-through refreshes (it calls "
        "Options::loader): set read_policy = read-through, or leave refresh_after_write 0");
  }
  if (write_policy == WritePolicy::kWriteBehind) return ValidateWriteBuffer(*this);
  return Status::OK();
}

}  // namespace tiercache
