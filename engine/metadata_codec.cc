#include "engine/metadata_codec.h"

#include <cstdint>
#include <cstring>
#include <string_view>

namespace tiercache::engine {
namespace {

char* PutU32(char* out, std::size_t v) {
  const auto u = static_cast<std::uint32_t>(v);
  std::memcpy(out, &u, sizeof u);
  return out + sizeof u;
}

const char* GetU32(const char* in, std::uint32_t* v) {
  std::memcpy(v, in, sizeof *v);
  return in + sizeof *v;
}

const char* GetString(const char* in, std::string* s) {
  std::uint32_t len;
  in = GetU32(in, &len);
  s->assign(in, len);
  return in + len;
}

}  // namespace

std::size_t MetadataBytes(const Metadata& metadata) {
  if (metadata.empty()) return 0;
  std::size_t bytes = 8;
  for (const auto& [k, v] : metadata) bytes += 8 + k.size() + v.size();
  return bytes;
}

void EncodeMetadata(const Metadata& metadata, char* out) {
  out = PutU32(out, MetadataBytes(metadata));
  out = PutU32(out, metadata.size());
  for (const auto& [k, v] : metadata) {
    out = PutU32(out, k.size());
    std::memcpy(out, k.data(), k.size());
    out = PutU32(out + k.size(), v.size());
    std::memcpy(out, v.data(), v.size());
    out += v.size();
  }
}

void DecodeMetadata(const char* encoded, Metadata* out) {
  out->clear();
  std::uint32_t total;
  std::uint32_t pairs;
  encoded = GetU32(GetU32(encoded, &total), &pairs);
  std::string key;
  std::string value;
  for (std::uint32_t i = 0; i < pairs; ++i) {
    encoded = GetString(GetString(encoded, &key), &value);
    out->emplace_hint(out->end(), key, value);
  }
}

}  // namespace tiercache::engine
