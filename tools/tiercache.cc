// The tiercache command: a thin main. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include "tools/command.h"

int main(int argc, char** argv) {
  using namespace tiercache::tool;
  CLI::App app("tiercache: inspect, verify, export, import and benchmark a tiercache store");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Every subcommand's help");
  // A usage error prints the usage of the subcommand it happened in.
  app.failure_message(CLI::FailureMessage::help);

  Action action;
  AddDemo(app, &action);
  AddBench(app, &action);
  AddStats(app, &action);
  AddNamespaces(app, &action);
  AddLs(app, &action);
  AddGet(app, &action);
  AddDump(app, &action);
  AddLoad(app, &action);
  AddVerify(app, &action);
  AddPurgeExpired(app, &action);
  AddCompact(app, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return action ? action() : kExitUsage;
}
