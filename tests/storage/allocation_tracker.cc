// Kept in a file of its own: with the replaced operator delete in the same
// file as code it would be inlined into, GCC 12 warns (falsely) that memory
// from operator new is released with free(). A unity build compiles the file
// together with its test all the same: there the warning is turned off.
#include "tests/storage/allocation_tracker.h"

#include <cstdlib>
#include <new>

namespace {

thread_local bool tracking = false;
thread_local std::size_t largest_allocation = 0;

}  // namespace

// Both operators are replaced, so that a sanitizer's own operator delete never
// meets memory that came from this malloc().
void* operator new(std::size_t size) {
  if (tracking && size > largest_allocation) largest_allocation = size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace tiercache::storage {

AllocationTracker::AllocationTracker() {
  largest_allocation = 0;
  tracking = true;
}

AllocationTracker::~AllocationTracker() { tracking = false; }

std::size_t AllocationTracker::largest() const { return largest_allocation; }

}  // namespace tiercache::storage
