// `tiercache get DIR NS KEY [--json]`: one entry, its value and every field.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "storage/entry_json.h"
#include "storage/inspect.h"
#include "storage/text_encoding.h"
#include "tools/command.h"
#include "tools/human.h"
#include "tools/open_store.h"

namespace tiercache::tool {
namespace {

struct GetFlags {
  std::string dir;
  std::string ns;
  std::string key;
  bool base64_key = false;
  bool json = false;
};

// Text a terminal shows as it is: UTF-8 without control characters other
// than line breaks and tabs.
bool IsPrintable(std::string_view value) {
  const auto is_control = [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\n' && c != '\t' && c != '\r') || byte == 0x7F;
  };
  return storage::IsValidUtf8(value) && std::none_of(value.begin(), value.end(), is_control);
}

// 16 bytes a line: offset, bytes in hex, the printable ones as ASCII.
void PrintHexDump(std::string_view value) {
  for (std::size_t offset = 0; offset < value.size(); offset += 16) {
    const std::string_view chunk = value.substr(offset, 16);
    std::string hex;
    std::string ascii;
    for (const char c : chunk) {
      const auto byte = static_cast<unsigned char>(c);
      hex += fmt::format("{:02x} ", byte);
      ascii += byte >= 0x20 && byte < 0x7F ? c : '.';
    }
    std::cout << fmt::format("{:08x}  {:<48} {}\n", offset, hex, ascii);
  }
}

void PrintHuman(std::string_view ns, const Entry& entry) {
  const TimePoint now = SystemClock().Now();
  const auto row = [](std::string_view name, const std::string& value) {
    std::cout << fmt::format("{:<15}{}\n", name, value);
  };
  row("namespace", storage::Printable(ns));
  row("key", storage::Printable(entry.key));
  row("version", std::to_string(entry.version));
  row("created_at", HumanTime(entry.created_at) + " UTC");
  row("expires_at", entry.expires_at
                        ? fmt::format("{} UTC (time left: {})", HumanTime(*entry.expires_at),
                                      HumanTimeLeft(entry.expires_at, now))
                        : "never");
  row("last_accessed", HumanTime(entry.last_accessed) + " UTC");
  row("access_count", std::to_string(entry.access_count));
  for (const auto& [name, value] : entry.metadata) {
    row("metadata", fmt::format("{}: {}", storage::Printable(name), storage::Printable(value)));
  }
  const bool text = IsPrintable(entry.value);
  row("value", fmt::format("{} bytes, {}", entry.value.size(), text ? "text" : "binary (hex)"));
  if (text) {
    std::cout << entry.value << (entry.value.empty() || entry.value.back() != '\n' ? "\n" : "");
  } else {
    PrintHexDump(entry.value);
  }
}

int RunGet(GetFlags flags) {
  if (flags.ns.empty()) {
    PrintError("get", "NS is empty: name the entry's namespace ('namespaces DIR' lists them)");
    return kExitUsage;
  }
  if (flags.base64_key) {
    const std::string text = std::move(flags.key);
    if (!storage::Base64Decode(text, &flags.key)) {
      PrintError("get", "KEY is not valid base64");
      return kExitUsage;
    }
  }
  std::unique_ptr<storage::Store> store;
  if (const int code = OpenForReading("get", flags.dir, &store); code != kExitOk) return code;
  Entry entry;
  Status s = storage::GetEntry(*store, flags.ns, flags.key, &entry);
  if (!s.ok()) return Failed("get", s);
  if (!flags.json) {
    PrintHuman(flags.ns, entry);
    return kExitOk;
  }
  std::string line;
  s = storage::EntryToJsonLine(flags.ns, entry, &line);
  if (!s.ok()) return Failed("get", s);
  std::cout << line << '\n';
  return kExitOk;
}

}  // namespace

void AddGet(CLI::App& app, Action* action) {
  auto flags = std::make_shared<GetFlags>();
  CLI::App* get = app.add_subcommand("get", "One entry: its value and every field");
  get->add_option("DIR", flags->dir, "The store's directory")->required();
  get->add_option("NS", flags->ns, "The namespace")->required();
  get->add_option("KEY", flags->key, "The key")->required();
  get->add_flag("--base64-key", flags->base64_key, "KEY is in base64 (for keys that are not text)");
  get->add_flag("--json", flags->json, "One JSON object, as dump writes it");
  get->footer(
      "The value is shown as text when it is printable, else as a hex dump (--json: base64). "
      "Exit code 1 when there is no such entry. Works while an application has the store open.");
  get->callback([action, flags] { *action = [flags] { return RunGet(*flags); }; });
}

}  // namespace tiercache::tool
