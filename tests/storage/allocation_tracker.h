#pragma once

// Measures the largest single allocation a piece of code makes, through a
// replaced global operator new (allocation_tracker.cc). For the tests that a
// malformed record never makes the decoder allocate more than it holds.

#include <cstddef>

namespace tiercache::storage {

// Counts allocations by this thread, on other threads nothing, from its
// construction to its destruction. Not nestable.
class AllocationTracker {
 public:
  AllocationTracker();
  ~AllocationTracker();
  AllocationTracker(const AllocationTracker&) = delete;
  AllocationTracker& operator=(const AllocationTracker&) = delete;

  // The largest size passed to operator new so far; 0 when none.
  std::size_t largest() const;
};

}  // namespace tiercache::storage
