#pragma once

#include <string>

#include "engine/memory_tier.h"
#include "tiercache/events.h"

namespace tiercache::engine {

// Keeps the removal events a thread raises while it holds a key's lock until
// the lock is released, so that a listener may call back into the cache
// without meeting a lock its own thread holds. Declared before the lock, a
// hold ends after it; holds nest, and the outermost one tells the listeners.
//
// Thread-safety: per thread; a hold must end on the thread that made it.
class RemovalHold {
 public:
  // An inactive hold (no listener to tell) costs nothing.
  explicit RemovalHold(bool active);
  ~RemovalHold();
  RemovalHold(const RemovalHold&) = delete;
  RemovalHold& operator=(const RemovalHold&) = delete;

  // Tells `listener` of the removal now, or when this thread's outermost hold
  // ends. `listener` must outlive that.
  static void Tell(EventListener* listener, std::string ns, const Removal& removal);

 private:
  const bool active_;
};

}  // namespace tiercache::engine
