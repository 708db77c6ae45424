#pragma once

#include <rocksdb/perf_level.h>

namespace tiercache::storage {

// RocksDB counts what each call does in a per-thread perf context unless told
// not to, and its default is to count. The store never reads the counts, and
// keeping them cost a Get from RocksDB about 950 of its 16,000 instructions
// (callgrind), most in thread-local look-ups at every key comparison, and the
// write-behind flusher's memtable inserts a sixth of their time (perf). The
// store wraps its reads and writes of entries in this guard: it turns the
// counting off for the call, then gives the thread back its level, which on an
// application's thread is the application's to set.
class PerfCountingOff {
 public:
  PerfCountingOff() : level_(rocksdb::GetPerfLevel()) {
    if (level_ != rocksdb::PerfLevel::kDisable) rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  }
  ~PerfCountingOff() {
    if (level_ != rocksdb::PerfLevel::kDisable) rocksdb::SetPerfLevel(level_);
  }
  PerfCountingOff(const PerfCountingOff&) = delete;
  PerfCountingOff& operator=(const PerfCountingOff&) = delete;

 private:
  const rocksdb::PerfLevel level_;
};

}  // namespace tiercache::storage
