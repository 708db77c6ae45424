#pragma once

// The crash harness's rules: what a store recovered after the writer was
// killed must hold, given what it held before the round and what the writer
// acknowledged during it (DESIGN.md, "Durability contract").
//
// Per key the writer owns alone (Put, Delete):
//   - acknowledged versions increase, above the version the key had before;
//   - the recovered entry is the last acknowledged write (same version and
//     value), or a newer write of this round the kill caught unacknowledged;
//   - it is absent only when the last acknowledgement was a Delete, or a
//     Delete had started since, or the key had nothing before and no ack;
//   - after an acknowledged Delete, any entry is newer than every version the
//     writer had written to the key, and of this round.
// Per counter (concurrent CompareAndPut): acknowledged counts rise strictly
// with their versions, above the count before the round; the recovered
// version is at least the newest acknowledged one (or the one before).
// Per PutMany group: its members are all present with the same tag, or all
// absent; the tag is the last acknowledged one, or a newer one of this round.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/engine/crash_log.h"

namespace tiercache::crash {

// One entry as the store holds it.
struct Observed {
  std::uint64_t version = 0;
  std::uint64_t hash = 0;
  ValueInfo info;
};

// Every entry of the writer's namespaces, by "namespace/key"; an absent key
// is not in the map.
using StoreState = std::map<std::string, Observed>;

std::string FullKey(std::string_view ns, std::string_view key);

struct RoundFacts {
  std::uint32_t round = 0;
  const StoreState* before = nullptr;  // after the previous round's recovery
  const std::vector<Ack>* acks = nullptr;
  const StoreState* after = nullptr;  // recovered after this round's kill
};

// Every broken rule, one line each; empty when the store kept the contract.
std::vector<std::string> CheckRound(const RoundFacts& facts);

}  // namespace tiercache::crash
