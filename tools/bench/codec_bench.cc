// `tiercache bench codec`: the record codec's cost per entry beside a raw
// RocksDB Put of the same value, measured in the same run.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "storage/record_format.h"
#include "tools/bench/bench.h"
#include "tools/bench/scratch_dir.h"

namespace tiercache::tool {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kValueSizes[] = {100, 4096};
constexpr std::size_t kEntries = 256;  // distinct entries cycled through
constexpr int kCodecRounds = 3;        // the best round counts
constexpr auto kRoundTime = std::chrono::milliseconds(200);
constexpr std::size_t kPutBytesPerRound = 32 * 1024 * 1024;
constexpr std::size_t kLz4Threshold = 64;  // low enough that both sizes try lz4
constexpr double kTargetRatio = 0.10;      // (encode + decode) / put, 100-byte values

// One line of the report: a value size and codec, with the Put of that size.
struct CodecResult {
  std::size_t value_bytes = 0;
  bool lz4 = false;
  std::size_t stored_bytes = 0;  // the average record, header included
  double encode_ns = 0;
  double decode_ns = 0;
  double put_ns = 0;
};

// Half-compressible, like JSON or text responses: words from a small
// vocabulary (repeats lz4 finds) between random numbers (which it cannot).
std::string HalfCompressibleValue(std::mt19937_64& rng, std::size_t size) {
  static const char* const kWords[] = {
      "\"id\":", "\"name\":", "\"status\":\"ok\"", "\"items\":[", "\"price\":", "\"tags\":", "true",
      "null",    "],"};
  std::string value;
  while (value.size() < size) {
    value += kWords[rng() % std::size(kWords)];
    value += std::to_string(rng() % 1'000'000'000);
    value += ',';
  }
  value.resize(size);
  return value;
}

std::vector<Entry> MakeEntries(std::size_t value_bytes) {
  std::mt19937_64 rng(value_bytes);
  const TimePoint now(std::chrono::milliseconds(1'700'000'000'000));
  std::vector<Entry> entries(kEntries);
  for (std::size_t i = 0; i < kEntries; ++i) {
    Entry& e = entries[i];
    e.key = fmt::format("{:016x}", rng());
    e.value = HalfCompressibleValue(rng, value_bytes);
    e.created_at = now;
    e.expires_at = now + std::chrono::hours(1);
    e.last_accessed = now;
    e.access_count = i;
    e.version = i + 1;
    e.metadata["content-type"] = "application/json";
  }
  return entries;
}

// Nanoseconds per call of op(i), for the best of kCodecRounds rounds of at least
// kRoundTime (or max_ops calls) each. op returns false to stop the run.
template <typename Op>
double BestNsPerOp(std::size_t max_ops, Op op) {
  double best = INFINITY;
  std::size_t i = 0;
  for (int round = 0; round < kCodecRounds; ++round) {
    const Clock::time_point start = Clock::now();
    const std::size_t first = i;
    Clock::duration elapsed{};
    while (elapsed < kRoundTime && i - first < max_ops) {
      for (const std::size_t batch_end = i + 64; i < batch_end;) {
        if (!op(i++)) return NAN;
      }
      elapsed = Clock::now() - start;
    }
    const double ns = std::chrono::duration<double, std::nano>(elapsed).count();
    best = std::min(best, ns / static_cast<double>(i - first));
  }
  return best;
}

// Encode and decode times of the entries' records; *error names the first
// failure, if any.
CodecResult MeasureCodec(const std::vector<Entry>& entries, bool lz4, std::string* error) {
  CodecResult result{entries.front().value.size(), lz4};
  storage::RecordEncoder encoder(lz4 ? Compression::kLz4 : Compression::kNone, kLz4Threshold);
  const auto failed = [error](const Status& s) {
    if (!s.ok() && error->empty()) *error = s.ToString();
    return !s.ok();
  };
  std::vector<std::string> records(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (failed(encoder.Encode(entries[i], &records[i]))) return result;
    result.stored_bytes += records[i].size();
  }
  result.stored_bytes /= entries.size();
  std::string record;
  result.encode_ns = BestNsPerOp(SIZE_MAX, [&](std::size_t i) {
    return !failed(encoder.Encode(entries[i % entries.size()], &record));
  });
  Entry decoded;
  result.decode_ns = BestNsPerOp(SIZE_MAX, [&](std::size_t i) {
    return !failed(storage::DecodeRecord(records[i % records.size()], &decoded));
  });
  return result;
}

// Raw Put of the same values under 16-byte keys: WAL on, no sync.
double MeasureRocksDbPut(const std::vector<Entry>& entries, std::string* error) {
  ScratchDir dir;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = dir.path().empty()
                                ? rocksdb::Status::IOError("cannot create a temporary directory")
                                : rocksdb::DB::Open(options, dir.path(), &raw);
  if (!s.ok()) {
    *error = s.ToString();
    return NAN;
  }
  const std::unique_ptr<rocksdb::DB> db(raw);
  const std::size_t value_bytes = entries.front().value.size();
  char key[16];
  return BestNsPerOp(kPutBytesPerRound / value_bytes, [&](std::size_t i) {
    fmt::format_to_n(key, sizeof(key), "{:016x}", i * 0x9E3779B97F4A7C15ull);
    const rocksdb::Status put = db->Put(rocksdb::WriteOptions(), rocksdb::Slice(key, sizeof(key)),
                                        entries[i % entries.size()].value);
    if (!put.ok()) *error = put.ToString();
    return put.ok();
  });
}

double Ratio(const CodecResult& r) { return (r.encode_ns + r.decode_ns) / r.put_ns; }

void PrintHuman(const std::vector<CodecResult>& results) {
  fmt::print("{:>6} {:>4} {:>7} {:>10} {:>10} {:>15} {:>14}  {}\n", "value", "lz4", "stored",
             "encode ns", "decode ns", "rocksdb put ns", "(enc+dec)/put", "target");
  for (const CodecResult& r : results) {
    const std::string target = r.value_bytes == 100 ? fmt::format("<= {:.2f}", kTargetRatio) : "";
    fmt::print("{:>6} {:>4} {:>7} {:>10.0f} {:>10.0f} {:>15.0f} {:>14.3f}  {}\n", r.value_bytes,
               r.lz4 ? "on" : "off", r.stored_bytes, r.encode_ns, r.decode_ns, r.put_ns, Ratio(r),
               target);
  }
}

void PrintJson(const std::vector<CodecResult>& results) {
  for (const CodecResult& r : results) {
    const nlohmann::ordered_json line = {
        {"bench", "codec"},
        {"value_bytes", r.value_bytes},
        {"lz4", r.lz4},
        {"encode_ns", std::llround(r.encode_ns)},
        {"decode_ns", std::llround(r.decode_ns)},
        {"rocksdb_put_ns", std::llround(r.put_ns)},
    };
    std::cout << line.dump() << '\n';
  }
}

int RunCodecBench(bool json) {
  std::vector<CodecResult> results;
  for (const std::size_t value_bytes : kValueSizes) {
    const std::vector<Entry> entries = MakeEntries(value_bytes);
    std::string error;
    const double put_ns = MeasureRocksDbPut(entries, &error);
    if (!error.empty()) {
      fmt::print(stderr, "tiercache bench codec: RocksDB: {}\n", error);
      return kExitProblems;
    }
    for (const bool lz4 : {false, true}) {
      results.push_back(MeasureCodec(entries, lz4, &error));
      results.back().put_ns = put_ns;
    }
    if (!error.empty()) {
      fmt::print(stderr, "tiercache bench codec: {}\n", error);
      return kExitProblems;
    }
  }
  json ? PrintJson(results) : PrintHuman(results);
  return kExitOk;
}

}  // namespace

void AddCodecBench(CLI::App& bench, Action* action) {
  CLI::App* codec =
      bench.add_subcommand("codec", "Record encode and decode per entry, beside a raw RocksDB Put");
  auto json = std::make_shared<bool>(false);
  codec->add_flag("--json", *json, "One JSON object per line");
  codec->callback([action, json] { *action = [json] { return RunCodecBench(*json); }; });
}

}  // namespace tiercache::tool
