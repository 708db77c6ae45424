#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/frequency_sketch.h"
#include "engine/node_list.h"
#include "engine/policy_context.h"

namespace tiercache::engine {

// The adaptive, scan-resistant policy: W-TinyLFU with a hill-climbed window
// (Einziger, Eytan, Friedman and Manes, "Adaptive Software Cache Management",
// Middleware 2018; the design of Caffeine). New entries enter a small LRU
// window; what leaves the window must win a duel of estimated frequencies
// against the main space's victim to stay, so one-time keys of a scan or a
// loop longer than the cache never flush the frequent ones. The main space is
// a segmented LRU (probation, protected). Every sample of 10 x capacity
// requests the window grows or shrinks by a step in whichever direction last
// raised the hit ratio, so recency-heavy workloads get a large window
// (LRU-like) and frequency-heavy ones a small one.
//
// A node's policy bits hold its queue. The shape every policy has is in
// policy_context.h. Not thread-safe.
class AdaptivePolicy {
 public:
  struct Config {
    double initial_window = 0.01;  // share of the capacity, 0 .. 1
    double protected_share = 0.8;  // of the main space, 0 .. 1
    bool climb = true;             // false: the window keeps its initial size
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
  void Record(bool hit);
  void Climb();
  void Resize(std::int64_t window_delta);

  const NodeArena* arena_;
  std::size_t max_entries_;
  double protected_share_;
  bool climb_;
  std::uint64_t rng_;
  FrequencySketch sketch_;
  NodeList window_;     // front: least recently used
  NodeList probation_;  // front: the main space's next victim
  NodeList protected_;  // front: next to be demoted to probation
  std::size_t window_max_;
  std::size_t protected_max_;

  // The hill climber's state.
  std::size_t sample_size_;
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
  double previous_hit_ratio_ = 0;
  double step_;
};

}  // namespace tiercache::engine
