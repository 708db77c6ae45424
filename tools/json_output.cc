#include "tools/json_output.h"

#include <iostream>

#include "storage/text_encoding.h"

namespace tiercache::tool {

void PutBytes(JsonObject& object, const std::string& field, std::string_view bytes) {
  const bool text = storage::IsValidUtf8(bytes);
  object[field] = text ? std::string(bytes) : storage::Base64Encode(bytes);
  object[field + "_encoding"] = text ? "utf8" : "base64";
}

void PrintJsonLine(const JsonObject& object) {
  // Every string put in is UTF-8 (PutBytes sees to it); `replace` only makes
  // sure that dump() cannot throw.
  std::cout << object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace tiercache::tool
