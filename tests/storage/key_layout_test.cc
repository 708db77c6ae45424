#include "storage/key_layout.h"

#include <gtest/gtest.h>

namespace tiercache::storage {
namespace {

TEST(KeyLayoutTest, NamespaceIdsAreBigEndianSoEachNamespaceIsOneRange) {
  EXPECT_EQ(EncodeNamespaceId(0x01020304), std::string("\x01\x02\x03\x04", 4));
  EXPECT_LT(EncodeNamespaceId(255), EncodeNamespaceId(256));
  std::string a;
  std::string b;
  EncodeDataKey(1, std::string(10, '\xff'), &a);
  EncodeDataKey(2, "", &b);
  EXPECT_LT(a, b);
}

TEST(KeyLayoutTest, DecodeReadsBackAndRejectsWrongLengths) {
  EXPECT_EQ(DecodeNamespaceId(EncodeNamespaceId(0xFFFFFFFE)), 0xFFFFFFFEu);
  EXPECT_EQ(DecodeNamespaceId("abc"), std::nullopt);
  EXPECT_EQ(DecodeNamespaceId("abcde"), std::nullopt);
}

TEST(KeyLayoutTest, DataKeyIsIdThenUserKey) {
  std::string key;
  EncodeDataKey(7, "user", &key);
  EXPECT_EQ(key, std::string("\0\0\0\x07user", 8));
  EXPECT_EQ(UserKeyOf(key), "user");
}

// GetMany lays its data keys side by side in one string.
TEST(KeyLayoutTest, AppendedDataKeysFollowWhatIsThere) {
  std::string first, second, both = "x";
  EncodeDataKey(7, "user", &first);
  EncodeDataKey(0x01020304, "", &second);
  AppendDataKey(7, "user", &both);
  AppendDataKey(0x01020304, "", &both);
  EXPECT_EQ(both, "x" + first + second);
  EXPECT_EQ(second, std::string("\x01\x02\x03\x04", 4));
}

TEST(KeyLayoutTest, PrefixSuccessorIncrementsTheLastByte) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xfe", 2)), std::string("a\xff", 2));
}

TEST(KeyLayoutTest, PrefixSuccessorDropsTrailingFfBytes) {
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\x01\xff", 2)), std::string("\x02", 1));
}

TEST(KeyLayoutTest, PrefixSuccessorIsNoneForEmptyOrAllFf) {
  EXPECT_EQ(PrefixSuccessor(""), std::nullopt);
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), std::nullopt);
}

TEST(KeyLayoutTest, NamespaceMetaKeyIsPrefixedName) {
  EXPECT_EQ(NamespaceMetaKey("users"), "namespace/users");
}

}  // namespace
}  // namespace tiercache::storage
