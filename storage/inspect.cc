#include "storage/inspect.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "storage/guarded.h"
#include "storage/key_layout.h"
#include "storage/record_format.h"
#include "storage/text_encoding.h"

namespace tiercache::storage {
namespace {

void ReportBad(const BadRecordFn& bad, const Namespace& ns, std::string_view key,
               const Status& problem) {
  if (bad) bad(BadRecord{ns.name, std::string(key), problem.message()});
}

// The bytes of every regular file under `path`. Files that vanish meanwhile
// (a live writer compacts) are skipped: the figure is a snapshot anyway.
std::uint64_t DirectoryBytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    const std::uintmax_t size = it->is_regular_file(size_ec) ? it->file_size(size_ec) : 0;
    if (!size_ec) bytes += size;
  }
  return bytes;
}

// Adds records to StoreFigures. Owns the scratch space of one scan.
class FigureCounter {
 public:
  FigureCounter(TimePoint now, StoreFigures* figures)
      : now_(now), figures_(figures), plain_(Compression::kNone, 0) {}

  void Add(std::string_view key, std::string_view record) {
    ++figures_->entries;
    figures_->key_bytes += key.size();
    figures_->record_bytes += record.size();
    RecordHeader header;
    if (!ParseRecordHeader(record, &header).ok() || !DecodeRecord(record, &entry_).ok()) {
      ++figures_->corrupt_records;
      figures_->uncompressed_record_bytes += record.size();
      return;
    }
    figures_->value_bytes += entry_.value.size();
    if (entry_.ExpiredAt(now_)) ++figures_->expired_entries;
    figures_->uncompressed_record_bytes += UncompressedSize(header, record);
  }

 private:
  // The record's size had its value not been compressed: encoded again, as
  // only the encoder knows the payload's layout.
  std::size_t UncompressedSize(const RecordHeader& header, std::string_view record) {
    if ((header.flags & kFlagCodecMask) == kCodecNone) return record.size();
    if (!plain_.Encode(entry_, &scratch_).ok()) return record.size();
    return scratch_.size();
  }

  const TimePoint now_;
  StoreFigures* const figures_;
  RecordEncoder plain_;
  Entry entry_;
  std::string scratch_;
};

}  // namespace

Status SelectNamespaces(const Store& store, std::string_view name,
                        std::vector<Namespace>* namespaces) {
  Status s = store.ListNamespaces(namespaces);
  if (!s.ok() || name.empty()) return s;
  std::erase_if(*namespaces, [&](const Namespace& ns) { return ns.name != name; });
  if (!namespaces->empty()) return Status::OK();
  return Status::NotFound(
      fmt::format("no namespace '{}' in the store at {}", Printable(name), store.path()));
}

Status ForEachRecord(const Store& store, const std::vector<Namespace>& namespaces,
                     std::string_view prefix, const RecordFn& fn) {
  bool stopped = false;
  for (const Namespace& ns : namespaces) {
    Status s = store.ForEach(ns, prefix, [&](std::string_view key, std::string_view record) {
      stopped = !fn(ns, key, record);
      return !stopped;
    });
    if (!s.ok() || stopped) return s;
  }
  return Status::OK();
}

Status CollectFigures(const Store& store, const Clock& clock, const ProgressFn& progress,
                      StoreFigures* figures) {
  return Guarded("collecting the figures", store.path(), [&]() -> Status {
    *figures = StoreFigures{};
    figures->format_version = kStoreFormatVersion;
    figures->record_format_version = kRecordFormatVersion;
    std::vector<Namespace> namespaces;
    Status s = SelectNamespaces(store, {}, &namespaces);
    if (!s.ok()) return s;
    figures->namespaces = namespaces.size();
    FigureCounter counter(clock.Now(), figures);
    s = ForEachRecord(store, namespaces, {},
                      [&](const Namespace&, std::string_view key, std::string_view record) {
                        counter.Add(key, record);
                        ReportProgress(progress, figures->entries);
                        return true;
                      });
    if (s.ok()) s = store.GetStats(&figures->rocksdb);
    if (s.ok()) figures->disk_bytes = DirectoryBytes(store.path());
    return s;
  });
}

Status ListEntries(const Store& store, const ListOptions& options, const EntryFn& fn,
                   const BadRecordFn& bad) {
  return Guarded("listing entries", store.path(), [&]() -> Status {
    std::vector<Namespace> namespaces;
    Status s = SelectNamespaces(store, options.ns, &namespaces);
    if (!s.ok()) return s;
    std::uint64_t listed = 0;
    Entry entry;
    return ForEachRecord(store, namespaces, options.prefix,
                         [&](const Namespace& ns, std::string_view key, std::string_view record) {
                           if (Status decoded = DecodeRecord(record, &entry); !decoded.ok()) {
                             ReportBad(bad, ns, key, decoded);
                             return true;
                           }
                           entry.key.assign(key);
                           ++listed;
                           return fn(ns.name, entry) &&
                                  (options.limit == 0 || listed < options.limit);
                         });
  });
}

Status GetEntry(const Store& store, std::string_view ns, std::string_view key, Entry* entry) {
  return Guarded("getting an entry", store.path(), [&]() -> Status {
    // SelectNamespaces takes an empty name for every namespace: an entry
    // lives in exactly one, and no namespace is called "".
    if (ns.empty()) return Status::InvalidArgument("namespace name is empty");
    std::vector<Namespace> namespaces;
    Status s = SelectNamespaces(store, ns, &namespaces);
    if (!s.ok()) return s;
    std::string record;
    s = store.Get(namespaces.front(), key, &record);
    if (s.IsNotFound()) {
      return Status::NotFound(
          fmt::format("no key '{}' in namespace '{}'", Printable(key), Printable(ns)));
    }
    if (s.ok()) s = DecodeRecord(record, entry);
    if (s.IsCorruption()) {
      return Status::Corruption(
          fmt::format("namespace '{}', key '{}': {}", Printable(ns), Printable(key), s.message()));
    }
    if (s.ok()) entry->key.assign(key);
    return s;
  });
}

// ---------------------------------------------------------------------------
// purge-expired, compact

namespace {

// Deletes records in batches of kBatchSize and counts what it deleted.
class Purger {
 public:
  static constexpr std::size_t kBatchSize = 1000;

  Purger(Store* store, PurgeResult* result)
      : store_(store), batch_(store->NewBatch()), result_(result) {}

  Status Delete(const Namespace& ns, std::string_view key) {
    Status s = batch_.Delete(ns, key);
    if (s.ok() && batch_.Count() >= kBatchSize) s = Flush();
    return s;
  }

  Status Flush() {
    if (batch_.Count() == 0) return Status::OK();
    Status s = store_->Write(&batch_);
    if (s.ok()) result_->purged += batch_.Count();
    batch_.Clear();
    return s;
  }

 private:
  Store* const store_;
  StoreBatch batch_;
  PurgeResult* const result_;
};

}  // namespace

Status PurgeExpired(Store* store, const Clock& clock, const ProgressFn& progress,
                    PurgeResult* result) {
  return Guarded("purging expired entries", store->path(), [&]() -> Status {
    *result = PurgeResult{};
    std::vector<Namespace> namespaces;
    Status s = SelectNamespaces(*store, {}, &namespaces);
    if (!s.ok()) return s;
    const TimePoint now = clock.Now();
    Purger purger(store, result);
    Status failed;
    // Deleting behind the iterator is safe: it reads the store as it was when
    // made.
    s = ForEachRecord(*store, namespaces, {},
                      [&](const Namespace& ns, std::string_view key, std::string_view record) {
                        ReportProgress(progress, ++result->scanned);
                        if (!ExpiredAndIntact(record, now)) return true;
                        failed = purger.Delete(ns, key);
                        return failed.ok();
                      });
    if (s.ok()) s = failed;
    // What is already in the batch was found expired: delete it even after a
    // failed scan.
    return FinishWrites(store, s, purger.Flush());
  });
}

Status FinishWrites(Store* store, const Status& stopped, const Status& flushed) {
  const Status done = flushed.ok() ? store->SyncWal() : flushed;
  return done.ok() ? stopped : done;
}

Status CompactStore(Store* store, CompactResult* result) {
  Status s = store->GetStats(&result->before);
  if (s.ok()) s = store->Compact();
  if (s.ok()) s = store->GetStats(&result->after);
  return s;
}

}  // namespace tiercache::storage
