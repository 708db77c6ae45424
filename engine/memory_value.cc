#include "engine/memory_value.h"

#include <cstdint>
#include <cstring>
#include <optional>

namespace tiercache::engine {

void ToMemoryForm(storage::ValueCompressor& compressor, std::string_view value,
                  std::string* out) {
  out->clear();
  const std::optional<std::string_view> block = compressor.Compress(value);
  if (!block) {
    out->reserve(1 + value.size());
    out->push_back(kMemoryRaw);
    out->append(value);
    return;
  }
  const auto length = static_cast<std::uint32_t>(value.size());
  char length_bytes[sizeof length];
  std::memcpy(length_bytes, &length, sizeof length);
  out->reserve(1 + sizeof length + block->size());
  out->push_back(kMemoryLz4);
  out->append(length_bytes, sizeof length);
  out->append(*block);
}

Status FromMemoryForm(std::string* value) {
  if (!value->empty() && (*value)[0] == kMemoryRaw) {
    value->erase(0, 1);
    return Status::OK();
  }
  std::uint32_t length = 0;
  if (value->size() < 1 + sizeof length || (*value)[0] != kMemoryLz4) {
    return Status::Corruption("an in-memory value has no valid form tag");
  }
  std::memcpy(&length, value->data() + 1, sizeof length);
  thread_local std::string plain;
  Status s = storage::DecompressValue(std::string_view(*value).substr(1 + sizeof length), length,
                                      &plain);
  if (s.ok()) value->swap(plain);
  return s;
}

}  // namespace tiercache::engine
