#include "storage/store_directory.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "storage/key_layout.h"
#include "storage/rocksdb_status.h"

namespace tiercache::storage {
namespace fs = std::filesystem;
namespace {

Status FsError(std::string_view what, const std::string& path, const std::error_code& ec) {
  return Status::IOError(fmt::format("{} {}: {}", what, path, ec.message()));
}

// True when `name` is `prefix`, one or more decimal digits, then `suffix`.
bool IsNumbered(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size()) return false;
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return false;
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Files RocksDB creates before CURRENT while making a new database. A
// directory holding only these is a creation that stopped half-way, and is
// safe to create the store in again. Exact names only: a looser match takes a
// user's server.log or LOGO.png for a leftover, and creates a store among the
// user's files.
bool IsRocksDbCreationLeftover(std::string_view name) {
  return name == "LOCK" || name == "IDENTITY" || name == "LOG" ||
         IsNumbered(name, "LOG.old.", "") || IsNumbered(name, "MANIFEST-", "") ||
         IsNumbered(name, "OPTIONS-", "") || IsNumbered(name, "OPTIONS-", ".dbtmp") ||
         IsNumbered(name, "", ".log") || IsNumbered(name, "", ".dbtmp");
}

// True when the database at `path` holds no data at all: no table file and
// no WAL record. RocksDB writes CURRENT before it adds the column families it
// was asked to create, so a store's creation that stopped in between leaves
// such a database with the default column family alone.
bool HoldsNoData(const std::string& path) {
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& file = it->path();
    if (file.extension() == ".sst") return false;
    if (file.extension() == ".log" && fs::file_size(file, ec) != 0) return false;
  }
  return !ec;
}

Status ClassifyRocksDb(const std::string& path, DirectoryKind* kind) {
  std::vector<std::string> families;
  const rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &families);
  if (!s.ok()) return FromRocksDb(s, fmt::format("reading the column families of {}", path));
  const bool has_meta =
      std::find(families.begin(), families.end(), kMetaColumnFamily) != families.end();
  const bool unfinished = families == std::vector<std::string>{rocksdb::kDefaultColumnFamilyName} &&
                          HoldsNoData(path);
  *kind = has_meta     ? DirectoryKind::kStore
          : unfinished ? DirectoryKind::kEmpty
                       : DirectoryKind::kForeignRocksDb;
  return Status::OK();
}

}  // namespace

Status InspectDirectory(const std::string& path, DirectoryKind* kind) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    *kind = DirectoryKind::kMissing;
    return Status::OK();
  }
  if (ec) return FsError("cannot inspect", path, ec);
  if (st.type() != fs::file_type::directory) {
    *kind = DirectoryKind::kNotDirectory;
    return Status::OK();
  }
  if (fs::exists(fs::path(path) / "CURRENT", ec)) return ClassifyRocksDb(path, kind);
  bool only_leftovers = true;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    only_leftovers = only_leftovers && IsRocksDbCreationLeftover(it->path().filename().string());
  }
  if (ec) return FsError("cannot list", path, ec);
  *kind = only_leftovers ? DirectoryKind::kEmpty : DirectoryKind::kForeign;
  return Status::OK();
}

Status MakePrivateDirectory(const std::string& parent, std::string* dir) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    base = (tmpdir != nullptr && tmpdir[0] != '\0') ? tmpdir : "/tmp";
  }
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) return FsError("cannot create the directory", base, ec);
  std::string pattern = (fs::path(base) / "tiercache-secondary-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::IOError(
        fmt::format("cannot create a directory in {}: {}", base, std::strerror(errno)));
  }
  *dir = std::move(pattern);
  return Status::OK();
}

void RemoveDirectoryTree(const std::string& dir) {
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace tiercache::storage
