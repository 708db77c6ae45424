// Runs a libFuzzer target's LLVMFuzzerTestOneInput once on every file of the
// folders it is given, without libFuzzer: the plain and sanitizer test runs
// replay each target's tests/fuzz/corpus/TARGET this way, so that the seeds
// and every crash input kept there stay tests. A failing input aborts, as under the fuzzer; the
// program fails too when the folders hold no input at all.
//
//   fuzz_replay DIR...

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// The files of `dir`, sorted, so that a run's output names them in one order.
std::vector<std::filesystem::path> FilesIn(const char* dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& item : std::filesystem::directory_iterator(dir)) {
    if (item.is_regular_file()) files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    for (const std::filesystem::path& file : FilesIn(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      // Printed first: an input that crashes is the last name in the log.
      std::printf("replaying %s (%zu bytes)\n", file.c_str(), bytes.size());
      std::fflush(stdout);
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::printf("fuzz_replay: %zu inputs replayed\n", replayed);
  return replayed > 0 ? 0 : 1;
}
