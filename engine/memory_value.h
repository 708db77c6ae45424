#pragma once

#include <string>
#include <string_view>

#include "storage/record_format.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// How L1 holds a value when compression is on, so that compressed values
// take their compressed size in memory too: a tag byte, then either the
// value as it is (kRaw) or its length (u32, little-endian) and its lz4 block
// (kLz4). Without compression L1 holds values as they are, untagged.
inline constexpr char kMemoryRaw = 0;
inline constexpr char kMemoryLz4 = 1;

// Replaces *out with the L1 form of a value as its record stores it: L1
// compresses by the record's rule, so the record's lz4 block serves both and
// no value is compressed twice.
void ToMemoryForm(const storage::StoredValue& stored, std::string* out);

// Turns *value, in L1 form, back into the value. Corruption when it is not
// a well-formed L1 form (which only a bug in the cache can make).
[[nodiscard]] Status FromMemoryForm(std::string* value);

}  // namespace tiercache::engine
