#include "engine/memory_value.h"

#include <gtest/gtest.h>

namespace tiercache::engine {
namespace {

TEST(MemoryValueTest, ShortValuesAreKeptAsTheyAre) {
  storage::ValueCompressor compressor(Compression::kLz4, 64);
  std::string form;
  ToMemoryForm(compressor, "short", &form);
  EXPECT_EQ(form, std::string(1, kMemoryRaw) + "short");
  ASSERT_TRUE(FromMemoryForm(&form).ok());
  EXPECT_EQ(form, "short");
}

TEST(MemoryValueTest, CompressibleValuesAreCompressedAndComeBack) {
  storage::ValueCompressor compressor(Compression::kLz4, 64);
  const std::string value(10'000, 'a');
  std::string form;
  ToMemoryForm(compressor, value, &form);
  EXPECT_EQ(form[0], kMemoryLz4);
  EXPECT_LT(form.size(), 200u);
  ASSERT_TRUE(FromMemoryForm(&form).ok());
  EXPECT_EQ(form, value);
}

TEST(MemoryValueTest, IncompressibleValuesAreKeptAsTheyAre) {
  storage::ValueCompressor compressor(Compression::kLz4, 1);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i * 97 + 13));
  std::string form;
  ToMemoryForm(compressor, value, &form);
  EXPECT_EQ(form[0], kMemoryRaw);
  ASSERT_TRUE(FromMemoryForm(&form).ok());
  EXPECT_EQ(form, value);
}

TEST(MemoryValueTest, MalformedFormsAreCorruption) {
  for (std::string form : {std::string(), std::string("\x07xyz"), std::string("\x01\x02")}) {
    EXPECT_TRUE(FromMemoryForm(&form).IsCorruption());
  }
  std::string lying = std::string(1, kMemoryLz4) + std::string("\x10\x00\x00\x00", 4) + "garbage";
  EXPECT_TRUE(FromMemoryForm(&lying).IsCorruption());
}

}  // namespace
}  // namespace tiercache::engine
