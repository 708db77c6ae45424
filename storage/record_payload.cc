#include "storage/record_payload.h"

#include <fmt/format.h>

#include <boost/serialization/level.hpp>
#include <boost/serialization/split_member.hpp>
#include <boost/serialization/tracking.hpp>
#include <chrono>
#include <map>
#include <utility>

#include "storage/record_format.h"
#include "storage/value_compressor.h"

namespace tiercache::storage {
namespace {

// Archive flags: no archive header (the record header has the versions) and
// no locale work.
constexpr unsigned kArchiveFlags = boost::archive::no_header | boost::archive::no_codecvt;

// LZ4 cannot expand a block more than 255 times; a longer claimed length is a lie.
constexpr std::uint64_t kMaxLz4Ratio = 255;

using Milliseconds = std::chrono::milliseconds;

// The payload of a record as a Boost-serializable object: a view of an entry
// with its value in stored form. Saving writes from a const Entry; loading
// fills an Entry and checks every length against the bytes left in `source`
// before allocating. Lives for one Write or Read.
class RecordPayload {
 public:
  RecordPayload(const Entry* entry, const StoredValue& value) : in_(entry), stored_(value) {}
  RecordPayload(Entry* entry, std::uint8_t codec, SpanSource* source)
      : out_(entry), source_(source) {
    stored_.codec = codec;
  }

  // After a load: the value as the payload stored it.
  StoredValue stored() const {
    if (stored_.codec == kCodecLz4) return stored_;
    return {kCodecNone, 0, out_->value};
  }

 private:
  friend class boost::serialization::access;

  void save(boost::archive::binary_oarchive& ar, unsigned int) const;
  void load(boost::archive::binary_iarchive& ar, unsigned int);
  BOOST_SERIALIZATION_SPLIT_MEMBER()

  void SaveBytes(boost::archive::binary_oarchive& ar, std::string_view bytes) const;

  template <typename T>
  T Read(boost::archive::binary_iarchive& ar, const char* what);
  std::uint32_t ReadLength(boost::archive::binary_iarchive& ar, const char* what);
  std::uint32_t ReadValueLength(boost::archive::binary_iarchive& ar, const char* what,
                                bool ends_payload);
  void ReadString(boost::archive::binary_iarchive& ar, const char* what, std::string* s);
  std::uint8_t LoadVersion(boost::archive::binary_iarchive& ar);
  // ends_payload: no length before the stored value, which takes every byte left.
  void LoadValue(boost::archive::binary_iarchive& ar, bool ends_payload);
  void LoadCompressedValue(boost::archive::binary_iarchive& ar, bool ends_payload);
  void LoadMetadata(boost::archive::binary_iarchive& ar);

  const Entry* in_ = nullptr;
  Entry* out_ = nullptr;
  StoredValue stored_;
  SpanSource* source_ = nullptr;
};

}  // namespace
}  // namespace tiercache::storage

// No class information and no object tracking: the payload version is written
// explicitly (record_format.h says why), and nothing stays in the archive.
BOOST_CLASS_IMPLEMENTATION(tiercache::storage::RecordPayload,
                           boost::serialization::object_serializable)
BOOST_CLASS_TRACKING(tiercache::storage::RecordPayload, boost::serialization::track_never)

namespace tiercache::storage {
namespace {

void RecordPayload::save(boost::archive::binary_oarchive& ar, unsigned int) const {
  const bool access_data = in_->access_count != 0 || in_->last_accessed != in_->created_at;
  const bool metadata = !in_->metadata.empty();
  const std::uint8_t present =
      (access_data ? kPayloadHasAccessData : 0) | (metadata ? kPayloadHasMetadata : 0);
  ar << kPayloadVersion;
  ar << present;
  ar << static_cast<std::int64_t>(in_->created_at.time_since_epoch().count());
  if (access_data) {
    ar << static_cast<std::int64_t>(in_->last_accessed.time_since_epoch().count());
    ar << static_cast<std::uint64_t>(in_->access_count);
  }
  if (stored_.codec == kCodecLz4) ar << stored_.value_length;
  if (!metadata) {
    // The value ends the payload: the record's size gives its length.
    ar.save_binary(stored_.bytes.data(), stored_.bytes.size());
    return;
  }
  SaveBytes(ar, stored_.bytes);
  ar << static_cast<std::uint32_t>(in_->metadata.size());
  for (const auto& [key, value] : in_->metadata) {
    SaveBytes(ar, key);
    SaveBytes(ar, value);
  }
}

void RecordPayload::SaveBytes(boost::archive::binary_oarchive& ar, std::string_view bytes) const {
  ar << static_cast<std::uint32_t>(bytes.size());
  ar.save_binary(bytes.data(), bytes.size());
}

void RecordPayload::load(boost::archive::binary_iarchive& ar, unsigned int) {
  // Version 1 holds every field.
  std::uint8_t present = kPayloadHasAccessData | kPayloadHasMetadata;
  const std::uint8_t version = LoadVersion(ar);
  if (version >= 2) {
    present = Read<std::uint8_t>(ar, "present fields");
    if ((present & ~kPayloadPresentMask) != 0) {
      throw PayloadCorruption(
          fmt::format("record: present-fields byte 0x{:02x} has unknown bits set", present));
    }
  }
  out_->created_at = TimePoint(Milliseconds(Read<std::int64_t>(ar, "created_at")));
  if ((present & kPayloadHasAccessData) != 0) {
    out_->last_accessed = TimePoint(Milliseconds(Read<std::int64_t>(ar, "last_accessed")));
    out_->access_count = Read<std::uint64_t>(ar, "access_count");
  } else {
    out_->last_accessed = out_->created_at;
    out_->access_count = 0;
  }
  // From version 3 a value with no metadata after it ends the payload.
  LoadValue(ar, version >= 3 && (present & kPayloadHasMetadata) == 0);
  if ((present & kPayloadHasMetadata) != 0) {
    LoadMetadata(ar);
  } else {
    out_->metadata.clear();
  }
}

// Checks that the field is all there first, so that Boost never runs out of
// input and the message says which field was cut.
template <typename T>
T RecordPayload::Read(boost::archive::binary_iarchive& ar, const char* what) {
  if (source_->remaining() < sizeof(T)) {
    throw PayloadCorruption(fmt::format("record: payload ends inside {} ({} of {} bytes left)",
                                        what, source_->remaining(), sizeof(T)));
  }
  T value;
  ar >> value;
  return value;
}

// A length of bytes that follow it in the payload: at most what is left.
std::uint32_t RecordPayload::ReadLength(boost::archive::binary_iarchive& ar, const char* what) {
  const std::uint32_t length = Read<std::uint32_t>(ar, what);
  if (length > source_->remaining()) {
    throw PayloadCorruption(fmt::format("record: {} {} exceeds the {} payload bytes left", what,
                                        length, source_->remaining()));
  }
  return length;
}

// The stored value's length: written before it, or all that is left.
std::uint32_t RecordPayload::ReadValueLength(boost::archive::binary_iarchive& ar,
                                             const char* what, bool ends_payload) {
  if (!ends_payload) return ReadLength(ar, what);
  // Bounded by the payload, itself at most kMaxPayloadBytes.
  return static_cast<std::uint32_t>(source_->remaining());
}

void RecordPayload::ReadString(boost::archive::binary_iarchive& ar, const char* what,
                               std::string* s) {
  s->resize(ReadLength(ar, what));
  ar.load_binary(s->data(), s->size());
}

std::uint8_t RecordPayload::LoadVersion(boost::archive::binary_iarchive& ar) {
  const auto version = Read<std::uint8_t>(ar, "payload version");
  if (version > kPayloadVersion) {
    throw PayloadCorruption(fmt::format(
        "record payload version {} is newer than this tiercache ({})", version, kPayloadVersion));
  }
  if (version == 0) throw PayloadCorruption("record: payload version 0 is not valid");
  return version;
}

void RecordPayload::LoadValue(boost::archive::binary_iarchive& ar, bool ends_payload) {
  if (stored_.codec == kCodecLz4) return LoadCompressedValue(ar, ends_payload);
  const std::uint32_t length = ReadValueLength(ar, "value length", ends_payload);
  if (length > kMaxValueBytes) {
    throw PayloadCorruption(
        fmt::format("record: value length {} exceeds the maximum {}", length, kMaxValueBytes));
  }
  out_->value.resize(length);
  ar.load_binary(out_->value.data(), length);
}

// Both lengths are bounded before the value is allocated: by the hard maximum
// and by what lz4 can expand the bytes actually present to.
void RecordPayload::LoadCompressedValue(boost::archive::binary_iarchive& ar, bool ends_payload) {
  const std::uint32_t length = Read<std::uint32_t>(ar, "uncompressed value length");
  const std::uint32_t stored = ReadValueLength(ar, "compressed value length", ends_payload);
  if (length > kMaxValueBytes) {
    throw PayloadCorruption(fmt::format(
        "record: uncompressed value length {} exceeds the maximum {}", length, kMaxValueBytes));
  }
  if (length > kMaxLz4Ratio * stored) {
    throw PayloadCorruption(fmt::format(
        "record: uncompressed value length {} is more than {} times its {} compressed bytes",
        length, kMaxLz4Ratio, stored));
  }
  stored_.value_length = length;
  stored_.bytes = source_->Take(stored);
  const Status s = DecompressValue(stored_.bytes, length, &out_->value);
  if (!s.ok()) throw PayloadCorruption("record: " + s.message());
}

// Keys strictly ascending, as a std::map writes them: a repeated key would
// otherwise be dropped silently, and the order makes every record canonical.
void RecordPayload::LoadMetadata(boost::archive::binary_iarchive& ar) {
  const std::uint32_t count = Read<std::uint32_t>(ar, "metadata count");
  if (count > source_->remaining() / kMetadataItemOverhead) {
    throw PayloadCorruption(
        fmt::format("record: metadata count {} needs more than the {} payload bytes left", count,
                    source_->remaining()));
  }
  out_->metadata.clear();
  std::size_t bytes = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string key, value;
    ReadString(ar, "metadata key length", &key);
    ReadString(ar, "metadata value length", &value);
    if (!out_->metadata.empty() && key <= out_->metadata.rbegin()->first) {
      throw PayloadCorruption(
          fmt::format("record: metadata key \"{}\" is out of order or repeated", key));
    }
    bytes += key.size() + value.size() + kMetadataItemOverhead;
    if (bytes > kMaxMetadataBytes) {
      throw PayloadCorruption(
          fmt::format("record: metadata exceeds the maximum of {} bytes", kMaxMetadataBytes));
    }
    out_->metadata.emplace_hint(out_->metadata.end(), std::move(key), std::move(value));
  }
}

}  // namespace

PayloadWriter::PayloadWriter() : archive_(sink_, kArchiveFlags) {}

void PayloadWriter::Write(const Entry& entry, const StoredValue& value, std::string* out) {
  sink_.Reset(out);
  archive_ << RecordPayload(&entry, value);
}

PayloadReader::PayloadReader() : archive_(source_, kArchiveFlags) {}

StoredValue PayloadReader::Read(std::string_view payload, std::uint8_t codec, Entry* entry) {
  source_.Reset(payload);
  RecordPayload record_payload(entry, codec, &source_);
  archive_ >> record_payload;
  if (source_.remaining() != 0) {
    throw PayloadCorruption(
        fmt::format("record: {} bytes follow the payload's last field", source_.remaining()));
  }
  return record_payload.stored();
}

}  // namespace tiercache::storage
