#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/frequency_sketch.h"
#include "engine/ghost_list.h"
#include "engine/node_list.h"
#include "engine/policy_context.h"

namespace tiercache::engine {

// The adaptive, scan-resistant policy: W-TinyLFU (Einziger, Friedman and
// Manes, "TinyLFU", 2017; the design of Caffeine) whose window is sized the
// way ARC sizes its recency side (Megiddo and Modha, FAST 2003).
//
// New entries enter a small LRU window. What leaves the window must win a
// duel of estimated frequencies against the main space's victim to stay, so
// the one-time keys of a scan, or of a loop longer than the cache, never
// flush the frequent ones. The main space is a segmented LRU (probation,
// protected). Two ghost lists remember the hashes of recent losers: keys that
// lost the duel, and keys evicted from the main space. A newcomer found in the
// first would have hit with a larger window, so the window grows by one entry;
// one found in the second shrinks it by one. Recency-heavy workloads so end
// near LRU, frequency-heavy ones near TinyLFU.
//
// A node's policy bits hold its queue. The shape every policy has is in
// policy_context.h. Not thread-safe.
class AdaptivePolicy {
 public:
  struct Config {
    double initial_window = 0.01;  // share of the capacity, 0 .. 1
    double protected_share = 0.8;  // of the main space, 0 .. 1
    // Hashes the ghost lists keep, x capacity. The window's list is the
    // shorter: only a loser that comes back soon argues for a larger window.
    double lost_duel_share = 0.25;
    double left_main_share = 0.5;
    std::size_t sketch_sample_factor = 16;       // the sketch ages every this x capacity increments
    std::uint64_t seed = 0x9e3779b97f4a7c15ull;  // for the duel's rare random admission
  };

  AdaptivePolicy(const Config& config, const PolicyContext& context);

  void Insert(Handle h, std::uint64_t hash);
  void Access(Handle h, std::uint64_t hash);
  void Remove(Handle h);
  Handle Victim();
  std::size_t size() const { return window_.size() + probation_.size() + protected_.size(); }

  std::size_t window_max() const { return window_max_; }

 private:
  enum Queue : std::uint32_t { kWindow = 0, kProbation = 1, kProtected = 2 };

  NodeList& ListOf(Queue q);
  Queue QueueOf(Handle h) const { return static_cast<Queue>(arena_->Get(h)->policy_bits()); }
  void Move(Handle h, Queue to);
  Handle MainVictim() const;
  bool Admit(Handle candidate, Handle victim);
  Handle Evict(Handle h, GhostList* ghosts);
  void Learn(std::uint64_t hash);
  void Resize(std::int64_t window_delta);

  const NodeArena* arena_;
  std::size_t max_entries_;
  double protected_share_;
  std::uint64_t rng_;
  FrequencySketch sketch_;
  GhostList lost_duel_;  // recently evicted from the window side
  GhostList left_main_;  // recently evicted from the main space
  NodeList window_;      // front: least recently used
  NodeList probation_;   // front: the main space's next victim
  NodeList protected_;   // front: next to be demoted to probation
  std::size_t window_max_;
  std::size_t protected_max_;
};

}  // namespace tiercache::engine
