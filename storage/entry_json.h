#pragma once

// Storage-internal: an entry as one line of JSON, the format of `tiercache
// dump` (which writes it), `load` (which reads it back), `get --json` and
// `ls --json` (DESIGN.md, "Machine-readable output"). Dump and load share this
// code so that dump, load, dump gives the same lines.
//
//   {"namespace": "users", "key": "k1", "key_encoding": "utf8",
//    "value": "aGk=", "value_encoding": "base64", "version": 3,
//    "created_at": 1700000000000, "expires_at": null,
//    "last_accessed": 1700000000000, "access_count": 2,
//    "metadata": {"content-type": "text/plain"}}
//
// Times are integers, milliseconds since the Unix epoch; expires_at is null
// for an entry that never expires. Key and value are written as they are when
// they are UTF-8, else in base64, as their "*_encoding" field says. A
// namespace name or metadata that is not UTF-8 (rare: both are usually text)
// is written in base64 too, and only then the line also holds
// "namespace_encoding": "base64" or "metadata_encoding": "base64" (every
// metadata name and value encoded).

#include <string>
#include <string_view>

#include "tiercache/entry.h"
#include "tiercache/status.h"

namespace tiercache::storage {

// One line of a dump: an entry and the name of its namespace.
struct NamedEntry {
  std::string ns;
  Entry entry;
};

// Replaces *line with the JSON object of `entry` in namespace `ns`, without a
// newline. Fails only when memory runs out.
[[nodiscard]] Status EntryToJsonLine(std::string_view ns, const Entry& entry, std::string* line);

// The same object without "value", plus "value_bytes" (its length): what `ls
// --json` prints.
[[nodiscard]] Status EntrySummaryToJsonLine(std::string_view ns, const Entry& entry,
                                            std::string* line);

// Parses a line that EntryToJsonLine wrote into *out. InvalidArgument naming
// the problem (JSON syntax, a missing, unknown or mistyped field, bad base64,
// a version outside kMinVersion .. kMaxVersion) otherwise; *out is then
// unspecified.
[[nodiscard]] Status ParseEntryJsonLine(std::string_view line, NamedEntry* out);

}  // namespace tiercache::storage
