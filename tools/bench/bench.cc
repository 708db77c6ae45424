#include "tools/bench/bench.h"

namespace tiercache::tool {

void AddBench(CLI::App& app, Action* action) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Benchmarks, each beside its baseline measured in the same run");
  bench->require_subcommand(1);
  AddCodecBench(*bench, action);
  AddMemoryBench(*bench, action);
  AddStoreBench(*bench, action);
  AddTraceBench(*bench, action);
}

}  // namespace tiercache::tool
