#include "engine/cache_impl.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <new>
#include <unordered_map>
#include <utility>

#include "engine/key_hash.h"
#include "storage/record_format.h"

namespace tiercache {
namespace {

using std::chrono::milliseconds;
void Bump(std::atomic<std::uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// The answer to a Get that met a damaged record.
Status Damaged(CorruptRecordAction action, std::string message) {
  if (action == CorruptRecordAction::kTreatAsMiss) {
    return Status::NotFound(message + " (treated as a miss)");
  }
  return Status::Corruption(std::move(message));
}

// An application callback's status; an exception it throws becomes IOError.
template <typename Call>
Status CallApplication(std::string_view what, Call&& call) {
  try {
    return call();
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("the {} threw: {}", what, e.what()));
  } catch (...) {
    return Status::IOError(
        fmt::format("the {} threw an exception that is not a std::exception", what));
  }
}

}  // namespace

namespace engine {

ThreadCodec& CodecFor(const Options& options) {
  thread_local ThreadCodec slot;
  if (!slot.encoder || slot.compression != options.compression ||
      slot.threshold != options.compression_threshold) {
    slot.compression = options.compression;
    slot.threshold = options.compression_threshold;
    slot.encoder = std::make_unique<storage::RecordEncoder>(options.compression,
                                                            options.compression_threshold);
    slot.compressor = std::make_unique<storage::ValueCompressor>(options.compression,
                                                                 options.compression_threshold);
  }
  return slot;
}

std::string FlightKey(std::string_view ns, std::string_view key) {
  std::string out;
  out.reserve(ns.size() + 1 + key.size());
  out.append(ns).push_back('\0');
  out.append(key);
  return out;
}

}  // namespace engine

Cache::Impl::Impl(const Options& options)
    : options_(options),
      clock_(options.clock ? options.clock : std::make_shared<SystemClock>()),
      system_clock_(dynamic_cast<const SystemClock*>(clock_.get())),
      compress_in_memory_(options.compression != Compression::kNone) {}

Cache::Impl::~Impl() {
  if (!gate_.closed()) static_cast<void>(Close(std::chrono::seconds(10), nullptr));
}

Status Cache::Impl::Open(const Options& options, std::unique_ptr<Impl>* impl) {
  Status s = options.Validate();
  if (!s.ok()) return s;
  std::unique_ptr<Impl> opened(new Impl(options));
  s = opened->OpenParts();
  if (!s.ok()) {
    opened->gate_.Close();  // nothing to drain: the parts close as they are destroyed
    return s;
  }
  *impl = std::move(opened);
  return Status::OK();
}

Status Cache::Impl::OpenParts() {
  storage::StoreOptions store;
  store.path = options_.path;
  store.durability = options_.durability;
  store.free_space_reserve = options_.free_space_reserve;
  store.clock = clock_;
  if (options_.adjust_store_for_testing) options_.adjust_store_for_testing(&store);
  Status s = storage::Store::Open(store, &store_);
  if (!s.ok()) return s;

  engine::MemoryTierOptions memory = engine::MemoryTierOptions::FromOptions(options_);
  if (options_.listener) {
    memory.listener = [this](const engine::Removal& removal) { OnRemoval(removal); };
  }
  s = engine::MemoryTier::Create(memory, &memory_);
  if (!s.ok()) return s;

  namespaces_ = std::make_unique<engine::NamespaceTable>(store_.get());
  s = namespaces_->Load();
  if (!s.ok()) return s;
  versions_ = std::make_unique<engine::VersionSource>(store_.get());
  if (options_.write_policy == WritePolicy::kWriteBehind) {
    write_behind_ = std::make_unique<engine::WriteBehind>(
        options_.write_buffer, clock_,
        [this](auto* batch, std::size_t* written) { return WriteBatch(batch, written); },
        [this](const Status& status, std::size_t entries, std::uint64_t attempt) {
          if (options_.listener) options_.listener->OnFlushFailure({status, entries, attempt});
        });
  }
  if (options_.refresh_after_write.count() > 0) {
    refresher_ = std::make_unique<engine::Refresher>(
        options_.refresh_threads, options_.refresh_after_write, clock_,
        [this](const engine::Refresher::Job& job) { return Refresh(job); });
  }
  return Status::OK();
}

Status Cache::Impl::CheckOpen() const {
  if (!gate_.closed()) return Status::OK();
  return Status::InvalidArgument(fmt::format("the cache at {} is closed", options_.path));
}

Status Cache::Impl::FindNamespace(std::string_view ns, std::optional<std::uint32_t>* id) const {
  std::uint32_t found = 0;
  if (!namespaces_->Find(ns, &found)) {
    id->reset();
    return storage::CheckNamespaceName(ns);
  }
  *id = found;
  return Status::OK();
}

Status Cache::Impl::Enter(engine::CallGate::Pass* pass) {
  *pass = gate_.Enter();
  return *pass ? Status::OK() : CheckOpen();
}

std::string Cache::Impl::Describe(std::string_view ns, std::string_view key) const {
  return fmt::format("'{}' in namespace '{}'", key, ns);
}

// ---------------------------------------------------------------------------
// Reads

Status Cache::Impl::Get(std::string_view ns, std::string_view key, std::string* value) {
  std::optional<std::uint32_t> id;
  Status s = CheckOpen();
  if (s.ok()) s = FindNamespace(ns, &id);
  if (!s.ok()) return s;
  Seen seen;
  const TimePoint now = Now();
  std::optional<engine::HashedKey> hashed;
  if (id) hashed.emplace(*id, key);
  if (hashed && LookupMemoryValue(*hashed, now, value, refresher_ ? &seen : nullptr)) {
    if (refresher_) RefreshIfDue(*hashed, ns, seen);
    return Status::OK();
  }
  // The value is decoded into the caller's string: a caller that reads in a
  // loop keeps its capacity, and the read allocates nothing for it.
  Entry entry;
  entry.value = std::move(*value);
  s = GetBelow(ns, hashed, key, now, &entry);
  *value = std::move(entry.value);
  if (!s.ok()) value->clear();  // it may hold an expired or damaged record's value
  // A namespace made since FindNamespace has no id here: its entry is new.
  if (s.ok() && refresher_ && hashed) RefreshIfDue(*hashed, ns, SeenOf(entry));
  return s;
}

// L1 first for every key; the keys it missed are read below together, and
// under read-through those still missing are loaded one by one.
void Cache::Impl::GetMany(std::string_view ns, const std::vector<std::string>& keys,
                          std::vector<Status>* statuses, std::vector<std::string>* values) {
  statuses->assign(keys.size(), Status::OK());
  values->resize(keys.size());  // a caller that reads in a loop keeps the strings' capacity
  for (std::string& value : *values) value.clear();
  std::optional<std::uint32_t> id;
  Status s = CheckOpen();
  if (s.ok()) s = FindNamespace(ns, &id);
  if (!s.ok()) {
    statuses->assign(keys.size(), s);
    return;
  }
  std::vector<std::size_t> missed;
  const TimePoint now = Now();
  Seen seen;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!id) {
      missed.push_back(i);
      continue;
    }
    const engine::HashedKey key(*id, keys[i]);
    if (!LookupMemoryValue(key, now, &(*values)[i], refresher_ ? &seen : nullptr)) {
      missed.push_back(i);
    } else if (refresher_) {
      RefreshIfDue(key, ns, seen);
    }
  }
  if (id && !missed.empty()) {
    ReadManyBelow(storage::Namespace{*id, std::string(ns)}, keys, missed, statuses, values);
  }
  std::vector<std::size_t> absent;
  for (const std::size_t i : missed) {
    Status& status = (*statuses)[i];
    if (id && !status.IsNotFound()) continue;
    (*values)[i].clear();
    if (options_.read_policy == ReadPolicy::kReadThrough) {
      absent.push_back(i);
    } else {
      status = Status::NotFound(Describe(ns, keys[i]));
    }
  }
  if (!absent.empty()) LoadMany(ns, keys, absent, statuses, values);
}

// Loads the keys at `indexes`: with the bulk loader, those no other caller is
// loading in one call, then the others as Get would, waiting for their loads.
// A key asked for twice is loaded once, and its repeats get the same answer.
void Cache::Impl::LoadMany(std::string_view ns, const std::vector<std::string>& keys,
                           const std::vector<std::size_t>& indexes,
                           std::vector<Status>* statuses, std::vector<std::string>* values) {
  std::unordered_map<std::string_view, std::size_t> first_of;
  std::vector<std::size_t> firsts;
  std::vector<std::pair<std::size_t, std::size_t>> repeats;  // (index, its first's)
  for (const std::size_t i : indexes) {
    const auto [it, first] = first_of.emplace(keys[i], i);
    if (first) {
      firsts.push_back(i);
    } else {
      repeats.emplace_back(i, it->second);
    }
  }
  // One bound for the whole call: keys that wait for other callers' loads
  // wait one after another.
  const std::optional<engine::SingleFlight::Deadline> wait_deadline = LoadWaitDeadline();
  const std::vector<std::size_t> one_by_one =
      options_.bulk_loader ? LoadInBulk(ns, keys, firsts, statuses, values) : firsts;
  for (const std::size_t i : one_by_one) {
    Entry entry;
    (*statuses)[i] = Load(ns, keys[i], wait_deadline, &entry);
    if ((*statuses)[i].ok()) (*values)[i] = std::move(entry.value);
  }
  for (const auto& [i, first] : repeats) {
    (*statuses)[i] = (*statuses)[first];
    (*values)[i] = (*values)[first];
  }
}

// Starts the loads of the keys at `indexes` that no other caller runs, settles
// those the negative cache or a store meanwhile answers, and hands the rest to
// the bulk loader in one call. Every load started here is finished here, before
// any wait for another's: two GetMany calls never wait on each other. Returns
// the indexes left to load one by one.
std::vector<std::size_t> Cache::Impl::LoadInBulk(std::string_view ns,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::size_t>& indexes,
                                                 std::vector<Status>* statuses,
                                                 std::vector<std::string>* values) {
  std::vector<std::size_t> others;
  std::vector<std::pair<std::size_t, std::size_t>> to_load;  // (index, run)
  std::vector<std::string_view> load_keys;
  engine::StartedRuns runs(&loads_);
  for (const std::size_t i : indexes) {
    std::string flight = engine::FlightKey(ns, keys[i]);
    if (RememberedAbsent(ns, keys[i], flight, &(*statuses)[i])) continue;
    if (!loads_.TryStart(flight)) {
      others.push_back(i);
      continue;
    }
    const std::size_t run = runs.Add(std::move(flight));
    Entry entry;
    if (FoundBeforeLoading(ns, keys[i], runs.key(run), &entry)) {
      runs.Finish(run, Status::OK(), entry);
      (*statuses)[i] = Status::OK();
      (*values)[i] = std::move(entry.value);
      continue;
    }
    to_load.emplace_back(i, run);
    load_keys.push_back(keys[i]);
  }
  if (to_load.empty()) return others;

  std::vector<LoadedKey> answers;
  Bump(counters_.bulk_loads);
  Status s = CallBulkLoader(ns, load_keys, &answers);
  if (s.ok() && answers.size() != load_keys.size()) {
    s = Status::InvalidArgument(fmt::format("the bulk loader answered {} of {} keys",
                                            answers.size(), load_keys.size()));
  }
  if (!s.ok()) answers.assign(load_keys.size(), LoadedKey{s, {}});  // every key's answer
  for (std::size_t j = 0; j < to_load.size(); ++j) {
    const auto [i, run] = to_load[j];
    Entry entry;
    Status& status = (*statuses)[i];
    status = SettleLoad(ns, keys[i], runs.key(run), /*expected=*/0, std::move(answers[j].status),
                        std::move(answers[j].loaded), &entry);
    runs.Finish(run, status, entry);
    if (status.ok()) (*values)[i] = std::move(entry.value);
  }
  return others;
}

void Cache::Impl::ReadManyBelow(const storage::Namespace& ns, const std::vector<std::string>& keys,
                                const std::vector<std::size_t>& missed,
                                std::vector<Status>* statuses, std::vector<std::string>* values) {
  engine::CallGate::Pass pass;
  if (Status s = Enter(&pass); !s.ok()) {
    for (const std::size_t i : missed) (*statuses)[i] = s;
    return;
  }
  std::vector<std::string_view> missed_keys;
  missed_keys.reserve(missed.size());
  for (const std::size_t i : missed) missed_keys.push_back(keys[i]);
  auto locks = LockKeys(ns.id, missed_keys);
  std::vector<std::string> records;
  std::vector<Status> found;
  std::vector<bool> from_disk;
  FindRecords(ns, missed_keys, &records, &found, &from_disk);
  // Read once a record is found: after the locks and the reads, which may
  // have waited.
  std::optional<TimePoint> now;
  for (std::size_t j = 0; j < missed.size(); ++j) {
    Status s = std::move(found[j]);
    Entry entry;
    entry.value = std::move((*values)[missed[j]]);  // decoded into its capacity, as Get does
    const engine::HashedKey key(ns.id, missed_keys[j]);
    if (s.ok()) {
      if (!now) now = Now();
      s = Promote(ns, key, records[j], *now, nullptr, &entry);
    }
    if (s.ok() && refresher_) RefreshIfDue(key, ns.name, SeenOf(entry));
    (*values)[missed[j]] = std::move(entry.value);
    if (!s.ok()) (*values)[missed[j]].clear();  // it may hold an expired or damaged record's value
    CountRead(s, from_disk[j]);
    (*statuses)[missed[j]] = Undamaged(ns, missed_keys[j], std::move(s));
  }
}

// The write buffer holds the newest of what it has; RocksDB the rest.
void Cache::Impl::FindRecords(const storage::Namespace& ns,
                              const std::vector<std::string_view>& keys,
                              std::vector<std::string>* records, std::vector<Status>* found,
                              std::vector<bool>* from_disk) {
  records->assign(keys.size(), std::string());
  found->assign(keys.size(), Status::OK());
  from_disk->assign(keys.size(), false);
  std::vector<std::size_t> on_disk;
  std::vector<std::string_view> disk_keys;
  for (std::size_t j = 0; j < keys.size(); ++j) {
    const engine::WriteBehind::Found buffered =
        write_behind_ ? write_behind_->Find(ns.id, keys[j], &(*records)[j])
                      : engine::WriteBehind::Found::kNo;
    if (buffered == engine::WriteBehind::Found::kDelete) {
      (*found)[j] = Status::NotFound(Describe(ns.name, keys[j]));
    } else if (buffered == engine::WriteBehind::Found::kNo) {
      (*from_disk)[j] = true;
      on_disk.push_back(j);
      disk_keys.push_back(keys[j]);
    }
  }
  if (disk_keys.empty()) return;
  std::vector<std::string> disk_records;
  std::vector<Status> disk_statuses;
  store_->GetMany(ns, disk_keys, &disk_records, &disk_statuses);
  for (std::size_t d = 0; d < on_disk.size(); ++d) {
    (*records)[on_disk[d]] = std::move(disk_records[d]);
    (*found)[on_disk[d]] = std::move(disk_statuses[d]);
  }
}

Status Cache::Impl::GetEntry(std::string_view ns, std::string_view key, Entry* entry) {
  std::optional<std::uint32_t> id;
  Status s = CheckOpen();
  if (s.ok()) s = FindNamespace(ns, &id);
  if (!s.ok()) return s;
  const TimePoint now = Now();
  std::optional<engine::HashedKey> hashed;
  if (id) hashed.emplace(*id, key);
  if (hashed && LookupMemory(*hashed, now, entry)) {
    s = Status::OK();
  } else {
    s = GetBelow(ns, hashed, key, now, entry);
    if (s.ok()) entry->key = key;
  }
  if (s.ok() && refresher_ && hashed) RefreshIfDue(*hashed, ns, SeenOf(*entry));
  return s;
}

Status Cache::Impl::Contains(std::string_view ns, std::string_view key) {
  std::optional<std::uint32_t> id;
  Status s = CheckOpen();
  if (s.ok()) s = FindNamespace(ns, &id);
  if (!s.ok()) return s;
  if (!id) return Status::NotFound(fmt::format("{}: no such namespace", Describe(ns, key)));
  Entry entry;
  const TimePoint now = Now();
  const engine::HashedKey hashed(*id, key);
  if (LookupMemory(hashed, now, &entry)) return Status::OK();
  return ReadBelow(storage::Namespace{*id, std::string(ns)}, hashed, now, &entry);
}

Status Cache::Impl::GetBelow(std::string_view ns, const std::optional<engine::HashedKey>& hashed,
                             std::string_view key, TimePoint asked, Entry* entry) {
  if (hashed) {
    Status s = ReadBelow(storage::Namespace{hashed->ns, std::string(ns)}, *hashed, asked, entry);
    if (!s.IsNotFound()) return s;
  }
  if (options_.read_policy == ReadPolicy::kReadThrough) {
    return Load(ns, key, LoadWaitDeadline(), entry);
  }
  return Status::NotFound(Describe(ns, key));
}

// A reader takes no lock while no writer holds the key's: the lock's sequence
// (KeyLocks) keeps its copy from overwriting a newer write in L1. The
// record is judged at the time its caller read, microseconds before; a read
// that waits for a writer (or a loader's store) reads the time again.
Status Cache::Impl::ReadBelow(const storage::Namespace& ns, const engine::HashedKey& key,
                              TimePoint asked, Entry* entry) {
  engine::CallGate::Pass pass;
  if (Status s = Enter(&pass); !s.ok()) return s;
  if (const std::optional<engine::FillCheck> check = locks_.Watch(key)) {
    return ReadAndPromote(ns, key, asked, &*check, entry, Counting::kCounted);
  }
  auto lock = LockKey(key);
  return ReadAndPromote(ns, key, Now(), nullptr, entry, Counting::kCounted);
}

// L1 is not looked at again: a Get comes here after missing it, and whatever
// a concurrent reader put there meanwhile is also in the write buffer or in
// RocksDB, which hold every acknowledged write; its copy of the same version
// stays as it is (a refill).
Status Cache::Impl::ReadAndPromote(const storage::Namespace& ns, const engine::HashedKey& key,
                                   TimePoint now, const engine::FillCheck* check, Entry* entry,
                                   Counting counting) {
  thread_local std::string record;
  bool from_disk = false;
  Status s = FindRecord(ns, key.key, &record, &from_disk);
  if (s.ok()) s = Promote(ns, key, record, now, check, entry);
  if (counting == Counting::kCounted) CountRead(s, from_disk);
  return Undamaged(ns, key.key, std::move(s));
}

Status Cache::Impl::FindRecord(const storage::Namespace& ns, std::string_view key,
                               std::string* record, bool* from_disk) {
  const engine::WriteBehind::Found buffered =
      write_behind_ ? write_behind_->Find(ns.id, key, record) : engine::WriteBehind::Found::kNo;
  *from_disk = buffered == engine::WriteBehind::Found::kNo;
  if (buffered == engine::WriteBehind::Found::kDelete) {
    return Status::NotFound(Describe(ns.name, key));
  }
  return *from_disk ? store_->Get(ns, key, record) : Status::OK();
}

// A damaged block (RocksDB's checksum) and a damaged record get one answer.
Status Cache::Impl::Undamaged(const storage::Namespace& ns, std::string_view key, Status s) const {
  if (!s.IsCorruption()) return s;
  return Damaged(options_.on_corrupt_record,
                 fmt::format("{}: {}", Describe(ns.name, key), s.message()));
}

void Cache::Impl::CountRead(const Status& s, bool from_disk) {
  if (s.IsCorruption()) {
    Bump(counters_.corrupt);
  } else if (from_disk && s.ok()) {
    Bump(counters_.disk_hits);
  } else if (from_disk && s.IsNotFound()) {
    Bump(counters_.disk_misses);
  }
}

Status Cache::Impl::Promote(const storage::Namespace& ns, const engine::HashedKey& key,
                            std::string_view record, TimePoint now,
                            const engine::FillCheck* check, Entry* entry) {
  storage::StoredValue stored;
  Status s = storage::DecodeRecord(record, entry, &stored);
  if (!s.ok()) return s;
  if (entry->ExpiredAt(now)) {
    return Status::NotFound(fmt::format("{}: expired", Describe(ns.name, key.key)));
  }
  ++entry->access_count;
  entry->last_accessed = now;
  StoreInMemory(key, *entry, stored, /*refill=*/true, now, check);
  return Status::OK();
}

// L1 refuses an entry for want of room or of memory. A drop of the namespace
// since the caller found it may have cleared L1 before the entry went in: it
// leaves again, unreachable as it is. A refill read without the key's lock
// left nothing older behind when refused (what L1 held was its version or a
// newer one), and must not erase what a writer may have put there since.
void Cache::Impl::StoreInMemory(const engine::HashedKey& key, const Entry& entry,
                                const storage::StoredValue& stored, bool refill, TimePoint now,
                                const engine::FillCheck* check) {
  bool held = false;
  try {
    held = InsertInMemory(key, entry, stored, refill, now, check);
  } catch (const std::bad_alloc&) {
  }
  if ((!held && check == nullptr) || !namespaces_->IsLive(key.ns)) {
    memory_->Erase(key, RemovalCause::kDeleted);
  }
}

// Whether L1 took the entry (or, its check failing, had no need to).
bool Cache::Impl::InsertInMemory(const engine::HashedKey& key, const Entry& entry,
                                 const storage::StoredValue& stored, bool refill, TimePoint now,
                                 const engine::FillCheck* check) {
  // Before the compression, which would be wasted; L1 checks again.
  if (check != nullptr && !check->Unchanged()) return true;
  engine::TierWrite write;
  write.ns = key.ns;
  write.key = key.key;
  write.hash = key.hash;
  write.value = entry.value;
  if (compress_in_memory_) {
    engine::ThreadCodec& codec = engine::CodecFor(options_);
    storage::StoredValue form = stored;
    // A record stored as it is may have been written under other options: a
    // copy read from below is held by the rule in force.
    if (refill && stored.codec == storage::kCodecNone) {
      if (const std::optional<std::string_view> block = codec.compressor->Compress(entry.value)) {
        form = {storage::kCodecLz4, static_cast<std::uint32_t>(entry.value.size()), *block};
      }
    }
    engine::ToMemoryForm(form, &codec.memory_value);
    write.value = codec.memory_value;
    counters_.memory_value_bytes.fetch_add(entry.value.size(), std::memory_order_relaxed);
    counters_.memory_stored_bytes.fetch_add(codec.memory_value.size(), std::memory_order_relaxed);
  }
  write.version = entry.version;
  write.created_at = entry.created_at;
  if (entry.expires_at) {
    write.expires_at = entry.expires_at;
  } else {
    write.ttl = milliseconds(0);
  }
  write.metadata = entry.metadata.empty() ? nullptr : &entry.metadata;
  write.refill = refill;
  write.fill_check = check;
  if (refill) {
    write.access_count = entry.access_count;
    write.last_accessed = entry.last_accessed;
  }
  return memory_->Insert(write, now).ok();
}

bool Cache::Impl::LookupMemory(const engine::HashedKey& key, TimePoint now, Entry* entry) {
  if (!memory_->Lookup(key, now, entry)) return false;
  return !compress_in_memory_ || engine::FromMemoryForm(&entry->value).ok();
}

bool Cache::Impl::LookupMemoryValue(const engine::HashedKey& key, TimePoint now,
                                    std::string* value, Seen* seen) {
  const bool hit = seen != nullptr
                       ? memory_->LookupValue(key, now, value, &seen->version, &seen->age)
                       : memory_->LookupValue(key, now, value);
  if (!hit) return false;
  return !compress_in_memory_ || engine::FromMemoryForm(value).ok();
}

// True when the negative cache remembers the loader finding nothing for the
// key: *status is then NotFound.
bool Cache::Impl::RememberedAbsent(std::string_view ns, std::string_view key,
                                   const std::string& flight, Status* status) {
  if (options_.negative_ttl.count() == 0 || !negatives_.Contains(flight, Now())) {
    return false;
  }
  Bump(counters_.negative_hits);
  *status = Status::NotFound(fmt::format("{}: the loader found nothing", Describe(ns, key)));
  return true;
}

std::optional<engine::SingleFlight::Deadline> Cache::Impl::LoadWaitDeadline() const {
  if (options_.load_wait_timeout.count() == 0) return std::nullopt;
  return std::chrono::steady_clock::now() + options_.load_wait_timeout;
}

Cache::Impl::Seen Cache::Impl::SeenOf(const Entry& entry) {
  const auto age = std::chrono::duration_cast<milliseconds>(entry.last_accessed - entry.created_at);
  return {entry.version, std::max(age, milliseconds(0))};
}

void Cache::Impl::AskRefresh(const engine::HashedKey& key, std::string_view ns,
                             std::uint64_t version) {
  refresher_->Request(key.hash, ns, key.key, version);
}

// A refresh is a load the Get that asked for it does not wait for: a Get that
// misses the key meanwhile joins it as it would a load.
engine::Refresher::Outcome Cache::Impl::Refresh(const engine::Refresher::Job& job) {
  using Outcome = engine::Refresher::Outcome;
  std::string flight = engine::FlightKey(job.ns, job.key);
  // A load of the key runs: what it finds or stores is new.
  if (!loads_.TryStart(flight)) return Outcome::kNotRun;
  engine::StartedRuns runs(&loads_);
  const std::size_t run = runs.Add(std::move(flight));
  if (options_.negative_ttl.count() > 0) negatives_.Begin(runs.key(run), Now());
  Bump(counters_.loads);
  Bump(counters_.refreshes);
  LoadedValue loaded;
  Status s = CallLoader(job.ns, job.key, &loaded);
  const bool loaded_value = s.ok();
  const bool failed = !s.ok() && !s.IsNotFound();
  Entry entry;
  s = SettleLoad(job.ns, job.key, runs.key(run), job.version, std::move(s), std::move(loaded),
                 &entry);
  runs.Finish(run, s, entry);
  // A value the cache could not keep (version 0) leaves the entry due, as an
  // error does: the next Gets would only have the loader read it again.
  if (failed || (loaded_value && s.ok() && entry.version == 0)) return Outcome::kFailed;
  return Outcome::kRefreshed;
}

Status Cache::Impl::Load(std::string_view ns, std::string_view key,
                         std::optional<engine::SingleFlight::Deadline> wait_deadline,
                         Entry* entry) {
  const std::string flight = engine::FlightKey(ns, key);
  if (Status s; RememberedAbsent(ns, key, flight, &s)) return s;
  engine::SingleFlight::Outcome outcome = engine::SingleFlight::Outcome::kRan;
  const Status s = loads_.Do(
      flight, [&](Entry* out) { return LoadAndStore(ns, key, flight, out); }, entry, &outcome,
      wait_deadline);
  if (outcome == engine::SingleFlight::Outcome::kShared) Bump(counters_.loads_shared);
  if (outcome != engine::SingleFlight::Outcome::kGaveUp) return s;
  Bump(counters_.load_wait_timeouts);
  return Status::TimedOut(
      fmt::format("{}: another caller's load did not end within load_wait_timeout ({}) of "
                  "the call; the load goes on",
                  Describe(ns, key), options_.load_wait_timeout));
}

// Callers that join the flight share its result. One that joins after the
// result was settled may have seen a newer version meanwhile (written, then
// deleted or expired) and would get an older one back: the flight is sealed
// before the version of the loaded value is taken, or, for an entry found
// below, before the key's lock lets a newer write in.
Status Cache::Impl::LoadAndStore(std::string_view ns, std::string_view key,
                                 const std::string& flight, Entry* entry) {
  if (FoundBeforeLoading(ns, key, flight, entry)) return Status::OK();
  LoadedValue loaded;
  Bump(counters_.loads);
  Status s = CallLoader(ns, key, &loaded);
  return SettleLoad(ns, key, flight, /*expected=*/0, std::move(s), std::move(loaded), entry);
}

// A load's first step: a load that finished just before this one began may
// have stored the key; true, with *entry, when one did.
bool Cache::Impl::FoundBeforeLoading(std::string_view ns, std::string_view key,
                                     const std::string& flight, Entry* entry) {
  const bool remember_nothing = options_.negative_ttl.count() > 0;
  if (remember_nothing) negatives_.Begin(flight, Now());
  if (!FoundBelow(ns, key, &flight, entry)) return false;
  if (remember_nothing) negatives_.Erase(flight);
  return true;
}

// A load's last step, with the loader's answer `s` for the key.
Status Cache::Impl::SettleLoad(std::string_view ns, std::string_view key,
                               const std::string& flight, std::uint64_t expected, Status s,
                               LoadedValue loaded, Entry* entry) {
  const bool remember_nothing = options_.negative_ttl.count() > 0;
  if (s.IsNotFound()) {
    if (remember_nothing) negatives_.Remember(flight, Now() + options_.negative_ttl);
    // Refreshed: the source no longer has the key, so neither does the cache.
    if (expected != 0) DeleteIfAt(ns, key, expected);
    // A write acknowledged while the loader ran is newer than its answer.
    if (FoundBelow(ns, key, &flight, entry)) return Status::OK();
    return Status::NotFound(fmt::format("{}: the loader found nothing", Describe(ns, key)));
  }
  if (remember_nothing) negatives_.Erase(flight);
  if (!s.ok()) {
    Bump(counters_.load_errors);
    return s;
  }
  return StoreLoaded(ns, key, flight, expected, std::move(loaded), entry);
}

Status Cache::Impl::CallLoader(std::string_view ns, std::string_view key, LoadedValue* loaded) {
  return CallApplication("loader", [&] { return options_.loader(ns, key, loaded); });
}

Status Cache::Impl::CallBulkLoader(std::string_view ns, const std::vector<std::string_view>& keys,
                                   std::vector<LoadedKey>* answers) {
  return CallApplication("bulk loader", [&] { return options_.bulk_loader(ns, keys, answers); });
}

// The key's entry below L1, read under its lock without counting: what a
// write or another load stored. `seal`, when given: the flight to seal before
// the lock lets a newer write in.
bool Cache::Impl::FoundBelow(std::string_view ns, std::string_view key, const std::string* seal,
                             Entry* entry) {
  std::uint32_t id = 0;
  engine::CallGate::Pass pass;
  if (!namespaces_->Find(ns, &id) || !Enter(&pass).ok()) return false;
  const engine::HashedKey hashed(id, key);
  auto lock = LockKey(hashed);
  const storage::Namespace n{id, std::string(ns)};
  if (!ReadAndPromote(n, hashed, Now(), nullptr, entry, Counting::kQuiet).ok()) return false;
  if (seal != nullptr) loads_.Seal(*seal);
  return true;
}

// Stores the loaded value by the write policy, if the key is still at
// `expected` (absent for 0). A write acknowledged while the loader ran is
// newer than what the loader read: it stays, and is the answer. The caller
// asked for the value and the loader has it: a cache that cannot keep it (a
// full write buffer, a failing store, a value past the limits) still answers,
// and the next Get loads again.
Status Cache::Impl::StoreLoaded(std::string_view ns, std::string_view key,
                                const std::string& flight, std::uint64_t expected,
                                LoadedValue loaded, Entry* entry) {
  WriteOptions write{loaded.ttl, std::move(loaded.metadata)};
  std::uint64_t version = 0;
  loads_.Seal(flight);
  const Status s = Write(ns, key, loaded.value, write, expected, &version, Counting::kQuiet);
  if (s.IsConflict() && FoundBelow(ns, key, nullptr, entry)) return Status::OK();
  if (!s.ok()) {
    // A refresh's value not stored was returned to no caller that asked for it.
    if (expected == 0) Bump(counters_.loads_unstored);
    version = 0;
  }
  entry->key = key;
  entry->value = std::move(loaded.value);
  entry->version = version;
  entry->metadata = std::move(write.metadata);
  entry->created_at = entry->last_accessed = Now();
  const milliseconds ttl = write.ttl.value_or(options_.default_ttl);
  entry->expires_at.reset();
  if (ttl.count() > 0) entry->expires_at = entry->created_at + ttl;
  entry->access_count = 1;
  return Status::OK();
}

// REQUIRES: the key's lock held. 0 when the key holds no live entry. Below
// L1 the record's checksummed header has the version: the entry is neither
// decoded nor promoted, since the caller is about to replace it. Quiet, it
// reads below only (L1 counts its lookups, and is never newer).
Status Cache::Impl::CurrentVersion(const storage::Namespace& ns, const engine::HashedKey& key,
                                   Counting counting, std::uint64_t* version) {
  *version = 0;
  if (counting == Counting::kCounted && memory_->LookupValue(key, Now(), nullptr, version)) {
    return Status::OK();
  }
  thread_local std::string record;
  bool from_disk = false;
  Status s = FindRecord(ns, key.key, &record, &from_disk);
  storage::RecordHeader header;
  if (s.ok()) s = storage::VerifyRecord(record, &header);
  if (s.ok() && header.expires_at && *header.expires_at <= Now()) {
    s = Status::NotFound("expired");  // counted as a Get counts it: a miss
  }
  if (counting == Counting::kCounted) CountRead(s, from_disk);
  s = Undamaged(ns, key.key, std::move(s));
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  *version = header.version;
  return Status::OK();
}

}  // namespace tiercache
