#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace tiercache::tool {

// Exit codes of the tiercache command (DESIGN.md, "The tiercache command").
inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCannotOpen = 3;

// What a subcommand does once its flags are parsed; returns the exit code.
using Action = std::function<int()>;

// Each subcommand's file defines one of these: it adds its subcommand (with
// its flags) to `app` and, when the subcommand is chosen, stores what to run
// in *action.

void AddDemo(CLI::App& app, Action* action);
void AddBench(CLI::App& app, Action* action);

// The inspection subcommands (tools/<name>.cc; their logic is in
// storage/inspect.h).
void AddStats(CLI::App& app, Action* action);
void AddNamespaces(CLI::App& app, Action* action);
void AddLs(CLI::App& app, Action* action);
void AddGet(CLI::App& app, Action* action);
void AddDump(CLI::App& app, Action* action);
void AddLoad(CLI::App& app, Action* action);
void AddVerify(CLI::App& app, Action* action);
void AddPurgeExpired(CLI::App& app, Action* action);
void AddCompact(CLI::App& app, Action* action);

}  // namespace tiercache::tool
