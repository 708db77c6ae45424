#include <fmt/format.h>
#include <rocksdb/db.h>

#include <optional>

#include "storage/guarded.h"
#include "storage/key_layout.h"
#include "storage/rocksdb_status.h"
#include "storage/store.h"
#include "storage/store_handles.h"
#include "tiercache/options.h"

namespace tiercache::storage {

// The RocksDB iterator and the bounds it points into: ReadOptions holds the
// bounds by pointer, so they live as long as the iterator, here.
struct StoreIterator::Impl {
  std::string lower;
  std::optional<std::string> upper;
  rocksdb::Slice lower_slice;
  rocksdb::Slice upper_slice;
  std::unique_ptr<rocksdb::Iterator> it;
  std::string what;  // names the walk in a failure
};

StoreIterator::StoreIterator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StoreIterator::~StoreIterator() = default;

bool StoreIterator::Valid() const { return impl_->it->Valid(); }

void StoreIterator::Next() { impl_->it->Next(); }

void StoreIterator::SeekToLast() { impl_->it->SeekToLast(); }

void StoreIterator::Prev() { impl_->it->Prev(); }

std::string_view StoreIterator::key() const {
  const rocksdb::Slice key = impl_->it->key();
  return UserKeyOf({key.data(), key.size()});
}

std::string_view StoreIterator::record() const {
  const rocksdb::Slice value = impl_->it->value();
  return {value.data(), value.size()};
}

Status StoreIterator::status() const { return FromRocksDb(impl_->it->status(), impl_->what); }

Status Store::NewIterator(const Namespace& ns, std::string_view prefix,
                          std::unique_ptr<StoreIterator>* iterator) const {
  return Guarded("NewIterator", options_.path, [&]() -> Status {
    if (prefix.size() > kMaxKeyBytes) {
      return Status::InvalidArgument(fmt::format("prefix is {} bytes, longer than the limit of {}",
                                                 prefix.size(), kMaxKeyBytes));
    }
    auto impl = std::make_unique<StoreIterator::Impl>();
    EncodeDataKey(ns.id, prefix, &impl->lower);
    // The id makes the bound exist for every prefix, 0xff-ending ones too,
    // unless the id itself is 0xffffffff, which no namespace gets.
    impl->upper = PrefixSuccessor(impl->lower);
    impl->lower_slice = rocksdb::Slice(impl->lower);
    rocksdb::ReadOptions read;
    read.iterate_lower_bound = &impl->lower_slice;
    if (impl->upper) {
      impl->upper_slice = rocksdb::Slice(*impl->upper);
      read.iterate_upper_bound = &impl->upper_slice;
    }
    impl->what = Describe("iterating", ns);
    impl->it.reset(handles_->db->NewIterator(read, handles_->data));
    impl->it->Seek(impl->lower_slice);
    iterator->reset(new StoreIterator(std::move(impl)));
    return Status::OK();
  });
}

Status Store::ForEach(const Namespace& ns, std::string_view prefix, const Visitor& fn) const {
  return Guarded("ForEach", options_.path, [&]() -> Status {
    std::unique_ptr<StoreIterator> it;
    Status s = NewIterator(ns, prefix, &it);
    if (!s.ok()) return s;
    for (; it->Valid(); it->Next()) {
      if (!fn(it->key(), it->record())) return Status::OK();
    }
    return it->status();
  });
}

Status Store::ForEachBackward(const Namespace& ns, std::string_view prefix,
                              const Visitor& fn) const {
  return Guarded("ForEachBackward", options_.path, [&]() -> Status {
    std::unique_ptr<StoreIterator> it;
    Status s = NewIterator(ns, prefix, &it);
    if (!s.ok()) return s;
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      if (!fn(it->key(), it->record())) return Status::OK();
    }
    return it->status();
  });
}

}  // namespace tiercache::storage
