#include "storage/fault_file_system.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <utility>

namespace tiercache::storage {
namespace {

std::string_view OpName(FileOp op) {
  switch (op) {
    case kFileWrite:
      return "write";
    case kFileSync:
      return "sync";
    case kFileRename:
      return "rename";
    case kFileCreate:
      return "create";
  }
  return "operation";
}

// The directory a file's entry lives in, as RocksDB names both ("db/000004.log"
// lies in "db").
std::string ParentOf(const std::string& name) {
  const std::size_t slash = name.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : name.substr(0, slash);
}

std::string WithoutTrailingSlash(std::string name) {
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  return name;
}

}  // namespace

// A writable file that asks its file system before each write and sync and
// reports what reached the file.
class TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(FaultFileSystem* fs, std::string name, std::unique_ptr<rocksdb::FSWritableFile> file)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), name_(std::move(name)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(kFileWrite, name_, data.size());
    if (s.ok()) s = target()->Append(data, options, dbg);
    if (s.ok()) fs_->Wrote(name_, target()->GetFileSize(options, dbg));
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& /*info*/,
                           rocksdb::IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, std::uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(kFileWrite, name_, data.size());
    if (s.ok()) s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) fs_->Wrote(name_, offset + data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, std::uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& /*info*/,
                                     rocksdb::IODebugContext* dbg) override {
    return PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus Truncate(std::uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(kFileWrite, name_);
    if (s.ok()) s = target()->Truncate(size, options, dbg);
    if (s.ok()) fs_->Truncated(name_, size);
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& /*options*/,
                         rocksdb::IODebugContext* /*dbg*/) override {
    return fs_->SyncFile(name_);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& /*options*/,
                          rocksdb::IODebugContext* /*dbg*/) override {
    return fs_->SyncFile(name_);
  }
  // sync_file_range(2) makes no promise of durability: it can fail like a
  // sync but never counts as one.
  rocksdb::IOStatus RangeSync(std::uint64_t /*offset*/, std::uint64_t /*bytes*/,
                              const rocksdb::IOOptions& /*options*/,
                              rocksdb::IODebugContext* /*dbg*/) override {
    return fs_->Check(kFileSync, name_);
  }

 private:
  FaultFileSystem* const fs_;
  const std::string name_;
};

// A directory whose syncs can fail and, when they succeed, make the entries
// of the files created in it durable.
class TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(FaultFileSystem* fs, std::string name,
                   std::unique_ptr<rocksdb::FSDirectory> directory)
      : FSDirectoryWrapper(std::move(directory)), fs_(fs), name_(std::move(name)) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& /*options*/,
                          rocksdb::IODebugContext* /*dbg*/) override {
    return fs_->SyncDirectory(name_);
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg,
                                        const rocksdb::DirFsyncOptions& /*dir_options*/) override {
    return Fsync(options, dbg);
  }

 private:
  FaultFileSystem* const fs_;
  const std::string name_;
};

FaultFileSystem::FaultFileSystem(std::shared_ptr<rocksdb::FileSystem> target)
    : FileSystemWrapper(target) {}

// ---------------------------------------------------------------------------
// Faults

void FaultFileSystem::InjectAt(unsigned ops, std::uint64_t n, Fault fault) {
  std::lock_guard lock(mu_);
  armed_ops_ = ops & kAnyFileOp;
  armed_left_ = n;
  armed_fault_ = fault;
}

void FaultFileSystem::SetSpaceBudget(std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  has_budget_ = true;
  budget_ = bytes;
}

void FaultFileSystem::CutPower() {
  std::lock_guard lock(mu_);
  failing_ops_ = kAnyFileOp;
}

void FaultFileSystem::ClearFaults() {
  std::lock_guard lock(mu_);
  armed_ops_ = 0;
  failing_ops_ = 0;
  has_budget_ = false;
}

std::uint64_t FaultFileSystem::Count(unsigned ops) const {
  std::lock_guard lock(mu_);
  std::uint64_t total = 0;
  for (unsigned bit = 0; bit < 4; ++bit) {
    if ((ops & (1u << bit)) != 0) total += counts_[bit];
  }
  return total;
}

std::uint64_t FaultFileSystem::injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

rocksdb::IOStatus FaultFileSystem::Check(FileOp op, const std::string& name, std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  // One bit per kind, so its position indexes counts_.
  const std::uint64_t nth = ++counts_[std::countr_zero(static_cast<unsigned>(op)) % 4];
  bool fail = (failing_ops_ & op) != 0;
  if (!fail && (armed_ops_ & op) != 0 && --armed_left_ == 0) {
    fail = true;
    if (armed_fault_ == Fault::kForGood) failing_ops_ |= armed_ops_;
    armed_ops_ = 0;
  }
  if (fail) {
    ++injected_;
    // Not retryable, as the local file system's errors are not: RocksDB then
    // stops writes until the store is reopened.
    return rocksdb::IOStatus::IOError(
        fmt::format("injected fault: {} #{} of {}", OpName(op), nth, name));
  }
  if (op == kFileWrite && has_budget_) {
    if (bytes > budget_) {
      ++injected_;
      return rocksdb::IOStatus::NoSpace(
          fmt::format("injected: no space for {} bytes of {}", bytes, name));
    }
    budget_ -= bytes;
  }
  return rocksdb::IOStatus::OK();
}

// ---------------------------------------------------------------------------
// Tracking

void FaultFileSystem::Wrote(const std::string& name, std::uint64_t end) {
  std::lock_guard lock(mu_);
  FileState& file = files_[name];
  file.size = std::max(file.size, end);
}

void FaultFileSystem::Truncated(const std::string& name, std::uint64_t size) {
  std::lock_guard lock(mu_);
  FileState& file = files_[name];
  file.size = size;
  file.synced = std::min(file.synced, size);
}

// Syncs are recorded, not performed: durability is what DropUnsyncedData
// makes of the records, and a real fsync would cost milliseconds per write.
rocksdb::IOStatus FaultFileSystem::SyncFile(const std::string& name) {
  rocksdb::IOStatus s = Check(kFileSync, name);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  FileState& file = files_[name];
  file.synced = file.size;
  return s;
}

rocksdb::IOStatus FaultFileSystem::SyncDirectory(const std::string& directory) {
  rocksdb::IOStatus s = Check(kFileSync, directory);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  MarkEntriesSynced(directory);
  return s;
}

rocksdb::IOStatus FaultFileSystem::OpenTracked(const std::string& name, bool reopen,
                                               std::unique_ptr<rocksdb::FSWritableFile>* file) {
  std::lock_guard lock(mu_);
  auto [it, created] = files_.try_emplace(name);
  if (created && reopen) {
    // A file from before this file system, or from before its last drop:
    // durable as it is.
    std::uint64_t size = 0;
    if (target()->GetFileSize(name, rocksdb::IOOptions(), &size, nullptr).ok()) {
      it->second = FileState{size, size, true};
    }
  } else if (!reopen) {
    it->second = FileState{};
  }
  *file = std::make_unique<TrackedFile>(this, name, std::move(*file));
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus FaultFileSystem::DropUnsyncedData() {
  std::map<std::string, FileState> files;
  {
    std::lock_guard lock(mu_);
    files.swap(files_);
    armed_ops_ = 0;
    failing_ops_ = 0;
    has_budget_ = false;
  }
  for (const auto& [name, file] : files) {
    const rocksdb::IOStatus s = file.entry_synced ? TruncateFile(name, file.synced)
                                                  : target()->DeleteFile(name, {}, nullptr);
    if (!s.ok() && !s.IsPathNotFound()) return s;
  }
  return rocksdb::IOStatus::OK();
}

// Through an open file: the local FileSystem has no Truncate by name.
rocksdb::IOStatus FaultFileSystem::TruncateFile(const std::string& name, std::uint64_t size) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(name, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Truncate(size, {}, nullptr);
  const rocksdb::IOStatus closed = file ? file->Close({}, nullptr) : rocksdb::IOStatus::OK();
  return s.ok() ? closed : s;
}

// ---------------------------------------------------------------------------
// The FileSystem interface

rocksdb::IOStatus FaultFileSystem::NewWritableFile(const std::string& name,
                                                   const rocksdb::FileOptions& options,
                                                   std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                   rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = Check(kFileCreate, name);
  if (s.ok()) s = target()->NewWritableFile(name, options, result, dbg);
  return s.ok() ? OpenTracked(name, /*reopen=*/false, result) : s;
}

rocksdb::IOStatus FaultFileSystem::ReopenWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = Check(kFileCreate, name);
  if (s.ok()) s = target()->ReopenWritableFile(name, options, result, dbg);
  return s.ok() ? OpenTracked(name, /*reopen=*/true, result) : s;
}

rocksdb::IOStatus FaultFileSystem::ReuseWritableFile(
    const std::string& name, const std::string& /*old_name*/,
    const rocksdb::FileOptions& /*options*/, std::unique_ptr<rocksdb::FSWritableFile>* /*result*/,
    rocksdb::IODebugContext* /*dbg*/) {
  return rocksdb::IOStatus::NotSupported("FaultFileSystem does not recycle files", name);
}

rocksdb::IOStatus FaultFileSystem::NewRandomRWFile(
    const std::string& name, const rocksdb::FileOptions& /*options*/,
    std::unique_ptr<rocksdb::FSRandomRWFile>* /*result*/, rocksdb::IODebugContext* /*dbg*/) {
  return rocksdb::IOStatus::NotSupported("FaultFileSystem has no random-access writes", name);
}

rocksdb::IOStatus FaultFileSystem::NewDirectory(const std::string& name,
                                                const rocksdb::IOOptions& options,
                                                std::unique_ptr<rocksdb::FSDirectory>* result,
                                                rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewDirectory(name, options, result, dbg);
  if (s.ok()) {
    *result =
        std::make_unique<TrackedDirectory>(this, WithoutTrailingSlash(name), std::move(*result));
  }
  return s;
}

rocksdb::IOStatus FaultFileSystem::RenameFile(const std::string& from, const std::string& to,
                                              const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = Check(kFileRename, to);
  if (!s.ok()) return s;
  const bool replaces = target()->FileExists(to, options, dbg).ok();
  s = target()->RenameFile(from, to, options, dbg);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  const auto replaced = files_.find(to);
  // Replacing a file whose entry is durable leaves a durable entry (see the
  // header); a file the tracking does not know is durable.
  const bool durable_target =
      replaces && (replaced == files_.end() || replaced->second.entry_synced);
  if (replaced != files_.end()) files_.erase(replaced);
  const auto source = files_.find(from);
  if (source != files_.end()) {
    files_[to] = source->second;
    files_.erase(source);
  }
  // As on a file system that journals its metadata in order, a durable rename
  // makes the entries made before it in its directory durable too.
  if (durable_target) MarkEntriesSynced(ParentOf(to));
  return s;
}

// REQUIRES: mu_ held.
void FaultFileSystem::MarkEntriesSynced(const std::string& directory) {
  for (auto& [name, file] : files_) {
    if (ParentOf(name) == directory) file.entry_synced = true;
  }
}

rocksdb::IOStatus FaultFileSystem::DeleteFile(const std::string& name,
                                              const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->DeleteFile(name, options, dbg);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(name);
  }
  return s;
}

}  // namespace tiercache::storage
