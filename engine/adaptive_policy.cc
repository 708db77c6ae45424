#include "engine/adaptive_policy.h"

#include <algorithm>
#include <cmath>

#include "engine/key_hash.h"

namespace tiercache::engine {
namespace {

// Caffeine's constants for the climber and the duel.
constexpr double kStepShare = 0.0625;       // a step is this share of the capacity
constexpr double kRestartThreshold = 0.05;  // a hit ratio change this large restarts the steps
constexpr double kStepDecay = 0.98;
constexpr int kWarmCandidate = 6;  // below this a losing candidate is never let in

std::uint64_t HashOf(const Node* n) { return HashKey(n->ns(), n->key()); }

}  // namespace

AdaptivePolicy::AdaptivePolicy(const Config& config, const PolicyContext& context)
    : arena_(context.arena),
      max_entries_(std::max<std::size_t>(context.max_entries, 1)),
      protected_share_(config.protected_share),
      climb_(config.climb),
      rng_(config.seed),
      sketch_(max_entries_),
      sample_size_(10 * max_entries_),
      step_(-kStepShare * static_cast<double>(max_entries_)) {
  window_max_ = std::clamp<std::size_t>(
      static_cast<std::size_t>(config.initial_window * static_cast<double>(max_entries_)), 1,
      max_entries_);
  protected_max_ =
      static_cast<std::size_t>(protected_share_ * static_cast<double>(max_entries_ - window_max_));
}

NodeList& AdaptivePolicy::ListOf(Queue q) {
  switch (q) {
    case kWindow: return window_;
    case kProbation: return probation_;
    case kProtected: break;
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
  window_.PushBack(*arena_, h);
  arena_->Get(h)->set_policy_bits(kWindow);
  // While the tier is not full, what leaves the window enters the main space
  // without a duel.
  while (window_.size() > window_max_) Move(window_.front(), kProbation);
  Record(false);
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
  Record(true);
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
    if (victim == kNoHandle) return candidate;
    return Admit(candidate, victim) ? victim : candidate;
  }
  return MainVictim();
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

void AdaptivePolicy::Record(bool hit) {
  if (!climb_) return;
  (hit ? hits_ : misses_) += 1;
  if (hits_ + misses_ >= sample_size_) Climb();
}

// One hill-climbing step: keep moving the window the way that last helped.
void AdaptivePolicy::Climb() {
  const double hit_ratio = static_cast<double>(hits_) / static_cast<double>(hits_ + misses_);
  const double change = hit_ratio - previous_hit_ratio_;
  const double amount = change >= 0 ? step_ : -step_;
  step_ = std::abs(change) >= kRestartThreshold
              ? kStepShare * static_cast<double>(max_entries_) * (amount >= 0 ? 1 : -1)
              : kStepDecay * amount;
  previous_hit_ratio_ = hit_ratio;
  hits_ = misses_ = 0;
  Resize(static_cast<std::int64_t>(amount));
}

// Entries move lazily: Victim() drains a window that is too large, and a
// smaller protected segment demotes on the next promotion.
void AdaptivePolicy::Resize(std::int64_t window_delta) {
  const auto current = static_cast<std::int64_t>(window_max_);
  const auto limit = static_cast<std::int64_t>(max_entries_);
  window_max_ = static_cast<std::size_t>(std::clamp<std::int64_t>(current + window_delta, 1, limit));
  protected_max_ =
      static_cast<std::size_t>(protected_share_ * static_cast<double>(max_entries_ - window_max_));
}

}  // namespace tiercache::engine
