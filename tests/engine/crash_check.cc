#include "tests/engine/crash_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

namespace tiercache::crash {
namespace {

using AckList = std::vector<const Ack*>;

// A PutMany's identity: the round and the writer's operation number.
using Tag = std::pair<std::uint32_t, std::uint64_t>;

const Observed* Find(const StoreState& state, const std::string& key) {
  auto it = state.find(key);
  return it == state.end() ? nullptr : &it->second;
}

// "ns/key" -> {"ns", "key"}; namespaces hold no '/'.
std::pair<std::string_view, std::string_view> Split(std::string_view full) {
  const std::size_t slash = full.find('/');
  return {full.substr(0, slash), full.substr(slash + 1)};
}

class Checker {
 public:
  explicit Checker(const RoundFacts& facts) : facts_(facts), round_(facts.round) {}

  std::vector<std::string> Run() {
    IndexAcks();
    IndexState(*facts_.before);
    IndexState(*facts_.after);
    for (const auto& [key, acks] : owned_) CheckOwned(key, acks);
    for (const auto& [key, acks] : counters_) CheckCounter(key, acks);
    for (const auto& [group, acks] : groups_) CheckGroup(group, acks);
    return std::move(problems_);
  }

 private:
  template <typename... Args>
  void Problem(fmt::format_string<Args...> format, Args&&... args) {
    problems_.push_back(fmt::format(format, std::forward<Args>(args)...));
  }

  void IndexAcks() {
    for (const Ack& ack : *facts_.acks) {
      const std::string full = FullKey(ack.ns, ack.key);
      if (ack.kind == AckKind::kGroup) {
        groups_[full].push_back(&ack);
      } else if (KindOf(ack.key) == KeyKind::kCounter) {
        counters_[full].push_back(&ack);
      } else {
        owned_[full].push_back(&ack);
      }
    }
  }

  // Keys with no ack this round are checked too, against what they held.
  void IndexState(const StoreState& state) {
    for (const auto& [full, observed] : state) {
      const auto [ns, key] = Split(full);
      switch (KindOf(key)) {
        case KeyKind::kOwned:
          owned_[full];
          break;
        case KeyKind::kCounter:
          counters_[full];
          break;
        case KeyKind::kGroupMember:
          groups_[FullKey(ns, GroupOf(key))];
          break;
        case KeyKind::kUnknown:
          Problem("{}: a key the writer never writes", full);
          break;
      }
      if (observed.info.round > round_) {
        Problem("{}: version {} says round {}, after this round {}", full, observed.version,
                observed.info.round, round_);
      }
    }
  }

  // The entry must be (version, hash), or a newer write of this round.
  void ExpectAtLeast(const std::string& key, const Observed& after, std::uint64_t version,
                     std::uint64_t hash) {
    if (after.version == version) {
      if (after.hash != hash) Problem("{}: version {} holds another value", key, version);
    } else if (after.version < version) {
      Problem("{}: recovered version {} is older than version {}, acknowledged", key, after.version,
              version);
    } else if (after.info.round != round_) {
      Problem("{}: version {} is newer than the acknowledged {} but was written in round {}", key,
              after.version, version, after.info.round);
    }
  }

  void CheckOwned(const std::string& key, const AckList& acks) {
    const Observed* before = Find(*facts_.before, key);
    const Observed* after = Find(*facts_.after, key);
    std::uint64_t floor = before ? before->version : 0;
    const Ack* last = nullptr;
    bool deleting = false;  // a Delete started after the last ack
    for (const Ack* ack : acks) {
      if (ack->kind == AckKind::kPut && ack->number <= floor) {
        Problem("{}: acknowledged version {} is not above the earlier {}", key, ack->number, floor);
      }
      if (ack->kind == AckKind::kPut) floor = ack->number;
      deleting = ack->kind == AckKind::kDeleteIntent;
      if (!deleting) last = ack;
    }
    if (after == nullptr) return CheckOwnedAbsent(key, before, last, deleting);
    if (last != nullptr && last->kind == AckKind::kPut) {
      return ExpectAtLeast(key, *after, last->number, last->hash);
    }
    if (last != nullptr) {  // an acknowledged Delete
      const std::uint64_t newest = std::max(last->number, before ? before->version : 0);
      if (after->version <= newest || after->info.round != round_) {
        Problem("{}: version {} of round {} is back after an acknowledged Delete of version {}",
                key, after->version, after->info.round, newest);
      }
      return;
    }
    if (before != nullptr) return ExpectAtLeast(key, *after, before->version, before->hash);
    if (after->info.round != round_) {
      Problem("{}: version {} of round {} appeared from nowhere", key, after->version,
              after->info.round);
    }
  }

  void CheckOwnedAbsent(const std::string& key, const Observed* before, const Ack* last,
                        bool deleting) {
    if (deleting) return;
    if (last != nullptr && last->kind == AckKind::kPut) {
      Problem("{}: acknowledged version {} is lost", key, last->number);
    } else if (last == nullptr && before != nullptr) {
      Problem("{}: version {} from before the round is lost with no Delete", key, before->version);
    }
  }

  void CheckCounter(const std::string& key, AckList acks) {
    const Observed* before = Find(*facts_.before, key);
    const Observed* after = Find(*facts_.after, key);
    std::sort(acks.begin(), acks.end(),
              [](const Ack* a, const Ack* b) { return a->number < b->number; });
    std::uint64_t version = before ? before->version : 0;
    std::uint64_t count = before ? before->info.count : 0;
    std::uint64_t hash = before ? before->hash : 0;
    for (const Ack* ack : acks) {
      if (ack->number <= version || ack->count <= count) {
        Problem("{}: CompareAndPut acknowledged version {} count {} after version {} count {}", key,
                ack->number, ack->count, version, count);
      }
      version = ack->number;
      count = ack->count;
      hash = ack->hash;
    }
    if (version == 0) return;  // nothing written yet
    if (after == nullptr) return Problem("{}: counter at version {} is lost", key, version);
    ExpectAtLeast(key, *after, version, hash);
    if (after->version > version && after->info.count <= count) {
      Problem("{}: version {} has count {}, not above the acknowledged {}", key, after->version,
              after->info.count, count);
    }
  }

  // The tags of the group's members in `state`; *present counts them.
  std::set<Tag> MemberTags(const StoreState& state, const std::string& group, int* present) {
    std::set<Tag> tags;
    *present = 0;
    for (int m = 0; m < kGroupMembers; ++m) {
      const Observed* member = Find(state, GroupMember(group, m));
      if (member == nullptr) continue;
      ++*present;
      tags.insert({member->info.round, member->info.seq});
    }
    return tags;
  }

  void CheckGroup(const std::string& group, const AckList& acks) {
    int before_count = 0;
    int after_count = 0;
    const std::set<Tag> before = MemberTags(*facts_.before, group, &before_count);
    const std::set<Tag> after = MemberTags(*facts_.after, group, &after_count);
    if ((after_count != 0 && after_count != kGroupMembers) || after.size() > 1) {
      return Problem("{}: PutMany torn: {} of {} members recovered, from {} PutManys", group,
                     after_count, kGroupMembers, after.size());
    }
    std::optional<Tag> last;
    if (!before.empty()) last = *before.begin();
    for (const Ack* ack : acks) {
      const Tag tag{round_, ack->number};
      if (last && tag <= *last) Problem("{}: acknowledged PutMany tags go back", group);
      last = tag;
    }
    if (after.empty()) {
      if (last)
        Problem("{}: the PutMany of round {} tag {} is lost", group, last->first, last->second);
      return;
    }
    const Tag tag = *after.begin();
    if ((last && tag < *last) || (tag != last && tag.first != round_)) {
      Problem("{}: recovered PutMany of round {} tag {}, acknowledged: round {} tag {}", group,
              tag.first, tag.second, last ? last->first : 0, last ? last->second : 0);
    }
  }

  const RoundFacts& facts_;
  const std::uint32_t round_;
  std::map<std::string, AckList> owned_;
  std::map<std::string, AckList> counters_;
  std::map<std::string, AckList> groups_;
  std::vector<std::string> problems_;
};

}  // namespace

std::string FullKey(std::string_view ns, std::string_view key) {
  std::string full(ns);
  full.push_back('/');
  full.append(key);
  return full;
}

std::vector<std::string> CheckRound(const RoundFacts& facts) { return Checker(facts).Run(); }

}  // namespace tiercache::crash
