#include "storage/text_encoding.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/util/run_mode.h"

namespace tiercache::storage {
namespace {

std::string Decoded(std::string_view text) {
  std::string bytes;
  EXPECT_TRUE(Base64Decode(text, &bytes)) << text;
  return bytes;
}

bool Decodes(std::string_view text) {
  std::string bytes;
  return Base64Decode(text, &bytes);
}

TEST(Base64Test, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, DecodesTheRfc4648Vectors) {
  EXPECT_EQ(Decoded(""), "");
  EXPECT_EQ(Decoded("Zg=="), "f");
  EXPECT_EQ(Decoded("Zm8="), "fo");
  EXPECT_EQ(Decoded("Zm9vYmFy"), "foobar");
}

TEST(Base64Test, EveryByteValueRoundTrips) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  EXPECT_EQ(Base64Encode(bytes).substr(0, 8), "AAECAwQF");
  EXPECT_EQ(Decoded(Base64Encode(bytes)), bytes);
}

TEST(Base64Test, RandomBytesRoundTrip) {
  const std::uint64_t seed = test_util::SeedFromEnvironment();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::printf("Base64Test seed %llu (TIERCACHE_SEED replays it)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 1000; ++round) {
    std::string bytes(rng() % 70, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    const std::string text = Base64Encode(bytes);
    ASSERT_EQ(text.size() % 4, 0u);
    ASSERT_EQ(Decoded(text), bytes);
  }
}

TEST(Base64Test, RefusesWhatIsNotCanonicalBase64) {
  EXPECT_FALSE(Decodes("Zg="));       // not a multiple of 4
  EXPECT_FALSE(Decodes("Zm9v!mFy"));  // not in the alphabet
  EXPECT_FALSE(Decodes("Zm9v YmF"));  // whitespace
  EXPECT_FALSE(Decodes("Zg==Zm9v"));  // padding before the end
  EXPECT_FALSE(Decodes("Z==="));      // three padding characters
  EXPECT_FALSE(Decodes("===="));
  EXPECT_FALSE(Decodes("Zg=a"));  // padding then data
  EXPECT_FALSE(Decodes("Zh=="));  // unused bits set: not how "f" encodes
  EXPECT_FALSE(Decodes("Zm9="));  // likewise for two bytes
  EXPECT_FALSE(Decodes("Zm-_"));  // the URL-safe alphabet is not this one
}

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII\n\t"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul \0 inside", 12)));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf \xf4\x8f\xbf\xbf"));              // U+FFFF, U+10FFFF
}

TEST(Utf8Test, RefusesMalformedSequences) {
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // cut short
  EXPECT_FALSE(IsValidUtf8("\xe2\x28\xa1"));  // a bad continuation
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(PrintableTest, KeepsTextAndEscapesTheRest) {
  EXPECT_EQ(Printable("users/42 caf\xc3\xa9"), "users/42 caf\xc3\xa9");
  EXPECT_EQ(Printable("a\\b"), "a\\b");
  EXPECT_EQ(Printable(std::string("k\0\xff\\", 4)), "k\\x00\\xff\\x5c");
  EXPECT_EQ(Printable("line\nbreak"), "line\\x0abreak");
}

}  // namespace
}  // namespace tiercache::storage
