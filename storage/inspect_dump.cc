// Dump and Load of storage/inspect.h: entries to JSON lines and back.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <utility>

#include "storage/entry_json.h"
#include "storage/guarded.h"
#include "storage/inspect.h"
#include "storage/record_format.h"

namespace tiercache::storage {

Status Dump(const Store& store, std::string_view ns, std::ostream* out, const ProgressFn& progress,
            const BadRecordFn& bad, DumpResult* result) {
  return Guarded("dumping", store.path(), [&]() -> Status {
    *result = DumpResult{};
    ListOptions options;
    options.ns = std::string(ns);
    std::string line;
    Status failed;
    const auto write = [&](std::string_view name, const Entry& entry) {
      failed = EntryToJsonLine(name, entry, &line);
      if (!failed.ok()) return false;
      line += '\n';
      if (!out->write(line.data(), static_cast<std::streamsize>(line.size()))) {
        failed = Status::IOError(
            fmt::format("writing the dump failed after {} entries", result->entries));
        return false;
      }
      ++result->entries;
      ReportProgress(progress, result->entries);
      return true;
    };
    const auto skip = [&](const BadRecord& record) {
      ++result->bad;
      if (bad) bad(record);
    };
    Status s = ListEntries(store, options, write, skip);
    if (s.ok()) s = failed;
    if (s.ok() && !out->flush()) {
      s = Status::IOError(fmt::format("writing the dump failed after {} entries", result->entries));
    }
    return s;
  });
}

namespace {

// Adds parsed lines to a batch and writes it when full. Keeps each entry's
// fields as they are; opens (creates) namespaces as the lines name them. An
// entry whose key the store (or an earlier line) holds at the same or a newer
// version is left out: a key's version never goes backwards (DESIGN.md), so a
// reader's CompareAndPut with a version it read before the load stays a
// Conflict.
class Loader {
 public:
  Loader(Store* store, const LoadOptions& options)
      : store_(store),
        options_(options),
        encoder_(options.compression, options.compression_threshold),
        batch_(store->NewBatch()) {}

  // Adds `named` to the batch. InvalidArgument when the entry cannot be
  // stored (an empty namespace name, a key or value over its limit).
  // REQUIRES: the version is at most kMaxVersion, as ParseEntryJsonLine
  // makes sure.
  Status Add(const NamedEntry& named) {
    // The line is checked in full (its namespace name, the encoder's limits)
    // before the store is asked whether it holds the key.
    Namespace ns;
    Status s = NamespaceFor(named.ns, &ns);
    if (s.ok()) s = encoder_.Encode(named.entry, &record_);
    std::uint64_t held = 0;
    if (s.ok()) s = HeldVersion(ns, named.entry.key, &held);
    if (!s.ok()) return s;
    if (held >= named.entry.version) {
      ++kept_;
      return Status::OK();
    }
    s = batch_.Put(ns, named.entry.key, record_);
    if (!s.ok()) return s;
    batched_[{ns.id, named.entry.key}] = named.entry.version;
    max_version_ = std::max(max_version_, named.entry.version);
    return Status::OK();
  }

  bool Full() const {
    return batch_.Count() >= options_.batch_entries ||
           batch_.ApproximateBytes() >= options_.batch_bytes;
  }

  Status Flush() {
    if (batch_.Count() == 0) return Status::OK();
    // Versions never go backwards (DESIGN.md): the store's ceiling is above
    // every loaded version before any of them is in the store, so that the
    // cache never hands out a version at or below one loaded here.
    Status s = store_->RaiseVersionCeiling(max_version_ + 1);
    if (s.ok()) s = store_->Write(&batch_);
    if (s.ok()) written_ += batch_.Count();
    batch_.Clear();
    batched_.clear();
    return s;
  }

  std::uint64_t written() const { return written_; }
  std::uint64_t kept() const { return kept_; }

 private:
  // The version of the key in the batch being filled, else in the store; 0
  // when neither holds it, or when the stored record fails its checks (the
  // loaded entry then replaces it: a damaged header's version means nothing).
  Status HeldVersion(const Namespace& ns, std::string_view key, std::uint64_t* version) {
    *version = 0;
    const auto batched = batched_.find(std::pair(ns.id, std::string(key)));
    if (batched != batched_.end()) {
      *version = batched->second;
      return Status::OK();
    }
    Status s = store_->Get(ns, key, &stored_);
    RecordHeader header;
    if (s.ok()) s = VerifyRecord(stored_, &header);
    if (s.ok()) *version = header.version;
    return s.IsNotFound() || s.IsCorruption() ? Status::OK() : s;
  }

  Status NamespaceFor(const std::string& name, Namespace* ns) {
    const auto it = namespaces_.find(name);
    if (it != namespaces_.end()) {
      *ns = it->second;
      return Status::OK();
    }
    Status s = store_->OpenNamespace(name, ns);
    if (s.ok()) namespaces_.emplace(name, *ns);
    return s;
  }

  Store* const store_;
  const LoadOptions options_;
  RecordEncoder encoder_;
  StoreBatch batch_;
  std::string record_;
  std::string stored_;
  std::map<std::string, Namespace, std::less<>> namespaces_;
  std::map<std::pair<std::uint32_t, std::string>, std::uint64_t> batched_;  // in the batch: versions
  std::uint64_t max_version_ = 0;  // of the entries added so far; at most kMaxVersion
  std::uint64_t written_ = 0;
  std::uint64_t kept_ = 0;
};

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// Parses one line and adds it. A line that is malformed or that the store
// refuses is InvalidArgument named by its number; other failures (the disk)
// are passed on as they are.
Status LoadLine(std::string_view line, std::uint64_t number, NamedEntry* scratch, Loader* loader) {
  Status s = ParseEntryJsonLine(line, scratch);
  if (s.ok()) s = loader->Add(*scratch);
  if (!s.IsInvalidArgument()) return s;
  return Status::InvalidArgument(fmt::format("line {}: {}", number, s.message()));
}

}  // namespace

Status Load(Store* store, std::istream* in, const LoadOptions& options, const ProgressFn& progress,
            LoadResult* result) {
  return Guarded("loading", store->path(), [&]() -> Status {
    *result = LoadResult{};
    Loader loader(store, options);
    NamedEntry scratch;
    std::string line;
    std::uint64_t input_bytes = 0;
    Status s;
    while (s.ok() && std::getline(*in, line)) {
      ++result->lines;
      input_bytes += line.size() + 1;
      if (!IsBlank(line)) s = LoadLine(line, result->lines, &scratch, &loader);
      if (s.ok() && loader.Full()) s = loader.Flush();
      ReportProgress(progress, result->lines, input_bytes);
    }
    if (s.ok() && in->bad()) {
      s = Status::IOError(fmt::format("reading the input failed after line {}", result->lines));
    }
    // The lines before a malformed one are loaded all the same.
    const Status flushed = loader.Flush();
    result->entries = loader.written();
    result->kept = loader.kept();
    return FinishWrites(store, s, flushed);
  });
}

}  // namespace tiercache::storage
