// An outside application: built by tools/check-install against the installed
// pkg-config file only, as C++17.
#include <tiercache/tiercache.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed DIR\n");
    return 2;
  }
  tiercache::Options options;
  options.path = argv[1];
  options.eviction = tiercache::EvictionPolicy::kAdaptive;
  options.write_policy = tiercache::WritePolicy::kWriteBehind;
  if (tiercache::Status s = options.Validate(); !s.ok()) {
    std::fprintf(stderr, "embed: %s\n", s.ToString().c_str());
    return 1;
  }
  options.l1_max_entries = 0;
  tiercache::Status refused = options.Validate();
  std::printf("embed: options for %s are valid; zero capacity is refused: %s\n", argv[1],
              refused.ToString().c_str());
  return refused.IsInvalidArgument() ? 0 : 1;
}
