#pragma once

// What the fault tests (fault_recovery_test, power_loss_test) share: a cache
// over a FaultFileSystem, and the checks of a store reopened after faults.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "storage/fault_file_system.h"
#include "storage/inspect.h"
#include "storage/record_format.h"
#include "storage/store.h"
#include "tiercache/options.h"

namespace tiercache::test_util {

// Options of a cache whose store runs over `fs`, its free-space check off
// (the disk is simulated). The workloads stay below one memtable: RocksDB 7.8
// sleeps a second after each failed background flush, which would make the
// runs whose fault hits a flush last a second each.
inline Options FaultyCacheOptions(const std::string& path, WritePolicy policy,
                                  Durability durability,
                                  std::shared_ptr<storage::FaultFileSystem> fs) {
  Options options;
  options.path = path;
  options.write_policy = policy;
  options.durability = durability;
  options.adjust_store_for_testing = [fs](storage::StoreOptions* store) {
    store->file_system = fs;
    store->free_space_reserve = 0;
  };
  return options;
}

// A key as a reopened store holds it: absent, or a value and its version.
struct Held {
  bool present = false;
  std::string value;
  std::uint64_t version = 0;
};

inline std::string Describe(const Held& held) {
  if (!held.present) return "absent";
  return fmt::format("'{}' v{}", held.value.substr(0, 12), held.version);
}

// True when `got` is the write `want`; a version 0 in `want` is one the write
// did not report (PutMany, or a failed Put), and any version matches it.
inline bool Matches(const Held& want, const Held& got) {
  if (want.present != got.present) return false;
  if (!want.present) return true;
  return want.value == got.value && (want.version == 0 || want.version == got.version);
}

// Reads `key` of namespace `ns` from the store below the cache, decoded.
inline Status ReadHeld(storage::Store* store, const storage::Namespace& ns, const std::string& key,
                       Held* held) {
  std::string record;
  Status s = store->Get(ns, key, &record);
  if (s.IsNotFound()) {
    *held = Held{};
    return Status::OK();
  }
  Entry entry;
  if (s.ok()) s = storage::DecodeRecord(record, &entry);
  if (s.ok()) *held = Held{true, std::move(entry.value), entry.version};
  return s;
}

// Every record and SST file of the store checks out; the problems otherwise.
inline void ExpectVerifyClean(const storage::Store& store) {
  storage::VerifyResult result;
  std::string problems;
  const Status s = storage::Verify(
      store, nullptr,
      [&](const storage::BadRecord& bad) {
        problems += fmt::format("{}/{}: {}\n", bad.ns, bad.key.value_or("-"), bad.problem);
      },
      &result);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(result.bad, 0u) << problems;
}

}  // namespace tiercache::test_util
