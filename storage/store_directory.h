#pragma once

// Storage-internal: what lies at a store's path, before RocksDB is let near it.

#include <string>

#include "tiercache/status.h"

namespace tiercache::storage {

enum class DirectoryKind {
  kMissing,         // nothing at the path
  kEmpty,           // an empty directory, or one left by a creation that
                    // stopped before RocksDB wrote its CURRENT file or
                    // before it added tiercache's column families (an empty
                    // database with the default column family alone)
  kStore,           // a RocksDB database with tiercache's meta column family
  kForeignRocksDb,  // a RocksDB database without it
  kForeign,         // a directory holding other files
  kNotDirectory,    // a file or something else that is not a directory
};

// Classifies `path` without modifying anything. IOError naming the path when
// it cannot be read.
[[nodiscard]] Status InspectDirectory(const std::string& path, DirectoryKind* kind);

// Creates a fresh directory, readable by its owner only, inside `parent`
// (created when missing; empty: $TMPDIR, else /tmp) and names it in *dir.
[[nodiscard]] Status MakePrivateDirectory(const std::string& parent, std::string* dir);

// Removes `dir` and everything below it; errors are ignored, as this only
// cleans up after a secondary instance.
void RemoveDirectoryTree(const std::string& dir);

}  // namespace tiercache::storage
