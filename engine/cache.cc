#include "tiercache/cache.h"

#include <exception>
#include <new>

#include "engine/cache_impl.h"
#include "storage/guarded.h"

namespace tiercache {
namespace {

// No exception crosses the API (status.h): one that reaches it, which can only
// be an allocation the system refused or a failure of the standard library
// beneath, ends the call with a status.
template <typename Call>
Status Guarded(Call&& call) noexcept {
  try {
    return call();
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory();
  } catch (const std::exception& e) {
    return storage::OrOutOfMemory([&] { return Status::IOError(e.what()); });
  } catch (...) {
    return storage::OrOutOfMemory(
        [] { return Status::IOError("an exception that is not a std::exception"); });
  }
}

}  // namespace

Status Cache::Open(const Options& options, std::unique_ptr<Cache>* cache) {
  return Guarded([&] {
    std::unique_ptr<Impl> impl;
    Status s = Impl::Open(options, &impl);
    if (s.ok()) cache->reset(new Cache(std::move(impl)));
    return s;
  });
}

Cache::Cache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cache::~Cache() = default;

Status Cache::Get(std::string_view ns, std::string_view key, std::string* value) {
  return Guarded([&] { return impl_->Get(ns, key, value); });
}

Status Cache::GetEntry(std::string_view ns, std::string_view key, Entry* entry) {
  return Guarded([&] { return impl_->GetEntry(ns, key, entry); });
}

Status Cache::Contains(std::string_view ns, std::string_view key) {
  return Guarded([&] { return impl_->Contains(ns, key); });
}

void Cache::GetMany(std::string_view ns, const std::vector<std::string>& keys,
                    std::vector<Status>* statuses, std::vector<std::string>* values) {
  const Status s = Guarded([&] {
    impl_->GetMany(ns, keys, statuses, values);
    return Status::OK();
  });
  if (s.ok()) return;
  // Every key gets the call's status (an answer made before it may have been
  // cut short), or Status::OutOfMemory() when there is no memory to copy its message:
  // copies of that need none. The vectors may need memory to reach the count.
  const auto give_each = [&](const Status& each) {
    return Guarded([&] {
      statuses->assign(keys.size(), each);
      values->resize(keys.size());
      return Status::OK();
    });
  };
  if (!give_each(s).ok()) static_cast<void>(give_each(Status::OutOfMemory()));
}

Status Cache::Put(std::string_view ns, std::string_view key, std::string_view value,
                  const WriteOptions& write, std::uint64_t* version) {
  return Guarded([&] { return impl_->Write(ns, key, value, write, std::nullopt, version); });
}

Status Cache::CompareAndPut(std::string_view ns, std::string_view key, std::uint64_t expected,
                            std::string_view value, const WriteOptions& write,
                            std::uint64_t* version) {
  return Guarded([&] { return impl_->Write(ns, key, value, write, expected, version); });
}

Status Cache::PutMany(std::string_view ns, const std::vector<KeyValue>& pairs,
                      const WriteOptions& write) {
  return Guarded([&] { return impl_->PutMany(ns, pairs, write); });
}

Status Cache::Delete(std::string_view ns, std::string_view key) {
  return Guarded([&] { return impl_->Delete(ns, key); });
}

Status Cache::DropNamespace(std::string_view ns) {
  return Guarded([&] { return impl_->DropNamespace(ns); });
}

Status Cache::Flush(std::chrono::milliseconds deadline) {
  return Guarded([&] { return impl_->Flush(deadline); });
}

Status Cache::Close(std::chrono::milliseconds deadline, std::vector<NamespacedKey>* unwritten) {
  return Guarded([&] { return impl_->Close(deadline, unwritten); });
}

CacheStats Cache::GetStats() const { return impl_->GetStats(); }

}  // namespace tiercache
