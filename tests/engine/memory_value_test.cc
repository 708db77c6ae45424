#include "engine/memory_value.h"

#include <gtest/gtest.h>

namespace tiercache::engine {
namespace {

// The L1 form of `value` by way of its record, as the cache makes it.
std::string FormOf(std::string_view value, std::size_t threshold) {
  storage::RecordEncoder encoder(Compression::kLz4, threshold);
  Entry entry;
  entry.value = value;
  std::string record;
  storage::StoredValue stored;
  EXPECT_TRUE(encoder.Encode(entry, &record, &stored).ok());
  std::string form;
  ToMemoryForm(stored, &form);
  return form;
}

TEST(MemoryValueTest, ShortValuesAreKeptAsTheyAre) {
  std::string form = FormOf("short", 64);
  EXPECT_EQ(form, std::string(1, kMemoryRaw) + "short");
  ASSERT_TRUE(FromMemoryForm(&form).ok());
  EXPECT_EQ(form, "short");
}

TEST(MemoryValueTest, CompressibleValuesAreCompressedAndComeBack) {
  const std::string value(10'000, 'a');
  std::string form = FormOf(value, 64);
  EXPECT_EQ(form[0], kMemoryLz4);
  EXPECT_LT(form.size(), 200u);
  ASSERT_TRUE(FromMemoryForm(&form).ok());
  EXPECT_EQ(form, value);
}

TEST(MemoryValueTest, IncompressibleValuesAreKeptAsTheyAre) {
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i * 97 + 13));
  std::string form = FormOf(value, 1);
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
