#pragma once

// The machine-readable side of the subcommands' output: one JSON object per
// line on stdout (DESIGN.md, "Machine-readable output").

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tiercache::tool {

// Ordered, so that fields come out in the order the code adds them.
using JsonObject = nlohmann::ordered_json;

// Sets object[field] to `bytes` as they are when they are UTF-8, else in
// base64, and object[field + "_encoding"] to "utf8" or "base64".
void PutBytes(JsonObject& object, const std::string& field, std::string_view bytes);

// Prints `object` on one line of stdout.
void PrintJsonLine(const JsonObject& object);

}  // namespace tiercache::tool
