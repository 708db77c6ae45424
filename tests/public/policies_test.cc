#include "tiercache/policies.h"

#include <gtest/gtest.h>

namespace tiercache {
namespace {

TEST(PoliciesTest, NamesRoundTrip) {
  for (auto p : {WritePolicy::kWriteThrough, WritePolicy::kWriteBehind,
                 WritePolicy::kWriteAround}) {
    EXPECT_EQ(ParseWritePolicy(Name(p)), p);
  }
  for (auto p : {ReadPolicy::kReadThrough, ReadPolicy::kCacheAside}) {
    EXPECT_EQ(ParseReadPolicy(Name(p)), p);
  }
  for (auto p : {EvictionPolicy::kLRU, EvictionPolicy::kLFU, EvictionPolicy::kFIFO,
                 EvictionPolicy::kTTL, EvictionPolicy::kAdaptive}) {
    EXPECT_EQ(ParseEvictionPolicy(Name(p)), p);
  }
  for (auto d : {Durability::kProcessCrash, Durability::kPowerLoss}) {
    EXPECT_EQ(ParseDurability(Name(d)), d);
  }
  for (auto c : {Compression::kNone, Compression::kLz4}) {
    EXPECT_EQ(ParseCompression(Name(c)), c);
  }
}

TEST(PoliciesTest, CommandLineSpellings) {
  EXPECT_EQ(Name(WritePolicy::kWriteBehind), "write-behind");
  EXPECT_EQ(Name(EvictionPolicy::kAdaptive), "adaptive");
  EXPECT_EQ(ParseEvictionPolicy("lru"), EvictionPolicy::kLRU);
}

TEST(PoliciesTest, UnknownNamesAreRejected) {
  EXPECT_FALSE(ParseWritePolicy("write-sideways").has_value());
  EXPECT_FALSE(ParseEvictionPolicy("LRU").has_value());
  EXPECT_FALSE(ParseCompression("").has_value());
}

}  // namespace
}  // namespace tiercache
