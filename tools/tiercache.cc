// The tiercache command: a thin main. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include "tools/command.h"

int main(int argc, char** argv) {
  using namespace tiercache::tool;
  CLI::App app("tiercache: inspect, verify, export, import and benchmark a tiercache store");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Every subcommand's help");

  Action action;
  AddBench(app, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return action ? action() : kExitUsage;
}
