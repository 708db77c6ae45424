#include "storage/store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <utility>

#include "storage/expiry_filter.h"
#include "storage/guarded.h"
#include "storage/key_layout.h"
#include "storage/perf_counting.h"
#include "storage/record_format.h"
#include "storage/rocksdb_options.h"
#include "storage/rocksdb_status.h"
#include "storage/store_directory.h"
#include "storage/store_handles.h"
#include "tiercache/options.h"

namespace tiercache::storage {

namespace {

// Bytes a write charges to the free-space guard beyond its key and record:
// the WAL record header, the namespace id, RocksDB's internal key suffix.
constexpr std::uint64_t kWriteOverheadBytes = 64;

// A batch of the meta column family, its room made up front (a namespace
// name is at most 255 bytes): RocksDB's batch must not grow inside its Put,
// where a refused allocation ends the process (store_batch.cc says why).
constexpr std::size_t kMetaBatchBytes = 1024;

rocksdb::Slice ToSlice(std::string_view view) { return {view.data(), view.size()}; }

std::string_view ToView(const rocksdb::Slice& slice) { return {slice.data(), slice.size()}; }

}  // namespace

Status CheckNamespaceName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("namespace name is empty");
  if (name.size() > kMaxNamespaceNameBytes) {
    return Status::InvalidArgument(
        fmt::format("namespace name is {} bytes, longer than the limit of {}", name.size(),
                    kMaxNamespaceNameBytes));
  }
  return Status::OK();
}

Status CheckKey(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument(
        fmt::format("key is {} bytes, longer than the limit of {}", key.size(), kMaxKeyBytes));
  }
  return Status::OK();
}

Status StoreOptions::Validate() const {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  if (path.empty()) return Status::InvalidArgument("StoreOptions::path is empty");
  if (free_space_recheck_interval < milliseconds(1) || free_space_recheck_interval > hours(1)) {
    return Status::InvalidArgument(
        fmt::format("StoreOptions::free_space_recheck_interval is {} ms, outside 1 ms .. 1 hour",
                    free_space_recheck_interval.count()));
  }
  if (block_cache_bytes > (std::size_t{1} << 40)) {
    return Status::InvalidArgument(
        fmt::format("StoreOptions::block_cache_bytes is {}, above 2^40", block_cache_bytes));
  }
  if (write_buffer_bytes < 64 * 1024 || write_buffer_bytes > (std::size_t{1} << 30)) {
    return Status::InvalidArgument(fmt::format(
        "StoreOptions::write_buffer_bytes is {}, outside 64 KiB .. 1 GiB", write_buffer_bytes));
  }
  return Status::OK();
}

std::uint64_t StoreOptions::EffectiveFreeSpaceReserve() const {
  if (free_space_reserve == 0) return 0;
  return free_space_reserve + 3 * std::uint64_t{write_buffer_bytes};
}

// ---------------------------------------------------------------------------
// Opening and closing

namespace {

// The refusals that need no RocksDB: what lies at the path does not suit the
// mode.
Status CheckDirectoryKind(const StoreOptions& options, DirectoryKind kind) {
  const bool secondary = options.mode == StoreOptions::Mode::kSecondary;
  switch (kind) {
    case DirectoryKind::kMissing:
    case DirectoryKind::kEmpty:
      if (secondary) return Status::NotFound(fmt::format("no tiercache store at {}", options.path));
      return Status::OK();
    case DirectoryKind::kStore:
      return Status::OK();
    case DirectoryKind::kForeignRocksDb:
      return Status::InvalidArgument(
          fmt::format("{} is a RocksDB database but not a tiercache store (no {} column family)",
                      options.path, kMetaColumnFamily));
    case DirectoryKind::kForeign:
      return Status::InvalidArgument(fmt::format(
          "{} is not a tiercache store: the directory holds other files", options.path));
    case DirectoryKind::kNotDirectory:
      return Status::InvalidArgument(fmt::format("{} is not a directory", options.path));
  }
  return Status::OK();
}

Status LockedStatus(const std::string& path, const rocksdb::Status& s) {
  if (IsLockHeldByThisProcess(s)) {
    return Status::Busy(fmt::format(
        "the store at {} is in use by another Store of this process (a Cache or a tool's)",
        path));
  }
  return Status::Busy(fmt::format("the store at {} is in use by another process", path));
}

}  // namespace

Status Store::Open(const StoreOptions& options, std::unique_ptr<Store>* store) {
  return Guarded("open", options.path, [&]() -> Status {
    Status s = options.Validate();
    DirectoryKind kind = DirectoryKind::kMissing;
    if (s.ok()) s = InspectDirectory(options.path, &kind);
    if (s.ok()) s = CheckDirectoryKind(options, kind);
    if (!s.ok()) return s;
    std::unique_ptr<Store> opened(new Store(options, NewExpiryFilter(options.clock)));
    const bool read_write = options.mode == StoreOptions::Mode::kReadWrite;
    s = opened->OpenRocksDb(kind == DirectoryKind::kMissing || kind == DirectoryKind::kEmpty);
    if (s.ok()) s = opened->CheckFormat(/*may_initialise=*/read_write);
    if (s.ok() && read_write) s = opened->LoadNamespaces();
    if (s.ok()) s = opened->LoadVersionCeiling();
    if (s.ok()) *store = std::move(opened);
    return s;
  });
}

Store::Store(const StoreOptions& options, std::unique_ptr<rocksdb::CompactionFilter> filter)
    : options_(options), expiry_filter_(std::move(filter)), handles_(std::make_unique<Handles>()) {
  if (options_.mode == StoreOptions::Mode::kReadWrite) {
    guard_ = std::make_unique<FreeSpaceGuard>(FreeSpaceGuard::Options{
        options_.path, options_.EffectiveFreeSpaceReserve(), options_.free_space_recheck_interval,
        options_.free_space_probe, options_.clock, [this] { return CompactionRoom(); }});
  }
  handles_->data_write = DataWriteOptions(options_.durability);
}

Store::~Store() {
  handles_.reset();
  if (!secondary_dir_.empty()) RemoveDirectoryTree(secondary_dir_);
}

Status Store::OpenRocksDb(bool create) {
  if (options_.file_system) handles_->env = rocksdb::NewCompositeEnv(options_.file_system);
  const RocksDbConfig config =
      MakeRocksDbConfig(options_, expiry_filter_.get(), handles_->env.get(), create);
  rocksdb::Status s;
  if (options_.mode == StoreOptions::Mode::kSecondary) {
    Status made = MakePrivateDirectory(options_.secondary_path, &secondary_dir_);
    if (!made.ok()) return made;
    s = rocksdb::DB::OpenAsSecondary(config.db, options_.path, secondary_dir_, config.families,
                                     &handles_->families, &handles_->db);
  } else {
    s = rocksdb::DB::Open(config.db, options_.path, config.families, &handles_->families,
                          &handles_->db);
  }
  if (IsLockHeld(s)) return LockedStatus(options_.path, s);
  if (!s.ok()) return FromRocksDb(s, fmt::format("opening the store at {}", options_.path));
  handles_->meta = handles_->families[kMetaFamilyIndex];
  handles_->data = handles_->families[kDataFamilyIndex];
  return Status::OK();
}

Status Store::CheckFormat(bool may_initialise) {
  std::string value;
  const rocksdb::Status s =
      handles_->db->Get(rocksdb::ReadOptions(), handles_->meta, ToSlice(kFormatVersionKey), &value);
  if (s.IsNotFound() && may_initialise) {
    // A new store, or one whose creation stopped before this write.
    rocksdb::WriteBatch batch(kMetaBatchBytes);
    batch.Put(handles_->meta, ToSlice(kFormatVersionKey), std::to_string(kStoreFormatVersion));
    batch.Put(handles_->meta, ToSlice(kNextNamespaceIdKey), EncodeNamespaceId(kFirstNamespaceId));
    return CommitMeta(&batch, "writing the format version");
  }
  if (s.IsNotFound()) {
    return Status::Busy(
        fmt::format("the store at {} is still being created; try again", options_.path));
  }
  if (!s.ok())
    return FromRocksDb(s, fmt::format("reading the format version of {}", options_.path));
  std::uint32_t version = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return Status::Corruption(
        fmt::format("the store at {} has an unreadable format version '{}'", options_.path, value));
  }
  if (version > kStoreFormatVersion) {
    return Status::NotSupported(
        fmt::format("{}: store format version {} is newer than this tiercache ({})", options_.path,
                    version, kStoreFormatVersion));
  }
  if (version < kStoreFormatVersion && may_initialise) {
    rocksdb::WriteBatch batch(kMetaBatchBytes);
    batch.Put(handles_->meta, ToSlice(kFormatVersionKey), std::to_string(kStoreFormatVersion));
    return CommitMeta(&batch, "raising the format version");
  }
  return Status::OK();
}

Status Store::LoadNamespaces() {
  std::string value;
  const rocksdb::Status s = handles_->db->Get(rocksdb::ReadOptions(), handles_->meta,
                                              ToSlice(kNextNamespaceIdKey), &value);
  if (!s.ok())
    return FromRocksDb(s, fmt::format("reading the next namespace id of {}", options_.path));
  const std::optional<std::uint32_t> next = DecodeNamespaceId(value);
  if (!next) {
    return Status::Corruption(
        fmt::format("the store at {} has a malformed next namespace id", options_.path));
  }
  std::vector<Namespace> namespaces;
  Status listed = ListNamespaces(&namespaces);
  if (!listed.ok()) return listed;
  std::unique_lock lock(namespaces_mu_);
  next_id_ = *next;
  for (const Namespace& ns : namespaces) live_ids_.insert(ns.id);
  return Status::OK();
}

Status Store::LoadVersionCeiling() {
  std::string value;
  const rocksdb::Status s = handles_->db->Get(rocksdb::ReadOptions(), handles_->meta,
                                              ToSlice(kVersionCeilingKey), &value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok())
    return FromRocksDb(s, fmt::format("reading the version ceiling of {}", options_.path));
  const std::optional<std::uint64_t> ceiling = DecodeU64(value);
  if (!ceiling) {
    return Status::Corruption(
        fmt::format("the store at {} has a malformed version ceiling", options_.path));
  }
  // Above kMaxVersion + 1 only when an older tiercache's load wrote it: the
  // store still opens, and the cache's VersionSource has no versions left.
  version_ceiling_.store(*ceiling);
  return Status::OK();
}

std::uint64_t Store::version_ceiling() const { return version_ceiling_.load(); }

Status Store::RaiseVersionCeiling(std::uint64_t ceiling) {
  return Guarded("raising the version ceiling", options_.path, [&]() -> Status {
    Status s = CheckWritable("raise the version ceiling");
    if (!s.ok()) return s;
    if (ceiling > kMaxVersion + 1) {
      return Status::NotSupported(fmt::format(
          "the store at {} has used up its entry versions: a version ceiling of {} is above {}",
          options_.path, ceiling, kMaxVersion + 1));
    }
    std::lock_guard lock(version_ceiling_mu_);
    if (ceiling <= version_ceiling_.load()) return Status::OK();
    rocksdb::WriteBatch batch(kMetaBatchBytes);
    batch.Put(handles_->meta, ToSlice(kVersionCeilingKey), EncodeU64(ceiling));
    s = CommitMeta(&batch, "raising the version ceiling");
    if (s.ok()) version_ceiling_.store(ceiling);
    return s;
  });
}

// ---------------------------------------------------------------------------
// Namespaces

Status Store::OpenNamespace(std::string_view name, Namespace* ns) {
  return Guarded("opening a namespace", options_.path, [&]() -> Status {
    Status s = CheckNamespaceName(name);
    if (s.ok()) s = LookupNamespace(name, ns);
    if (!s.IsNotFound() || options_.mode == StoreOptions::Mode::kSecondary) return s;
    std::unique_lock lock(namespaces_mu_);
    // Another thread may have created it meanwhile.
    s = LookupNamespace(name, ns);
    return s.IsNotFound() ? CreateNamespace(name, ns) : s;
  });
}

Status Store::LookupNamespace(std::string_view name, Namespace* ns) const {
  std::string value;
  const rocksdb::Status s =
      handles_->db->Get(rocksdb::ReadOptions(), handles_->meta, NamespaceMetaKey(name), &value);
  if (s.IsNotFound()) {
    return Status::NotFound(
        fmt::format("no namespace '{}' in the store at {}", name, options_.path));
  }
  if (!s.ok())
    return FromRocksDb(s, fmt::format("looking up namespace '{}' in {}", name, options_.path));
  const std::optional<std::uint32_t> id = DecodeNamespaceId(value);
  if (!id) {
    return Status::Corruption(
        fmt::format("namespace '{}' in the store at {} has a malformed id", name, options_.path));
  }
  *ns = Namespace{*id, std::string(name)};
  return Status::OK();
}

// REQUIRES: namespaces_mu_ held exclusively.
Status Store::CreateNamespace(std::string_view name, Namespace* ns) {
  if (next_id_ > kLastNamespaceId) {
    return Status::NotSupported(
        fmt::format("the store at {} has used up all its namespace ids", options_.path));
  }
  const std::uint32_t id = next_id_;
  rocksdb::WriteBatch batch(kMetaBatchBytes);
  batch.Put(handles_->meta, NamespaceMetaKey(name), EncodeNamespaceId(id));
  batch.Put(handles_->meta, ToSlice(kNextNamespaceIdKey), EncodeNamespaceId(id + 1));
  // What can allocate is done before the commit and undone after a failure,
  // so that a committed namespace is always live here and its id never
  // handed out again (one skipped after a failure is only unused).
  Namespace created{id, std::string(name)};
  const std::string what = fmt::format("creating namespace '{}'", name);
  next_id_ = id + 1;
  live_ids_.insert(id);
  Status s = CommitMeta(&batch, what);
  if (!s.ok()) {
    live_ids_.erase(id);
    return s;
  }
  *ns = std::move(created);
  return Status::OK();
}

Status Store::ListNamespaces(std::vector<Namespace>* namespaces) const {
  return Guarded("listing namespaces", options_.path, [&]() -> Status {
    const std::string lower(kNamespaceKeyPrefix);
    const std::string upper = *PrefixSuccessor(lower);
    const rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions read;
    read.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(handles_->db->NewIterator(read, handles_->meta));
    namespaces->clear();
    for (it->Seek(lower); it->Valid(); it->Next()) {
      const std::optional<std::uint32_t> id = DecodeNamespaceId(ToView(it->value()));
      const std::string_view name = ToView(it->key()).substr(lower.size());
      if (!id) {
        return Status::Corruption(fmt::format(
            "namespace '{}' in the store at {} has a malformed id", name, options_.path));
      }
      namespaces->push_back(Namespace{*id, std::string(name)});
    }
    return FromRocksDb(it->status(), fmt::format("listing the namespaces of {}", options_.path));
  });
}

Status Store::DropNamespace(std::string_view name) {
  return Guarded("dropping a namespace", options_.path, [&]() -> Status {
    Status s = CheckNamespaceName(name);
    if (s.ok()) s = CheckWritable("DropNamespace");
    if (!s.ok()) return s;
    std::unique_lock lock(namespaces_mu_);
    Namespace ns;
    s = LookupNamespace(name, &ns);
    if (!s.ok()) return s;
    rocksdb::WriteBatch batch(kMetaBatchBytes);
    batch.Delete(handles_->meta, NamespaceMetaKey(name));
    // One range tombstone however many keys: the drop's cost does not grow
    // with the namespace. The id is never handed out again, so the range
    // stays dead until compactions have removed it.
    batch.DeleteRange(handles_->data, EncodeNamespaceId(ns.id), EncodeNamespaceId(ns.id + 1));
    s = CommitMeta(&batch, fmt::format("dropping namespace '{}'", name));
    if (s.ok()) live_ids_.erase(ns.id);
    return s;
  });
}

// ---------------------------------------------------------------------------
// Reads and writes

Status Store::Get(const Namespace& ns, std::string_view key, std::string* record) const {
  return Guarded("Get", options_.path, [&]() -> Status {
    Status s = CheckKey(key);
    if (!s.ok()) return s;
    // Per thread: a namespaced key is past std::string's inline capacity, and
    // an allocation per call shows on the read path.
    thread_local std::string data_key;
    EncodeDataKey(ns.id, key, &data_key);
    const PerfCountingOff quiet;
    const rocksdb::Status rs =
        handles_->db->Get(rocksdb::ReadOptions(), handles_->data, data_key, record);
    // Misses are common in a cache: no message, so no memory. Callers name
    // the key they asked for.
    if (rs.IsNotFound()) return Status::NotFound("");
    if (!rs.ok()) return FromRocksDb(rs, Describe("Get", ns));
    return Status::OK();
  });
}

void Store::GetMany(const Namespace& ns, const std::vector<std::string_view>& keys,
                    std::vector<std::string>* records, std::vector<Status>* statuses) const {
  records->resize(keys.size());
  statuses->assign(keys.size(), Status::OK());
  const Status s = Guarded("GetMany", options_.path, [&]() -> Status {
    // The data keys side by side in one string: a namespaced key is past
    // std::string's inline capacity, and a string each was an allocation each.
    std::size_t total = 0;
    for (std::string_view key : keys) total += kNamespaceIdBytes + key.size();
    std::string data_keys;
    data_keys.reserve(total);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      (*statuses)[i] = CheckKey(keys[i]);
      AppendDataKey(ns.id, keys[i], &data_keys);
    }
    std::vector<rocksdb::Slice> slices;
    slices.reserve(keys.size());
    for (std::size_t i = 0, at = 0; i < keys.size(); ++i) {
      slices.emplace_back(data_keys.data() + at, kNamespaceIdBytes + keys[i].size());
      at += slices.back().size();
    }
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> found(keys.size());
    const PerfCountingOff quiet;
    handles_->db->MultiGet(rocksdb::ReadOptions(), handles_->data, keys.size(), slices.data(),
                           values.data(), found.data());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!(*statuses)[i].ok()) continue;
      if (found[i].ok()) {
        (*records)[i].assign(values[i].data(), values[i].size());
      } else if (found[i].IsNotFound()) {
        (*statuses)[i] = Status::NotFound("");
      } else {
        (*statuses)[i] = FromRocksDb(found[i], Describe("GetMany", ns));
      }
    }
    return Status::OK();
  });
  if (!s.ok()) statuses->assign(keys.size(), s);
}

Status Store::Put(const Namespace& ns, std::string_view key, std::string_view record) {
  return Guarded("Put", options_.path, [&] { return WriteOne(ns, key, record, /*is_put=*/true); });
}

Status Store::Delete(const Namespace& ns, std::string_view key) {
  return Guarded("Delete", options_.path, [&] { return WriteOne(ns, key, {}, /*is_put=*/false); });
}

Status Store::WriteOne(const Namespace& ns, std::string_view key, std::string_view record,
                       bool is_put) {
  const std::string_view what = is_put ? "Put" : "Delete";
  Status s = CheckWritable(what);
  if (s.ok()) s = CheckKey(key);
  if (!s.ok()) return s;
  thread_local std::string data_key;  // as in Get
  EncodeDataKey(ns.id, key, &data_key);
  std::shared_lock lock(namespaces_mu_);
  s = CheckLive(ns);
  if (s.ok()) s = guard_->Admit(data_key.size() + record.size() + kWriteOverheadBytes);
  if (!s.ok()) return s;
  const PerfCountingOff quiet;
  const rocksdb::Status rs =
      is_put ? handles_->db->Put(handles_->data_write, handles_->data, data_key, ToSlice(record))
             : handles_->db->Delete(handles_->data_write, handles_->data, data_key);
  return rs.ok() ? Status::OK() : FromRocksDb(rs, Describe(what, ns));
}

StoreBatch Store::NewBatch() const { return StoreBatch(handles_->data); }

// Liveness is checked under the namespaces' lock, which a drop takes
// exclusively: no write lands in a namespace's range after its tombstone.
Status Store::Write(StoreBatch* batch, DroppedNamespaces dropped, std::size_t* written) {
  if (written != nullptr) *written = 0;
  return Guarded("Write", options_.path, [&]() -> Status {
    Status s = CheckWritable("Write");
    if (!s.ok()) return s;
    std::shared_lock lock(namespaces_mu_);
    std::vector<std::uint32_t> left_out;
    for (std::uint32_t id : batch->namespace_ids_) {
      s = CheckLive(Namespace{id, {}});
      if (s.ok()) continue;
      if (dropped == DroppedNamespaces::kRefuse) return s;
      left_out.push_back(id);
    }
    rocksdb::WriteBatch* write = batch->batch_.get();
    rocksdb::WriteBatch kept;
    if (!left_out.empty()) {
      kept = rocksdb::WriteBatch(batch->ApproximateBytes());  // room for all of it, as there
      s = batch->CopyWithout(left_out, &kept);
      if (!s.ok()) return s;
      write = &kept;
    }
    if (write->Count() == 0) return Status::OK();
    s = guard_->Admit(write->GetDataSize());
    if (!s.ok()) return s;
    const PerfCountingOff quiet;
    const rocksdb::Status rs = handles_->db->Write(handles_->data_write, write);
    if (rs.ok()) {
      if (written != nullptr) *written = write->Count();
      return Status::OK();
    }
    return FromRocksDb(
        rs, fmt::format("writing a batch of {} to the store at {}", write->Count(), options_.path));
  });
}

Status Store::SyncWal() {
  return Guarded("SyncWal", options_.path, [&]() -> Status {
    Status s = CheckWritable("SyncWal");
    if (!s.ok()) return s;
    // FlushWAL(true) rather than SyncWAL: it also writes out a WAL buffer,
    // should manual_wal_flush ever be turned on.
    return FromRocksDb(handles_->db->FlushWAL(/*sync=*/true),
                       fmt::format("syncing the WAL of the store at {}", options_.path));
  });
}

// The free space a compaction may need besides the reserve: it writes its
// output before it deletes its inputs. On a small store a compaction rewrites
// about all the data (with dynamic level sizes the data sits in one level,
// and a cache's keys overlap every file of it); on a large one, at most
// kMaxCompactionBytes. Without this room a compaction meets the full disk,
// which stops RocksDB's writes, or worse races a WAL write to it.
std::uint64_t Store::CompactionRoom() const {
  std::uint64_t live = 0;
  if (handles_->data == nullptr ||
      !handles_->db->GetIntProperty(handles_->data, rocksdb::DB::Properties::kLiveSstFilesSize,
                                    &live)) {
    return 0;
  }
  return std::min(live, kMaxCompactionBytes);
}

Status Store::CheckWritable(std::string_view what) const {
  if (options_.mode == StoreOptions::Mode::kReadWrite) return Status::OK();
  return Status::NotSupported(
      fmt::format("{} on the store at {}: opened as a secondary, read-only", what, options_.path));
}

// REQUIRES: namespaces_mu_ held, shared or exclusively.
Status Store::CheckLive(const Namespace& ns) const {
  if (live_ids_.count(ns.id) != 0) return Status::OK();
  // A batch knows its namespaces by id only.
  const std::string named = ns.name.empty() ? fmt::format("namespace id {}", ns.id)
                                            : fmt::format("namespace '{}' (id {})", ns.name, ns.id);
  return Status::NotFound(
      fmt::format("{} of the store at {} has been dropped", named, options_.path));
}

Status Store::CommitMeta(rocksdb::WriteBatch* batch, std::string_view what) {
  if (guard_) {
    Status s = guard_->Admit(batch->GetDataSize() + kWriteOverheadBytes);
    if (!s.ok()) return s;
  }
  const rocksdb::Status rs = handles_->db->Write(MetaWriteOptions(), batch);
  // Nothing allocates once the write is done: a caller's bookkeeping after
  // it must see it done.
  if (rs.ok()) return Status::OK();
  return FromRocksDb(rs, fmt::format("{} in the store at {}", what, options_.path));
}

std::string Store::Describe(std::string_view what, const Namespace& ns) const {
  return fmt::format("{} in namespace '{}' of the store at {}", what, ns.name, options_.path);
}

// ---------------------------------------------------------------------------
// Maintenance

Status Store::CatchUp() {
  return Guarded("CatchUp", options_.path, [&]() -> Status {
    if (options_.mode == StoreOptions::Mode::kReadWrite) return Status::OK();
    return FromRocksDb(handles_->db->TryCatchUpWithPrimary(),
                       fmt::format("catching up with the writer of {}", options_.path));
  });
}

Status Store::GetStats(StoreStats* stats) const {
  return Guarded("GetStats", options_.path, [&]() -> Status {
    rocksdb::DB& db = *handles_->db;
    auto read = [&](const std::string& property, std::uint64_t* value) {
      if (!db.GetIntProperty(handles_->data, property, value)) *value = 0;
    };
    read(rocksdb::DB::Properties::kEstimateNumKeys, &stats->estimated_keys);
    read(rocksdb::DB::Properties::kTotalSstFilesSize, &stats->sst_bytes);
    read(rocksdb::DB::Properties::kEstimateLiveDataSize, &stats->estimated_live_bytes);
    read(rocksdb::DB::Properties::kCurSizeAllMemTables, &stats->memtable_bytes);
    read(rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
         &stats->pending_compaction_bytes);
    rocksdb::ColumnFamilyMetaData meta;
    db.GetColumnFamilyMetaData(handles_->data, &meta);
    stats->sst_files = meta.file_count;
    return Status::OK();
  });
}

Status Store::LiveTableFiles(std::vector<std::string>* paths) const {
  return Guarded("LiveTableFiles", options_.path, [&]() -> Status {
    std::vector<rocksdb::LiveFileMetaData> files;
    handles_->db->GetLiveFilesMetaData(&files);
    paths->clear();
    for (const rocksdb::LiveFileMetaData& file : files) {
      paths->push_back(file.directory + "/" + file.relative_filename);
    }
    return Status::OK();
  });
}

Status Store::Compact() {
  return Guarded("Compact", options_.path, [&]() -> Status {
    Status s = CheckWritable("Compact");
    // Writes leave CompactionRoom() free above the reserve, but other files
    // can take it; a compaction started without it meets the full disk, which
    // RocksDB may answer with an abort (DESIGN.md).
    if (s.ok()) s = guard_->RequireRoom(CompactionRoom(), "compacting");
    if (!s.ok()) return s;
    rocksdb::CompactRangeOptions compact;
    // Rewrite the bottom level too, so that the expiry filter sees every record.
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    return FromRocksDb(handles_->db->CompactRange(compact, handles_->data, nullptr, nullptr),
                       fmt::format("compacting the store at {}", options_.path));
  });
}

}  // namespace tiercache::storage
