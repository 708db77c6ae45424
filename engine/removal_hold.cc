#include "engine/removal_hold.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace tiercache::engine {
namespace {

// What a RemovalEvent needs, owned: not the value, which the event lacks.
struct HeldRemoval {
  EventListener* listener;
  std::string ns;
  std::string key;
  std::uint64_t version;
  RemovalCause cause;
};

struct ThreadHolds {
  int depth = 0;
  std::vector<HeldRemoval> held;
};
thread_local ThreadHolds holds;

// A listener must not throw (events.h); one that does loses the exception
// here rather than the process, since this runs in a destructor too.
void TellNow(EventListener* listener, const RemovalEvent& event) noexcept {
  try {
    listener->OnRemoval(event);
  } catch (...) {
  }
}

}  // namespace

RemovalHold::RemovalHold(bool active) : active_(active) {
  if (active_) ++holds.depth;
}

RemovalHold::~RemovalHold() {
  if (!active_ || --holds.depth > 0) return;
  // A listener may raise removals of its own: they are told as they come, as
  // no hold is left.
  std::vector<HeldRemoval> held = std::move(holds.held);
  holds.held.clear();
  for (const HeldRemoval& h : held) {
    TellNow(h.listener, RemovalEvent{h.ns, h.key, h.version, h.cause});
  }
}

void RemovalHold::Tell(EventListener* listener, std::string ns, const Removal& removal) {
  if (holds.depth == 0) {
    TellNow(listener, RemovalEvent{ns, removal.key, removal.version, removal.cause});
    return;
  }
  holds.held.push_back(
      HeldRemoval{listener, std::move(ns), removal.key, removal.version, removal.cause});
}

}  // namespace tiercache::engine
