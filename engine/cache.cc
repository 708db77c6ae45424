#include "tiercache/cache.h"

#include "engine/cache_impl.h"

namespace tiercache {

Status Cache::Open(const Options& options, std::unique_ptr<Cache>* cache) {
  std::unique_ptr<Impl> impl;
  Status s = Impl::Open(options, &impl);
  if (s.ok()) cache->reset(new Cache(std::move(impl)));
  return s;
}

Cache::Cache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cache::~Cache() = default;

Status Cache::Get(std::string_view ns, std::string_view key, std::string* value) {
  return impl_->Get(ns, key, value);
}

Status Cache::GetEntry(std::string_view ns, std::string_view key, Entry* entry) {
  return impl_->GetEntry(ns, key, entry);
}

Status Cache::Contains(std::string_view ns, std::string_view key) {
  return impl_->Contains(ns, key);
}

void Cache::GetMany(std::string_view ns, const std::vector<std::string>& keys,
                    std::vector<Status>* statuses, std::vector<std::string>* values) {
  impl_->GetMany(ns, keys, statuses, values);
}

Status Cache::Put(std::string_view ns, std::string_view key, std::string_view value,
                  const WriteOptions& write, std::uint64_t* version) {
  return impl_->Write(ns, key, value, write, std::nullopt, version);
}

Status Cache::CompareAndPut(std::string_view ns, std::string_view key, std::uint64_t expected,
                            std::string_view value, const WriteOptions& write,
                            std::uint64_t* version) {
  return impl_->Write(ns, key, value, write, expected, version);
}

Status Cache::PutMany(std::string_view ns, const std::vector<KeyValue>& pairs,
                      const WriteOptions& write) {
  return impl_->PutMany(ns, pairs, write);
}

Status Cache::Delete(std::string_view ns, std::string_view key) {
  return impl_->Delete(ns, key);
}

Status Cache::DropNamespace(std::string_view ns) { return impl_->DropNamespace(ns); }

Status Cache::Flush(std::chrono::milliseconds deadline) { return impl_->Flush(deadline); }

Status Cache::Close(std::chrono::milliseconds deadline, std::vector<NamespacedKey>* unwritten) {
  return impl_->Close(deadline, unwritten);
}

CacheStats Cache::GetStats() const { return impl_->GetStats(); }

}  // namespace tiercache
