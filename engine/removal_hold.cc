#include "engine/removal_hold.h"

#include <utility>
#include <vector>

namespace tiercache::engine {
namespace {

struct HeldRemoval {
  EventListener* listener;
  std::string ns;
  Removal removal;
};

struct ThreadHolds {
  int depth = 0;
  std::vector<HeldRemoval> held;
};
thread_local ThreadHolds holds;

void TellNow(EventListener* listener, std::string_view ns, const Removal& removal) {
  listener->OnRemoval(RemovalEvent{ns, removal.key, removal.version, removal.cause});
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
  for (const HeldRemoval& h : held) TellNow(h.listener, h.ns, h.removal);
}

void RemovalHold::Tell(EventListener* listener, std::string ns, const Removal& removal) {
  if (holds.depth == 0) {
    TellNow(listener, ns, removal);
    return;
  }
  holds.held.push_back(HeldRemoval{listener, std::move(ns), removal});
}

}  // namespace tiercache::engine
