#pragma once

// How the subcommands open a store, and say why they cannot.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/store.h"
#include "tiercache/status.h"

namespace tiercache::tool {

// Opens the store at `dir` as a secondary instance, for a subcommand that only
// reads: it takes no lock and works while an application writes the store.
// kExitOk, or kExitCannotOpen once the reason is on stderr (a missing
// directory, not a store, a newer format).
int OpenForReading(std::string_view command, const std::string& dir,
                   std::unique_ptr<storage::Store>* store);

// Opens the store at `dir` read-write, for a subcommand that writes. Refuses
// a store another process has open, and a missing directory (creating
// nothing); an empty directory becomes a new store only when `may_create`.
// kExitOk, or kExitCannotOpen once the reason is on stderr.
int OpenForWriting(std::string_view command, const std::string& dir, bool may_create,
                   std::unique_ptr<storage::Store>* store);

// RocksDB's estimate of the store's entries (it counts overwrites and deletes
// until they are compacted), for a progress line; 0 when unknown.
std::uint64_t EstimatedEntries(const storage::Store& store);

// Prints "tiercache COMMAND: MESSAGE" on stderr.
void PrintError(std::string_view command, std::string_view message);

// Prints the status's message with PrintError and returns kExitProblems.
int Failed(std::string_view command, const Status& status);

}  // namespace tiercache::tool
