#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "storage/guarded.h"
#include "storage/key_layout.h"
#include "storage/store.h"

namespace tiercache::storage {
namespace {

// What a batch adds to an entry's key and value: its type, column family and
// two lengths, each at most a 5-byte varint.
constexpr std::size_t kEntryOverheadBytes = 1 + 3 * 5;

// Clear keeps a buffer up to this size for the batch's next use.
constexpr std::size_t kKeptBufferBytes = 8 * 1024 * 1024;

// Checks the key, runs `add` (which appends to the RocksDB batch), and turns
// its failures and exceptions into a Status.
template <typename Fn>
Status AddToBatch(std::string_view what, std::string_view key, Fn&& add) noexcept {
  if (Status s = OrOutOfMemory([&] { return CheckKey(key); }); !s.ok()) return s;
  try {
    const rocksdb::Status s = add();
    if (s.ok()) return Status::OK();
    return Status::IOError(fmt::format("adding a {} to a batch failed: {}", what, s.ToString()));
  } catch (const std::bad_alloc&) {
    return OrOutOfMemory([&] {
      return Status::NoSpace(fmt::format("adding a {} to a batch failed: out of memory", what));
    });
  } catch (const std::exception& e) {
    return OrOutOfMemory([&] {
      return Status::IOError(fmt::format("adding a {} to a batch failed: {}", what, e.what()));
    });
  }
}

// Copies the Puts and Deletes a StoreBatch holds (it holds nothing else) into
// another batch, but those whose key is in a namespace left out.
class CopyingHandler : public rocksdb::WriteBatch::Handler {
 public:
  CopyingHandler(rocksdb::ColumnFamilyHandle* data, const std::vector<std::uint32_t>& left_out,
                 rocksdb::WriteBatch* out)
      : data_(data), left_out_(left_out), out_(out) {}

  rocksdb::Status PutCF(std::uint32_t, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    return LeftOut(key) ? rocksdb::Status::OK() : out_->Put(data_, key, value);
  }
  rocksdb::Status DeleteCF(std::uint32_t, const rocksdb::Slice& key) override {
    return LeftOut(key) ? rocksdb::Status::OK() : out_->Delete(data_, key);
  }

 private:
  bool LeftOut(const rocksdb::Slice& key) const {
    const std::optional<std::uint32_t> id =
        DecodeNamespaceId(std::string_view(key.data(), std::min(key.size(), kNamespaceIdBytes)));
    return id && std::find(left_out_.begin(), left_out_.end(), *id) != left_out_.end();
  }

  rocksdb::ColumnFamilyHandle* const data_;
  const std::vector<std::uint32_t>& left_out_;
  rocksdb::WriteBatch* const out_;
};

}  // namespace

StoreBatch::StoreBatch(rocksdb::ColumnFamilyHandle* data)
    : data_(data), batch_(std::make_unique<rocksdb::WriteBatch>()) {}

StoreBatch::StoreBatch(StoreBatch&&) noexcept = default;
StoreBatch& StoreBatch::operator=(StoreBatch&&) noexcept = default;
StoreBatch::~StoreBatch() = default;

// RocksDB's batch is never left to grow inside its Put or Delete: an
// allocation refused there throws through a save point whose destructor
// asserts (Debian builds RocksDB with assertions on), ending the process. The
// room is made here instead, doubling, where a refusal is a Status; so is the
// room to note the write's namespace, which a write once in the batch must
// not fail for.
void StoreBatch::MakeRoom(std::uint32_t ns, std::size_t bytes) {
  if (!Noted(ns) && namespace_ids_.size() == namespace_ids_.capacity()) {
    namespace_ids_.reserve(std::max<std::size_t>(4, 2 * namespace_ids_.capacity()));
  }
  const std::string& rep = batch_->Data();
  if (rep.capacity() - rep.size() >= bytes) return;
  std::string grown;
  grown.reserve(std::max(2 * rep.capacity(), rep.size() + bytes));
  grown.assign(rep);
  batch_ = std::make_unique<rocksdb::WriteBatch>(std::move(grown));
}

Status StoreBatch::Put(const Namespace& ns, std::string_view key, std::string_view record) {
  return AddToBatch("Put", key, [&] {
    EncodeDataKey(ns.id, key, &key_buffer_);
    MakeRoom(ns.id, kEntryOverheadBytes + key_buffer_.size() + record.size());
    const rocksdb::Status s = batch_->Put(data_, key_buffer_, {record.data(), record.size()});
    if (s.ok()) NoteNamespace(ns.id);
    return s;
  });
}

Status StoreBatch::Delete(const Namespace& ns, std::string_view key) {
  return AddToBatch("Delete", key, [&] {
    EncodeDataKey(ns.id, key, &key_buffer_);
    MakeRoom(ns.id, kEntryOverheadBytes + key_buffer_.size());
    const rocksdb::Status s = batch_->Delete(data_, key_buffer_);
    if (s.ok()) NoteNamespace(ns.id);
    return s;
  });
}

std::size_t StoreBatch::Count() const { return batch_->Count(); }

std::size_t StoreBatch::ApproximateBytes() const { return batch_->GetDataSize(); }

void StoreBatch::Clear() {
  if (batch_->Data().capacity() > kKeptBufferBytes) {
    try {
      batch_ = std::make_unique<rocksdb::WriteBatch>();
    } catch (const std::bad_alloc&) {
      batch_->Clear();  // kept, then
    }
  } else {
    batch_->Clear();
  }
  namespace_ids_.clear();
}

Status StoreBatch::CopyWithout(const std::vector<std::uint32_t>& left_out,
                               rocksdb::WriteBatch* kept) const {
  kept->Clear();
  CopyingHandler copy(data_, left_out, kept);
  const rocksdb::Status s = batch_->Iterate(&copy);
  if (s.ok()) return Status::OK();
  return Status::IOError(fmt::format("copying a batch without its dropped namespaces failed: {}",
                                     s.ToString()));
}

void StoreBatch::NoteNamespace(std::uint32_t id) {
  // Consecutive writes mostly share a namespace; Store::Write checks each
  // listed id, so repeats cost only time.
  if (!Noted(id)) namespace_ids_.push_back(id);
}

}  // namespace tiercache::storage
