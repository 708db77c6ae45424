#pragma once

// What a file holds, for a test that checks what a command or a child process
// wrote.

#include <fstream>
#include <sstream>
#include <string>

namespace tiercache::test_util {

// The bytes of the file at `path`; "" when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tiercache::test_util
