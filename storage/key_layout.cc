#include "storage/key_layout.h"

namespace tiercache::storage {

std::string EncodeNamespaceId(std::uint32_t id) {
  std::string out(kNamespaceIdBytes, '\0');
  for (std::size_t i = 0; i < kNamespaceIdBytes; ++i) {
    out[kNamespaceIdBytes - 1 - i] = static_cast<char>((id >> (8 * i)) & 0xff);
  }
  return out;
}

std::optional<std::uint32_t> DecodeNamespaceId(std::string_view bytes) {
  if (bytes.size() != kNamespaceIdBytes) return std::nullopt;
  std::uint32_t id = 0;
  for (unsigned char byte : bytes) id = (id << 8) | byte;
  return id;
}

void EncodeDataKey(std::uint32_t id, std::string_view key, std::string* out) {
  out->clear();
  out->reserve(kNamespaceIdBytes + key.size());
  out->append(EncodeNamespaceId(id));
  out->append(key);
}

std::string NamespaceMetaKey(std::string_view name) {
  std::string key(kNamespaceKeyPrefix);
  key.append(name);
  return key;
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string successor(prefix);
  while (!successor.empty() && static_cast<unsigned char>(successor.back()) == 0xff) {
    successor.pop_back();
  }
  if (successor.empty()) return std::nullopt;
  successor.back() = static_cast<char>(static_cast<unsigned char>(successor.back()) + 1);
  return successor;
}

}  // namespace tiercache::storage
