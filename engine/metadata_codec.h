#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace tiercache::engine {

// Entry metadata as the node stores it, after the value:
//   u32 total bytes | u32 pairs | per pair: u32 key length, key, u32 value length, value
// (host byte order: it never leaves memory). Metadata changes only with a new
// version of an entry, so it is encoded once and never edited in place.
using Metadata = std::map<std::string, std::string>;

// Bytes EncodeMetadata writes; 0 for no metadata.
std::size_t MetadataBytes(const Metadata& metadata);
// REQUIRES: `out` has MetadataBytes(metadata) bytes.
void EncodeMetadata(const Metadata& metadata, char* out);
// REQUIRES: `encoded` was written by EncodeMetadata.
void DecodeMetadata(const char* encoded, Metadata* out);

}  // namespace tiercache::engine
