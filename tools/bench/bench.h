#pragma once

#include <cstddef>

#include "tools/command.h"

namespace tiercache::tool {

// The entry the memory and store benchmarks measure: a 16-byte key (RocksDB
// 7.8's HyperClockCache takes keys of this size only) and a 100-byte value.
inline constexpr std::size_t kKeyBytes = 16;
inline constexpr std::size_t kValueBytes = 100;

// The benchmarks under `tiercache bench`: each file adds one.
void AddCodecBench(CLI::App& bench, Action* action);
void AddMemoryBench(CLI::App& bench, Action* action);
void AddStoreBench(CLI::App& bench, Action* action);
void AddTraceBench(CLI::App& bench, Action* action);

}  // namespace tiercache::tool
