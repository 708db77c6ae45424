#pragma once

// The payload half of a record (storage/record_format.h has its layout): the
// Boost.Serialization side, kept apart so that the header code needs no Boost.

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "storage/record_format.h"
#include "storage/record_streambuf.h"
#include "tiercache/entry.h"

namespace tiercache::storage {

// A malformed payload, with a message naming the problem. Thrown by
// PayloadReader and turned into Status::Corruption by DecodeRecord: it never
// leaves storage/.
class PayloadCorruption : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes payloads through one binary archive that lives as long as the writer:
// a payload holds no archive state (no class information, no tracking), so
// every payload written is self-contained.
//
// Thread-safety: not thread-safe.
class PayloadWriter {
 public:
  PayloadWriter();

  // Appends the payload of `entry` to *out with its value as `value` says.
  // May throw std::bad_alloc or boost::archive::archive_exception.
  void Write(const Entry& entry, const StoredValue& value, std::string* out);

 private:
  StringSink sink_;
  boost::archive::binary_oarchive archive_;
};

// Reads payloads through one binary archive that lives as long as the reader.
// Every length is checked against the bytes left (and the hard limits) before
// anything is allocated for it; lz4 sees a value only after its lengths pass.
//
// Thread-safety: not thread-safe.
class PayloadReader {
 public:
  PayloadReader();

  // Fills the payload fields of *entry (value, created_at, last_accessed,
  // access_count, metadata) from `payload`, whose value uses `codec`, and
  // returns the value as stored: an lz4 block is a view into `payload`, an
  // uncompressed value one into entry->value. Throws PayloadCorruption (or
  // boost::archive::archive_exception) when the payload is malformed, leaving
  // *entry unspecified.
  StoredValue Read(std::string_view payload, std::uint8_t codec, Entry* entry);

 private:
  SpanSource source_;
  boost::archive::binary_iarchive archive_;
};

}  // namespace tiercache::storage
