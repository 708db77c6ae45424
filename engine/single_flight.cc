#include "engine/single_flight.h"

namespace tiercache::engine {

Status SingleFlight::Do(const std::string& key, const Work& work, Entry* entry, bool* shared) {
  std::unique_lock lock(mu_);
  auto [it, leader] = calls_.try_emplace(key);
  if (!leader) {
    std::shared_ptr<Call> call = it->second;
    done_.wait(lock, [&] { return call->done; });
    *shared = true;
    *entry = call->entry;
    return call->status;
  }
  auto call = std::make_shared<Call>();
  it->second = call;
  lock.unlock();

  call->status = work(&call->entry);

  lock.lock();
  call->done = true;
  // Sealed, the key may already belong to a newer run.
  if (auto it = calls_.find(key); it != calls_.end() && it->second == call) calls_.erase(it);
  done_.notify_all();
  *shared = false;
  *entry = call->entry;
  return call->status;
}

void SingleFlight::Seal(const std::string& key) {
  std::lock_guard lock(mu_);
  calls_.erase(key);
}

}  // namespace tiercache::engine
