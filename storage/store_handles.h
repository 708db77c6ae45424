#pragma once

// Storage-internal: includes RocksDB. What a Store holds of RocksDB, shared by
// the files that implement Store.

#include <rocksdb/db.h>

#include <memory>
#include <vector>

#include "storage/store.h"

namespace tiercache::storage {

// The open RocksDB instance and its column families. Closes the instance when
// destroyed. Set once by Store::Open, read-only afterwards.
struct Store::Handles {
  std::unique_ptr<rocksdb::Env> env;  // over StoreOptions::file_system, when given
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::ColumnFamilyHandle* meta = nullptr;  // one of families
  rocksdb::ColumnFamilyHandle* data = nullptr;  // one of families
  rocksdb::WriteOptions data_write;

  Handles() = default;
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;

  ~Handles() {
    if (db == nullptr) return;
    // RocksDB requires the handles gone before the DB.
    for (rocksdb::ColumnFamilyHandle* family : families) {
      db->DestroyColumnFamilyHandle(family).PermitUncheckedError();
    }
    db->Close().PermitUncheckedError();
    delete db;
  }
};

}  // namespace tiercache::storage
