#include "storage/expiry_filter.h"

#include <exception>
#include <string_view>
#include <utility>

#include "storage/record_format.h"

namespace tiercache::storage {
namespace {

class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiryFilter(std::shared_ptr<Clock> clock)
      : clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& existing_value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    // No exception may propagate into RocksDB (compaction_filter.h): keep the
    // record when anything goes wrong.
    try {
      return ExpiredAndIntact({existing_value.data(), existing_value.size()}, clock_->Now());
    } catch (const std::exception&) {
      return false;
    }
  }

  const char* Name() const override { return "tiercache.ExpiryFilter"; }

 private:
  const std::shared_ptr<Clock> clock_;
};

}  // namespace

std::unique_ptr<rocksdb::CompactionFilter> NewExpiryFilter(std::shared_ptr<Clock> clock) {
  return std::make_unique<ExpiryFilter>(std::move(clock));
}

}  // namespace tiercache::storage
