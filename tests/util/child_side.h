#pragma once

// The child's side of the line protocol that tests/util/child_process.h and
// tests/tools/process.h read: one line a step, flushed at once, so that the
// test waits on lines rather than sleeping.

#include <cstdio>
#include <string_view>

#include "tiercache/status.h"

namespace tiercache::test_util {

// Prints `line` and flushes it; false once the test stopped reading.
inline bool Report(std::string_view line) {
  return std::printf("%.*s\n", static_cast<int>(line.size()), line.data()) > 0 &&
         std::fflush(stdout) == 0;
}

// Prints the error; the child's exit code.
inline int Fail(const Status& s) {
  std::printf("error: %s\n", s.ToString().c_str());
  return 1;
}

// Says "ready" and waits until the test closes the child's stdin.
inline int HoldUntilStdinEnds() {
  if (!Report("ready")) return 1;
  while (std::getchar() != EOF) {
  }
  return 0;
}

}  // namespace tiercache::test_util
