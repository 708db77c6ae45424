#pragma once

// A replacement of the global operator new, for tests of allocation failure:
// linked into a test executable (failing_new.cc), it makes one allocation
// throw std::bad_alloc on demand: the calling thread's n-th, or the next one
// of some size on any thread.

#include <cstddef>

namespace tiercache::test_util {

// False under ThreadSanitizer, whose runtime has its own operator new: there
// nothing is replaced, no allocation fails, and the tests that need one skip.
bool AllocationsCanFail();

// Whether the allocations after the one that fails succeed again.
enum class Failing {
  kOnce,        // they do: a passing shortage
  kFromThenOn,  // they fail too, until the next FailAllocation: memory is gone
};

// The n-th allocation of this thread from now (0: the next) throws, as `how`
// says; -1: none does.
void FailAllocation(long n, Failing how = Failing::kOnce);
// Whether an allocation failed since the last FailAllocation.
bool AllocationFailed();

// The next allocation of at least `bytes`, on any thread, throws, once.
void FailAllocationOfAtLeast(std::size_t bytes);
// Whether it has.
bool LargeAllocationFailed();

}  // namespace tiercache::test_util
