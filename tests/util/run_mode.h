#pragma once

// How a test run is set up from the environment, the same for every suite:
//   TIERCACHE_LONG=1   tools/test --long: ten times the rounds;
//   TIERCACHE_SEED=N   replays a randomised test with the seed it printed.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string_view>

namespace tiercache::test_util {

inline constexpr int kLongFactor = 10;

// True in the long mode.
inline bool LongRun() {
  const char* text = std::getenv("TIERCACHE_LONG");
  return text != nullptr && std::string_view(text) == "1";
}

// `rounds`, or ten times as many in the long mode.
inline int Rounds(int rounds) { return LongRun() ? rounds * kLongFactor : rounds; }

// TIERCACHE_SEED when set: the one seed to replay.
inline std::optional<std::uint64_t> SeedToReplay() {
  const char* text = std::getenv("TIERCACHE_SEED");
  if (text == nullptr || text[0] == '\0') return std::nullopt;
  return std::strtoull(text, nullptr, 0);
}

// TIERCACHE_SEED when set, else a fresh seed. Print what it returns.
inline std::uint64_t SeedFromEnvironment() {
  if (const std::optional<std::uint64_t> seed = SeedToReplay()) return *seed;
  return std::random_device{}();
}

}  // namespace tiercache::test_util
