#include "storage/key_layout.h"

namespace tiercache::storage {
namespace {

// Writes the kNamespaceIdBytes big-endian bytes of `id` at `to`.
void PutNamespaceId(std::uint32_t id, char* to) {
  for (std::size_t i = 0; i < kNamespaceIdBytes; ++i) {
    to[kNamespaceIdBytes - 1 - i] = static_cast<char>((id >> (8 * i)) & 0xff);
  }
}

}  // namespace

std::string EncodeNamespaceId(std::uint32_t id) {
  std::string out(kNamespaceIdBytes, '\0');
  PutNamespaceId(id, out.data());
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
  AppendDataKey(id, key, out);
}

// In place rather than through EncodeNamespaceId: every key of a Get and a
// GetMany comes through here, and a temporary string per key showed in
// callgrind.
void AppendDataKey(std::uint32_t id, std::string_view key, std::string* out) {
  const std::size_t at = out->size();
  out->resize(at + kNamespaceIdBytes + key.size());
  PutNamespaceId(id, out->data() + at);
  key.copy(out->data() + at + kNamespaceIdBytes, key.size());
}

std::string EncodeU64(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xFF);
  return out;
}

std::optional<std::uint64_t> DecodeU64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
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
