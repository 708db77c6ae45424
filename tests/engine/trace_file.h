#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tiercache::engine {

// Reads one of the reference traces (../shared/traces/README.md) as a list of
// keys, decoding by the file's name: lirs/*.trace.gz (text, '*' lines
// skipped), arc/*.lis.zst ('start count ...': count keys from start) and
// cache2k/*.trace.xz (big-endian int32 per request). Decompression runs the
// gzip, zstd or xz command. False with a message in *error on failure.
bool ReadTrace(const std::string& path, std::vector<std::int64_t>* keys, std::string* error);

}  // namespace tiercache::engine
