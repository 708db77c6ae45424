// An outside application: built by tools/check-install against the installed
// pkg-config file only, as C++17.
#include <tiercache/tiercache.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed DIR\n");
    return 2;
  }
  tiercache::Options options;
  options.path = argv[1];
  options.write_policy = tiercache::WritePolicy::kWriteBehind;
  options.eviction = tiercache::EvictionPolicy::kAdaptive;

  std::unique_ptr<tiercache::Cache> cache;
  tiercache::Status s = tiercache::Cache::Open(options, &cache);
  if (s.ok()) s = cache->Put("thumbnails", "cat.png", "\x89PNG...");
  std::string value;
  if (s.ok()) s = cache->Get("thumbnails", "cat.png", &value);
  if (s.ok()) s = cache->Close(std::chrono::seconds(5));
  if (!s.ok()) {
    std::fprintf(stderr, "embed: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("embed: read back %zu bytes from %s\n", value.size(), argv[1]);
  return value == "\x89PNG..." ? 0 : 1;
}
