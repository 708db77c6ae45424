// Writes the seed records of tests/fuzz/corpus/record: one valid record per
// shape the decoder knows (codec, expiry, metadata, value sizes), so that the
// fuzzer starts past the checksum. Regenerate with
//   build/fuzz/tests/fuzz/record_seeds tests/fuzz/corpus/record
// The format1-* files beside them are the seeds as builds before record
// format 2 wrote them (payload version 1), the payload2-* files as builds
// before payload version 3 did, so that the fuzzer reaches those readers too;
// record_format_test decodes all three.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "storage/record_format.h"

namespace {

using namespace tiercache;

// One seed file: its name and the shape of the entry it encodes.
struct Seed {
  const char* name;
  Compression compression;
  std::size_t value_bytes;
  bool expiry;
  int metadata_items;
};

constexpr Seed kSeeds[] = {
    {"empty", Compression::kNone, 0, false, 0},
    {"small-expiring", Compression::kNone, 10, true, 0},
    {"metadata", Compression::kNone, 100, false, 3},
    {"plain-1000", Compression::kNone, 1000, true, 1},
    {"lz4-100", Compression::kLz4, 100, true, 2},
    {"lz4-1000", Compression::kLz4, 1000, false, 0},
};

Entry SeedEntry(const Seed& seed) {
  Entry entry;
  for (std::size_t i = 0; entry.value.size() < seed.value_bytes; ++i) {
    entry.value += "seed value " + std::to_string(i * 7919 % 1000) + ' ';
  }
  entry.value.resize(seed.value_bytes);
  entry.created_at = TimePoint(std::chrono::milliseconds(1'700'000'000'000));
  entry.last_accessed = entry.created_at + std::chrono::seconds(5);
  if (seed.expiry) entry.expires_at = entry.created_at + std::chrono::hours(1);
  entry.access_count = 3;
  entry.version = 42;
  for (int i = 0; i < seed.metadata_items; ++i) {
    entry.metadata["key" + std::to_string(i)] = "meta" + std::to_string(i);
  }
  return entry;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: record_seeds DIR\n");
    return 2;
  }
  for (const Seed& seed : kSeeds) {
    storage::RecordEncoder encoder(seed.compression, 1);
    std::string record;
    if (!encoder.Encode(SeedEntry(seed), &record).ok()) return 1;
    std::ofstream(std::string(argv[1]) + "/" + seed.name, std::ios::binary) << record;
  }
  std::printf("record_seeds: %zu records in %s\n", std::size(kSeeds), argv[1]);
  return 0;
}
