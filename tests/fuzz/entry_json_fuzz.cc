// libFuzzer target: any bytes through ParseEntryJsonLine, the parser of
// `tiercache load`. A line it refuses must be InvalidArgument with a message
// that names the problem (the JSON syntax, or the field at fault);
// an entry it accepts must survive EntryToJsonLine and ParseEntryJsonLine
// again unchanged, namespace and key included, and dump to the same line the
// second time as the first.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/entry_json.h"
#include "tests/fuzz/same_fields.h"

namespace {

using tiercache::Status;
using tiercache::fuzz::SameFields;
using namespace tiercache::storage;

bool SameEntry(const NamedEntry& a, const NamedEntry& b) {
  return a.ns == b.ns && a.entry.key == b.entry.key && SameFields(a.entry, b.entry);
}

std::string Dumped(const NamedEntry& named) {
  std::string line;
  if (!EntryToJsonLine(named.ns, named.entry, &line).ok()) std::abort();
  return line;
}

// ParseEntryJsonLine quotes the field it refuses; the other refusals say
// what is wrong with the line as a whole.
bool NamesTheProblem(std::string_view message) {
  return message.starts_with("not valid JSON: ") || message == "not a JSON object" ||
         message.find('"') != std::string_view::npos;
}

void CheckRedumps(const NamedEntry& named) {
  const std::string line = Dumped(named);
  NamedEntry again;
  if (!ParseEntryJsonLine(line, &again).ok() || !SameEntry(named, again)) std::abort();
  if (Dumped(again) != line) std::abort();
}

void CheckLine(std::string_view line) {
  NamedEntry named;
  const Status parsed = ParseEntryJsonLine(line, &named);
  if (!parsed.ok()) {
    if (!parsed.IsInvalidArgument() || !NamesTheProblem(parsed.message())) std::abort();
    return;
  }
  CheckRedumps(named);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CheckLine(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
