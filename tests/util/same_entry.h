#pragma once

// Two entries compared field by field, so that a failure names the field.

#include <gtest/gtest.h>

#include "tiercache/entry.h"

namespace tiercache::test_util {

// Every field of `actual` but the key equals that of `expected`. The key is
// left out for records, which do not hold it (the store's key does).
inline void ExpectSameFields(const Entry& expected, const Entry& actual) {
  EXPECT_EQ(expected.value, actual.value);
  EXPECT_EQ(expected.created_at, actual.created_at);
  EXPECT_EQ(expected.expires_at, actual.expires_at);
  EXPECT_EQ(expected.last_accessed, actual.last_accessed);
  EXPECT_EQ(expected.access_count, actual.access_count);
  EXPECT_EQ(expected.version, actual.version);
  EXPECT_EQ(expected.metadata, actual.metadata);
}

// ExpectSameFields, and the same key.
inline void ExpectSameEntry(const Entry& expected, const Entry& actual) {
  EXPECT_EQ(expected.key, actual.key);
  ExpectSameFields(expected, actual);
}

}  // namespace tiercache::test_util
