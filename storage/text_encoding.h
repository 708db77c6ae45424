#pragma once

// Storage-internal: how bytes that may not be text are written into JSON
// lines (storage/entry_json.h). Base64 is RFC 4648's standard alphabet with
// padding; no line breaks.

#include <string>
#include <string_view>

namespace tiercache::storage {

// True when `bytes` is well-formed UTF-8 (Unicode 15, table 3-7): no overlong
// forms, no surrogates, nothing above U+10FFFF. What a JSON string can carry
// as it is.
bool IsValidUtf8(std::string_view bytes);

// `bytes` for a message or a terminal: as it is when it is UTF-8 without
// control characters, else with every byte outside printable ASCII, and every
// backslash, written as \xNN.
std::string Printable(std::string_view bytes);

// The base64 text of `bytes`.
std::string Base64Encode(std::string_view bytes);

// Replaces *bytes with what `text` encodes. False, leaving *bytes unspecified,
// unless `text` is canonical base64: a multiple of 4 characters from the
// standard alphabet, '=' only as padding, unused bits zero. Canonical only, so
// that decoding and encoding again gives the same text.
// REQUIRES: `text` does not view *bytes.
[[nodiscard]] bool Base64Decode(std::string_view text, std::string* bytes);

}  // namespace tiercache::storage
