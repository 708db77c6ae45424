#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tiercache/policies.h"
#include "tiercache/status.h"

namespace tiercache::storage {

// Compresses values with lz4 by the rule records follow: only when
// compression is on, the value is at least the threshold, and the block plus
// a 4-byte length field comes out smaller than the value. Each result is one
// lz4 block that LZ4_decompress_safe reads alone. Records use it, and so does
// the in-memory tier, which keeps values compressed too.
//
// Thread-safety: not thread-safe; one per thread.
class ValueCompressor {
 public:
  ValueCompressor(Compression compression, std::size_t threshold);
  ~ValueCompressor();
  ValueCompressor(const ValueCompressor&) = delete;
  ValueCompressor& operator=(const ValueCompressor&) = delete;

  // The lz4 block of `value`, valid until the next call; nullopt when the
  // value is to be kept as it is.
  std::optional<std::string_view> Compress(std::string_view value);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Replaces *value with the `length` bytes the lz4 block decompresses to;
// Corruption when it is not valid lz4 or does not make exactly that many.
// REQUIRES: length has been checked against the caller's limits.
[[nodiscard]] Status DecompressValue(std::string_view block, std::uint32_t length,
                                     std::string* value);

}  // namespace tiercache::storage
