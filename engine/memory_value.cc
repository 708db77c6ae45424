#include "engine/memory_value.h"

#include <cstdint>
#include <cstring>

#include "storage/value_compressor.h"

namespace tiercache::engine {

void ToMemoryForm(const storage::StoredValue& stored, std::string* out) {
  out->clear();
  if (stored.codec != storage::kCodecLz4) {
    out->reserve(1 + stored.bytes.size());
    out->push_back(kMemoryRaw);
    out->append(stored.bytes);
    return;
  }
  const std::uint32_t length = stored.value_length;
  char length_bytes[sizeof length];
  std::memcpy(length_bytes, &length, sizeof length);
  out->reserve(1 + sizeof length + stored.bytes.size());
  out->push_back(kMemoryLz4);
  out->append(length_bytes, sizeof length);
  out->append(stored.bytes);
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
