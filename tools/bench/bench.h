#pragma once

#include "tools/command.h"

namespace tiercache::tool {

// The benchmarks under `tiercache bench`: each file adds one.
void AddCodecBench(CLI::App& bench, Action* action);
void AddMemoryBench(CLI::App& bench, Action* action);
void AddStoreBench(CLI::App& bench, Action* action);
void AddTraceBench(CLI::App& bench, Action* action);

}  // namespace tiercache::tool
