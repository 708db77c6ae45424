#include "tests/util/failing_new.h"

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_THREAD__)
#define TIERCACHE_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TIERCACHE_THREAD_SANITIZER 1
#endif
#endif

namespace {

thread_local long allocations_until_failure = -1;
thread_local bool fail_from_then_on = false;
thread_local bool failed = false;
std::atomic<std::size_t> fail_at_least{0};  // 0: no size fails
std::atomic<bool> large_failed{false};

}  // namespace

namespace tiercache::test_util {

void FailAllocation(long n, Failing how) {
  allocations_until_failure = n;
  fail_from_then_on = how == Failing::kFromThenOn;
  failed = false;
}

bool AllocationFailed() { return failed; }

void FailAllocationOfAtLeast(std::size_t bytes) {
  large_failed = false;
  fail_at_least = bytes;
}

bool LargeAllocationFailed() { return large_failed; }

#ifdef TIERCACHE_THREAD_SANITIZER
bool AllocationsCanFail() { return false; }
#else
bool AllocationsCanFail() { return true; }
#endif

}  // namespace tiercache::test_util

#ifndef TIERCACHE_THREAD_SANITIZER
// Every form but the aligned ones is replaced, so that whatever allocates
// through one frees through another of the same family (AddressSanitizer
// would otherwise see its own new paired with this delete).
void* operator new(std::size_t size) {
  if (allocations_until_failure >= 0 && allocations_until_failure-- == 0) {
    failed = true;
    if (fail_from_then_on) allocations_until_failure = 0;
    throw std::bad_alloc();
  }
  std::size_t at_least = fail_at_least.load(std::memory_order_relaxed);
  if (at_least != 0 && size >= at_least &&
      fail_at_least.compare_exchange_strong(at_least, 0)) {
    large_failed = true;
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* operator new[](std::size_t size) { return ::operator new(size); }

void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return ::operator new(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return ::operator new(size, std::nothrow);
}

// A unity build compiles this file together with the test that uses it; GCC
// then sees these frees inlined where the test's `new` was, and takes the
// pair (malloc behind the replaced new) for a mismatch.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop
#endif  // TIERCACHE_THREAD_SANITIZER
