#pragma once

// Storage-internal, for tests only: includes RocksDB, and is built as a library
// of its own that libtiercache does not contain (storage/meson.build).

#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace tiercache::storage {

// The kinds of file operation a fault can hit; a set of them is a bit mask.
enum FileOp : unsigned {
  kFileWrite = 1,   // Append, PositionedAppend, Truncate of an open file
  kFileSync = 2,    // Sync, Fsync, RangeSync of a file; Fsync of a directory
  kFileRename = 4,  // RenameFile
  kFileCreate = 8,  // NewWritableFile, ReopenWritableFile
};
inline constexpr unsigned kAnyFileOp = kFileWrite | kFileSync | kFileRename | kFileCreate;

// A RocksDB file system over another one (the local one by default) that
// fails chosen operations, runs out of space after a byte budget, and can
// forget what was never synced, as a power cut would.
//
// Faults: InjectAt picks the nth operation of a set of kinds, counted from the
// call, to fail with an IOError (not retryable, like the local file system's),
// once (kOnce) or with every later operation of those kinds too (kForGood),
// until ClearFaults. CutPower fails every later operation of every kind. A
// failed operation leaves its file unchanged.
//
// Power cuts: the file system tracks each file it created or reopened for
// writing: its size, the size when it was last synced, and whether a sync of
// its directory has followed its creation. DropUnsyncedData, once RocksDB has
// closed, cuts each such file back to its synced size and deletes those whose
// directory entry was never synced. Files it did not write are taken as
// durable. Syncs are recorded but never reach the disk below: only a
// simulated power cut needs them. A rename moves the tracking to the new name.
// One that replaces a file counts as durable at once, with every entry made
// before it in the same directory, as on a file system that journals its
// metadata in order: a cut between a rename and its directory sync keeps the
// new file rather than the old (RocksDB syncs the directory right after the
// renames it depends on, such as CURRENT's).
//
// NewRandomRWFile and ReuseWritableFile are refused: the store uses neither,
// and writes through them would escape the tracking.
//
// Thread-safety: thread-safe; one mutex guards all state. Ownership: shared
// by the store's RocksDB Env and the test (StoreOptions::file_system); files
// it opens refer to it and must not outlive it.
class FaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  enum class Fault {
    kOnce,     // the chosen operation fails, later ones succeed
    kForGood,  // the chosen operation and every later one of its kinds fail
  };

  explicit FaultFileSystem(
      std::shared_ptr<rocksdb::FileSystem> target = rocksdb::FileSystem::Default());

  static const char* kClassName() { return "TiercacheFaultFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // Fails the nth operation (1: the next) among those of the kinds in `ops`,
  // counted from now. Replaces a fault injected before and not yet fired.
  void InjectAt(unsigned ops, std::uint64_t n, Fault fault);
  // Every later write fails with NoSpace once `bytes` more have been written;
  // a write that does not fit is refused whole.
  void SetSpaceBudget(std::uint64_t bytes);
  // Every later operation of every kind fails, as on a machine without power.
  void CutPower();
  // Removes every fault, the space budget and the power cut.
  void ClearFaults();

  // Operations of the kinds in `ops` attempted so far, failed ones included.
  std::uint64_t Count(unsigned ops) const;
  // Operations failed by a fault, the budget or a power cut so far.
  std::uint64_t injected() const;

  // Leaves on disk only what was synced (see above), forgets the tracking and
  // clears every fault. REQUIRES: no file of this file system is open.
  rocksdb::IOStatus DropUnsyncedData();

  // The FileSystem interface.
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;

 private:
  friend class TrackedFile;       // fault_file_system.cc
  friend class TrackedDirectory;  // fault_file_system.cc

  struct FileState {
    std::uint64_t size = 0;
    std::uint64_t synced = 0;
    bool entry_synced = false;  // a sync of the directory followed the creation
  };
  // OK, or the fault for an operation of kind `op` on `name` writing `bytes`.
  rocksdb::IOStatus Check(FileOp op, const std::string& name, std::uint64_t bytes = 0);
  void Wrote(const std::string& name, std::uint64_t end);
  void Truncated(const std::string& name, std::uint64_t size);
  rocksdb::IOStatus SyncFile(const std::string& name);
  rocksdb::IOStatus SyncDirectory(const std::string& directory);
  void MarkEntriesSynced(const std::string& directory);
  rocksdb::IOStatus TruncateFile(const std::string& name, std::uint64_t size);
  rocksdb::IOStatus OpenTracked(const std::string& name, bool reopen,
                                std::unique_ptr<rocksdb::FSWritableFile>* file);

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;  // GUARDED_BY(mu_)
  std::uint64_t counts_[4] = {};            // GUARDED_BY(mu_): per FileOp bit
  std::uint64_t injected_ = 0;              // GUARDED_BY(mu_)
  unsigned armed_ops_ = 0;                  // GUARDED_BY(mu_): kinds of the pending fault
  std::uint64_t armed_left_ = 0;            // GUARDED_BY(mu_): operations until it fires
  Fault armed_fault_ = Fault::kOnce;        // GUARDED_BY(mu_)
  unsigned failing_ops_ = 0;                // GUARDED_BY(mu_): kinds failing for good
  bool has_budget_ = false;                 // GUARDED_BY(mu_)
  std::uint64_t budget_ = 0;                // GUARDED_BY(mu_): bytes left
};

}  // namespace tiercache::storage
