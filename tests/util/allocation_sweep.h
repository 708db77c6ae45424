#pragma once

// The sweep the out-of-memory tests run each call through (with
// failing_new.cc linked in).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/util/failing_new.h"
#include "tiercache/status.h"

namespace tiercache::test_util {

// Past this many allocations in one call, a sweep is stuck.
inline constexpr long kMostAllocations = 100'000;

inline void NothingToPrepare(long) {}

// Runs `call(n)`, which returns a Status, with this thread's n-th allocation
// failing, for n = 0, 1, ... until a run makes no more. Each n runs twice:
// with that allocation failing alone, and with every one from it on failing
// (the memory the call's error message would take too). `prepare(n)` comes
// before each run and `check(n, status)` after it, with no failure injected.
// Every run must throw nothing and answer OK, or, only when an allocation
// failed, NoSpace saying "out of memory".
template <typename Prepare, typename Call, typename Check>
void SweepAllocations(Prepare prepare, Call call, Check check) {
  for (long n = 0; n < kMostAllocations; ++n) {
    bool failed = false;
    for (const Failing how : {Failing::kOnce, Failing::kFromThenOn}) {
      SCOPED_TRACE("allocation " + std::to_string(n) +
                   (how == Failing::kOnce ? " failing" : " and every later one failing"));
      ASSERT_NO_FATAL_FAILURE(prepare(n));
      Status s;
      bool thrown = false;
      FailAllocation(n, how);
      try {
        s = call(n);
      } catch (...) {
        thrown = true;
      }
      failed = AllocationFailed();
      FailAllocation(-1);
      ASSERT_FALSE(thrown) << "an exception left the call";
      if (!s.ok()) {
        ASSERT_TRUE(failed) << s.ToString();
        EXPECT_TRUE(s.IsNoSpace()) << s.ToString();
        EXPECT_THAT(s.message(), ::testing::HasSubstr("out of memory"));
      }
      ASSERT_NO_FATAL_FAILURE(check(n, s));
    }
    if (!failed) return;
  }
  FAIL() << "the call still allocated after " << kMostAllocations << " allocations";
}

}  // namespace tiercache::test_util
