#include "engine/adaptive_policy.h"

#include <algorithm>

#include "engine/key_hash.h"

namespace tiercache::engine {
namespace {

// Below this estimated frequency a candidate that lost the duel is never
// let in (Caffeine's threshold).
constexpr int kWarmCandidate = 6;

std::uint64_t HashOf(const Node* n) { return HashKey(n->ns(), n->key()); }

std::size_t Share(double share, std::size_t of) {
  return static_cast<std::size_t>(share * static_cast<double>(of));
}

}  // namespace

AdaptivePolicy::AdaptivePolicy(const Config& config, const PolicyContext& context)
    : arena_(context.arena),
      max_entries_(std::max<std::size_t>(context.max_entries, 1)),
      protected_share_(config.protected_share),
      rng_(config.seed | 1),
      sketch_(max_entries_, config.sketch_sample_factor),
      lost_duel_(Share(config.lost_duel_share, max_entries_)),
      left_main_(Share(config.left_main_share, max_entries_)),
      window_max_(
          std::clamp<std::size_t>(Share(config.initial_window, max_entries_), 1, max_entries_)),
      protected_max_(Share(protected_share_, max_entries_ - window_max_)) {}

NodeList& AdaptivePolicy::ListOf(Queue q) {
  switch (q) {
    case kWindow:
      return window_;
    case kProbation:
      return probation_;
    case kProtected:
      break;
  }
  return protected_;
}

void AdaptivePolicy::Move(Handle h, Queue to) {
  ListOf(QueueOf(h)).Remove(*arena_, h);
  ListOf(to).PushBack(*arena_, h);
  arena_->Get(h)->set_policy_bits(to);
}

void AdaptivePolicy::Insert(Handle h, std::uint64_t hash) {
  sketch_.Increment(hash);
  Learn(hash);
  window_.PushBack(*arena_, h);
  arena_->Get(h)->set_policy_bits(kWindow);
  // While the tier is not full, what leaves the window enters the main space
  // without a duel.
  while (window_.size() > window_max_) Move(window_.front(), kProbation);
}

void AdaptivePolicy::Access(Handle h, std::uint64_t hash) {
  sketch_.Increment(hash);
  const Queue q = QueueOf(h);
  if (q == kProbation) {
    Move(h, kProtected);
    if (protected_.size() > protected_max_) Move(protected_.front(), kProbation);
  } else {
    ListOf(q).MoveToBack(*arena_, h);
  }
}

void AdaptivePolicy::Remove(Handle h) { ListOf(QueueOf(h)).Remove(*arena_, h); }

Handle AdaptivePolicy::MainVictim() const {
  if (!probation_.empty()) return probation_.front();
  if (!protected_.empty()) return protected_.front();
  return window_.front();
}

Handle AdaptivePolicy::Victim() {
  // The newcomer about to be inserted will push the window over its size:
  // its oldest entry moves to the main space and duels the main victim.
  if (window_.size() >= window_max_ && !window_.empty()) {
    const Handle candidate = window_.front();
    Move(candidate, kProbation);
    const Handle victim = probation_.front() != candidate ? probation_.front()
                          : !protected_.empty()           ? protected_.front()
                                                          : kNoHandle;
    if (victim == kNoHandle) return Evict(candidate, &lost_duel_);
    return Admit(candidate, victim) ? Evict(victim, &left_main_) : Evict(candidate, &lost_duel_);
  }
  return Evict(MainVictim(), &left_main_);
}

Handle AdaptivePolicy::Evict(Handle h, GhostList* ghosts) {
  if (h != kNoHandle) ghosts->Add(HashOf(arena_->Get(h)));
  return h;
}

bool AdaptivePolicy::Admit(Handle candidate, Handle victim) {
  const int candidate_freq = sketch_.Frequency(HashOf(arena_->Get(candidate)));
  const int victim_freq = sketch_.Frequency(HashOf(arena_->Get(victim)));
  if (candidate_freq > victim_freq) return true;
  if (candidate_freq < kWarmCandidate) return false;
  // A warm candidate is let in now and then, so that an attacker who keeps a
  // victim hot cannot keep every newcomer out.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return (rng_ & 127) == 0;
}

// A newcomer that was evicted lately tells which side was too small.
void AdaptivePolicy::Learn(std::uint64_t hash) {
  if (lost_duel_.Take(hash)) {
    Resize(1);
  } else if (left_main_.Take(hash)) {
    Resize(-1);
  }
}

// Entries move lazily: Victim() drains a window that is too large, and a
// smaller protected segment demotes on the next promotion.
void AdaptivePolicy::Resize(std::int64_t window_delta) {
  const auto next = static_cast<std::int64_t>(window_max_) + window_delta;
  window_max_ = static_cast<std::size_t>(
      std::clamp<std::int64_t>(next, 1, static_cast<std::int64_t>(max_entries_)));
  protected_max_ = Share(protected_share_, max_entries_ - window_max_);
}

}  // namespace tiercache::engine
