// `tiercache bench trace`: replays a key trace through the in-memory tier as
// get-then-put-on-miss and reports the hits, to compare eviction policies on
// real accesses (../shared/traces/README.md has reference counts).
#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/memory_tier.h"
#include "tools/bench/bench.h"

namespace tiercache::tool {
namespace {

// Generous, so that the entry count is what bounds the tier.
constexpr std::size_t kBytesPerEntry = 4096;

struct TraceFlags {
  std::string policy = "lru";
  std::size_t capacity = 1000;
  std::size_t shards = 1;
  bool no_lfu_ageing = false;
  bool json = false;
  std::string file;
};

struct TraceResult {
  std::uint64_t requests = 0;
  std::uint64_t hits = 0;
};

Status MakeTier(const TraceFlags& flags, EvictionPolicy policy,
                std::unique_ptr<engine::MemoryTier>* tier) {
  engine::MemoryTierOptions o;
  o.policy = policy;
  o.max_entries = flags.capacity;
  o.max_bytes = flags.capacity * kBytesPerEntry;
  o.shards = flags.shards;
  o.lfu.ageing = !flags.no_lfu_ageing;
  return engine::MemoryTier::Create(o, tier);
}

// One key per line; '*' lines (checkpoints in the LIRS traces) are skipped.
Status Replay(std::istream& in, engine::MemoryTier* tier, TraceResult* result) {
  // A trace has no times, and nothing in it expires: one moment serves.
  const TimePoint now = SystemClock().Now();
  std::string line;
  std::string value;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line == "*") continue;
    ++result->requests;
    if (tier->LookupValue(0, line, now, &value)) {
      ++result->hits;
      continue;
    }
    engine::TierWrite w;
    w.key = line;
    w.value = "v";
    if (Status s = tier->Insert(w, now); !s.ok()) return s;
  }
  return Status::OK();
}

void Print(const TraceFlags& flags, const TraceResult& r) {
  const double ratio =
      r.requests == 0 ? 0.0 : static_cast<double>(r.hits) / static_cast<double>(r.requests);
  if (flags.json) {
    std::cout << nlohmann::json{{"bench", "trace"},           {"policy", flags.policy},
                                {"capacity", flags.capacity}, {"shards", flags.shards},
                                {"requests", r.requests},     {"hits", r.hits},
                                {"hit_ratio", ratio}}
                     .dump()
              << "\n";
    return;
  }
  fmt::print("{} capacity {} shards {}: {} requests, {} hits, hit ratio {:.2f} %\n", flags.policy,
             flags.capacity, flags.shards, r.requests, r.hits, 100.0 * ratio);
}

int RunTraceBench(const TraceFlags& flags) {
  const std::optional<EvictionPolicy> policy = ParseEvictionPolicy(flags.policy);
  if (!policy) {
    std::cerr << "bench trace: unknown policy '" << flags.policy
              << "': use lru, lfu, fifo, ttl or adaptive\n";
    return kExitUsage;
  }
  std::unique_ptr<engine::MemoryTier> tier;
  if (Status s = MakeTier(flags, *policy, &tier); !s.ok()) {
    std::cerr << "bench trace: " << s.ToString() << "\n";
    return kExitUsage;
  }
  std::ifstream file;
  if (flags.file != "-") {
    file.open(flags.file);
    if (!file) {
      std::cerr << "bench trace: cannot read " << flags.file << "\n";
      return kExitUsage;
    }
  }
  std::ios::sync_with_stdio(false);
  TraceResult result;
  if (Status s = Replay(flags.file == "-" ? std::cin : file, tier.get(), &result); !s.ok()) {
    std::cerr << "bench trace: " << s.ToString() << "\n";
    return kExitProblems;
  }
  Print(flags, result);
  return kExitOk;
}

}  // namespace

void AddTraceBench(CLI::App& bench, Action* action) {
  CLI::App* trace = bench.add_subcommand(
      "trace", "Replays a key trace (one key per line) as get-then-put-on-miss; prints hits");
  auto flags = std::make_shared<TraceFlags>();
  trace->add_option("--policy", flags->policy, "lru, lfu, fifo, ttl or adaptive")
      ->capture_default_str();
  trace->add_option("--capacity", flags->capacity, "Entries the tier holds")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40))
      ->capture_default_str();
  trace->add_option("--shards", flags->shards, "Shards: a power of two, 1 .. 1024")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  trace->add_flag("--no-lfu-ageing", flags->no_lfu_ageing,
                  "LFU keeps counts while resident (the textbook policy)");
  trace->add_flag("--json", flags->json, "One JSON object per line");
  trace->add_option("file", flags->file, "The trace, or - for standard input")->required();
  trace->callback([action, flags] { *action = [flags] { return RunTraceBench(*flags); }; });
}

}  // namespace tiercache::tool
