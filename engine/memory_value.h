#pragma once

#include <string>
#include <string_view>

#include "storage/value_compressor.h"
#include "tiercache/status.h"

namespace tiercache::engine {

// How L1 holds a value when compression is on, so that compressed values
// take their compressed size in memory too: a tag byte, then either the
// value as it is (kRaw) or its length (u32, little-endian) and its lz4 block
// (kLz4). Without compression L1 holds values as they are, untagged.
inline constexpr char kMemoryRaw = 0;
inline constexpr char kMemoryLz4 = 1;

// Replaces *out with the L1 form of `value`.
void ToMemoryForm(storage::ValueCompressor& compressor, std::string_view value,
                  std::string* out);

// Turns *value, in L1 form, back into the value. Corruption when it is not
// a well-formed L1 form (which only a bug in the cache can make).
[[nodiscard]] Status FromMemoryForm(std::string* value);

}  // namespace tiercache::engine
