#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <exception>

#include "storage/key_layout.h"
#include "storage/store.h"
#include "tiercache/options.h"

namespace tiercache::storage {
namespace {

// Checks the key, runs `add` (which appends to the RocksDB batch), and turns
// its failures and exceptions into a Status.
template <typename Fn>
Status AddToBatch(std::string_view what, std::string_view key, Fn&& add) noexcept {
  if (key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument(
        fmt::format("key is {} bytes, longer than the limit of {}", key.size(), kMaxKeyBytes));
  }
  try {
    const rocksdb::Status s = add();
    if (s.ok()) return Status::OK();
    return Status::IOError(fmt::format("adding a {} to a batch failed: {}", what, s.ToString()));
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("adding a {} to a batch failed: {}", what, e.what()));
  }
}

}  // namespace

StoreBatch::StoreBatch(rocksdb::ColumnFamilyHandle* data)
    : data_(data), batch_(std::make_unique<rocksdb::WriteBatch>()) {}

StoreBatch::StoreBatch(StoreBatch&&) noexcept = default;
StoreBatch& StoreBatch::operator=(StoreBatch&&) noexcept = default;
StoreBatch::~StoreBatch() = default;

Status StoreBatch::Put(const Namespace& ns, std::string_view key, std::string_view record) {
  return AddToBatch("Put", key, [&] {
    EncodeDataKey(ns.id, key, &key_buffer_);
    const rocksdb::Status s = batch_->Put(data_, key_buffer_, {record.data(), record.size()});
    if (s.ok()) NoteNamespace(ns.id);
    return s;
  });
}

Status StoreBatch::Delete(const Namespace& ns, std::string_view key) {
  return AddToBatch("Delete", key, [&] {
    EncodeDataKey(ns.id, key, &key_buffer_);
    const rocksdb::Status s = batch_->Delete(data_, key_buffer_);
    if (s.ok()) NoteNamespace(ns.id);
    return s;
  });
}

std::size_t StoreBatch::Count() const { return batch_->Count(); }

std::size_t StoreBatch::ApproximateBytes() const { return batch_->GetDataSize(); }

void StoreBatch::Clear() {
  batch_->Clear();
  namespace_ids_.clear();
}

void StoreBatch::NoteNamespace(std::uint32_t id) {
  // Consecutive writes mostly share a namespace; Store::Write checks each
  // listed id, so repeats cost only time.
  if (namespace_ids_.empty() || namespace_ids_.back() != id) namespace_ids_.push_back(id);
}

}  // namespace tiercache::storage
