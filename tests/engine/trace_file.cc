#include "tests/engine/trace_file.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace tiercache::engine {
namespace {

struct PipeCloser {
  void operator()(FILE* f) const { pclose(f); }
};
using Pipe = std::unique_ptr<FILE, PipeCloser>;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool ReadAll(const std::string& command, std::string* out) {
  Pipe pipe(popen(command.c_str(), "r"));
  if (!pipe) return false;
  char buf[1 << 16];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) out->append(buf, n);
  return true;
}

template <typename F>
void ForEachLine(const std::string& text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    f(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
  }
}

void ParseLirs(const std::string& text, std::vector<std::int64_t>* keys) {
  ForEachLine(text, [keys](std::string_view line) {
    if (line.empty() || line[0] == '*') return;
    keys->push_back(std::strtoll(std::string(line).c_str(), nullptr, 10));
  });
}

void ParseArc(const std::string& text, std::vector<std::int64_t>* keys) {
  ForEachLine(text, [keys](std::string_view line) {
    if (line.empty()) return;
    char* rest = nullptr;
    const std::string s(line);
    const long long start = std::strtoll(s.c_str(), &rest, 10);
    const long long count = std::strtoll(rest, nullptr, 10);
    for (long long i = 0; i < count; ++i) keys->push_back(start + i);
  });
}

void ParseCache2k(const std::string& data, std::vector<std::int64_t>* keys) {
  for (std::size_t i = 0; i + 4 <= data.size(); i += 4) {
    const auto* b = reinterpret_cast<const unsigned char*>(data.data() + i);
    const std::uint32_t u = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                            (std::uint32_t{b[2]} << 8) | b[3];
    keys->push_back(static_cast<std::int32_t>(u));
  }
}

}  // namespace

bool ReadTrace(const std::string& path, std::vector<std::int64_t>* keys, std::string* error) {
  std::string tool;
  if (EndsWith(path, ".trace.gz")) tool = "gzip";
  if (EndsWith(path, ".lis.zst")) tool = "zstd";
  if (EndsWith(path, ".trace.xz")) tool = "xz";
  if (tool.empty()) {
    *error = "unknown trace format: " + path;
    return false;
  }
  std::string data;
  if (!ReadAll(tool + " -dc '" + path + "'", &data) || data.empty()) {
    *error = "could not decompress " + path + " with " + tool;
    return false;
  }
  if (tool == "gzip") ParseLirs(data, keys);
  if (tool == "zstd") ParseArc(data, keys);
  if (tool == "xz") ParseCache2k(data, keys);
  return true;
}

}  // namespace tiercache::engine
