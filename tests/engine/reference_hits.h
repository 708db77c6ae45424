#pragma once

#include <cstdint>

namespace tiercache::engine {

// The reference hit counts of ../shared/traces/README.md ("Reference hit
// counts"), copied verbatim: exact hits of each textbook policy, one shard.
struct ReferenceRow {
  const char* file;  // under the traces folder
  std::int64_t capacity;
  std::int64_t requests;
  std::int64_t lru;
  std::int64_t fifo;
  std::int64_t lfu;
  std::int64_t arc;
};

inline constexpr ReferenceRow kReferenceRows[] = {
    {"lirs/cpp.trace.gz", 100, 9047, 6307, 4961, 6285, 6970},
    {"lirs/cpp.trace.gz", 250, 9047, 7509, 7037, 7709, 7721},
    {"lirs/cpp.trace.gz", 500, 9047, 7670, 7427, 7761, 7765},
    {"lirs/cpp.trace.gz", 1000, 9047, 7817, 7696, 7818, 7818},
    {"lirs/cpp.trace.gz", 2000, 9047, 7824, 7824, 7824, 7824},
    {"lirs/cs.trace.gz", 100, 6781, 124, 124, 124, 124},
    {"lirs/cs.trace.gz", 250, 6781, 124, 124, 124, 124},
    {"lirs/cs.trace.gz", 500, 6781, 124, 124, 124, 124},
    {"lirs/cs.trace.gz", 1000, 6781, 124, 124, 124, 124},
    {"lirs/cs.trace.gz", 2000, 6781, 5372, 5372, 5372, 5372},
    {"lirs/gli.trace.gz", 100, 6015, 55, 55, 83, 83},
    {"lirs/gli.trace.gz", 250, 6015, 55, 55, 83, 83},
    {"lirs/gli.trace.gz", 500, 6015, 57, 57, 83, 83},
    {"lirs/gli.trace.gz", 1000, 6015, 674, 670, 1885, 1282},
    {"lirs/gli.trace.gz", 2000, 6015, 3453, 2881, 3453, 3453},
    {"lirs/ps.trace.gz", 100, 10448, 770, 770, 976, 976},
    {"lirs/ps.trace.gz", 250, 10448, 1364, 1274, 1755, 1755},
    {"lirs/ps.trace.gz", 500, 10448, 5072, 3806, 5495, 5495},
    {"lirs/ps.trace.gz", 1000, 10448, 5072, 4439, 5495, 5495},
    {"lirs/ps.trace.gz", 2000, 10448, 7364, 6218, 5495, 6421},
    {"lirs/sprite.trace.gz", 100, 133996, 28917, 29885, 8669, 34385},
    {"lirs/sprite.trace.gz", 250, 133996, 65443, 65869, 16717, 68599},
    {"lirs/sprite.trace.gz", 500, 133996, 104922, 98632, 34322, 103673},
    {"lirs/sprite.trace.gz", 1000, 133996, 121452, 116903, 82063, 120201},
    {"lirs/sprite.trace.gz", 2000, 133996, 125255, 123217, 107422, 125152},
    {"lirs/multi1.trace.gz", 100, 15858, 2881, 2378, 3793, 6588},
    {"lirs/multi1.trace.gz", 250, 15858, 6797, 5283, 7152, 7641},
    {"lirs/multi1.trace.gz", 500, 15858, 7375, 6457, 7814, 7833},
    {"lirs/multi1.trace.gz", 1000, 15858, 7648, 7103, 7888, 7889},
    {"lirs/multi1.trace.gz", 2000, 15858, 13196, 11723, 13199, 13199},
    {"lirs/multi2.trace.gz", 100, 26311, 1772, 1587, 1822, 6823},
    {"lirs/multi2.trace.gz", 250, 26311, 6342, 4704, 7233, 9004},
    {"lirs/multi2.trace.gz", 500, 26311, 9466, 7592, 9409, 10389},
    {"lirs/multi2.trace.gz", 1000, 26311, 12577, 10202, 13341, 13352},
    {"lirs/multi2.trace.gz", 2000, 26311, 12892, 11647, 13403, 16907},
    {"lirs/multi3.trace.gz", 100, 30241, 1978, 1860, 2446, 5396},
    {"lirs/multi3.trace.gz", 250, 30241, 5370, 4479, 7536, 9176},
    {"lirs/multi3.trace.gz", 500, 30241, 9875, 7534, 10022, 10993},
    {"lirs/multi3.trace.gz", 1000, 30241, 11401, 9971, 11842, 13429},
    {"lirs/multi3.trace.gz", 2000, 30241, 13485, 11992, 14121, 14130},
    {"lirs/2_pools.trace.gz", 100, 100000, 21946, 19379, 46865, 46878},
    {"lirs/2_pools.trace.gz", 250, 100000, 41711, 33581, 50621, 50629},
    {"lirs/2_pools.trace.gz", 500, 100000, 51062, 42701, 51862, 51875},
    {"lirs/2_pools.trace.gz", 1000, 100000, 54415, 49957, 54361, 54333},
    {"lirs/2_pools.trace.gz", 2000, 100000, 59326, 57325, 59346, 59258},
    {"lirs/loop.trace.gz", 100, 505500, 0, 0, 0, 0},
    {"lirs/loop.trace.gz", 250, 505500, 0, 0, 0, 0},
    {"lirs/loop.trace.gz", 500, 505500, 0, 0, 0, 0},
    {"lirs/loop.trace.gz", 1000, 505500, 0, 0, 0, 0},
    {"lirs/loop.trace.gz", 2000, 505500, 504489, 504489, 504489, 504489},
    {"cache2k/web07.trace.xz", 500, 76118, 34693, 32541, 29317, 36724},
    {"cache2k/web07.trace.xz", 1000, 76118, 38368, 36300, 34229, 40373},
    {"cache2k/web07.trace.xz", 2000, 76118, 42245, 40288, 39110, 44042},
    {"cache2k/web07.trace.xz", 5000, 76118, 47702, 46083, 48131, 48955},
    {"cache2k/web12.trace.xz", 500, 95607, 53329, 50075, 39503, 55938},
    {"cache2k/web12.trace.xz", 1000, 95607, 61882, 58152, 52460, 64475},
    {"cache2k/web12.trace.xz", 2000, 95607, 69371, 65632, 65189, 71322},
    {"cache2k/web12.trace.xz", 5000, 95607, 77153, 74536, 77102, 78292},
    {"arc/OLTP.lis.zst", 1000, 914145, 300122, 260805, 126458, 356015},
    {"arc/OLTP.lis.zst", 2000, 914145, 388235, 342227, 165940, 421200},
    {"arc/OLTP.lis.zst", 5000, 914145, 490443, 454180, 255926, 505080},
    {"arc/OLTP.lis.zst", 10000, 914145, 554906, 523703, 311580, 565609},
    {"arc/OLTP.lis.zst", 15000, 914145, 590851, 561498, 378077, 597857},
};

}  // namespace tiercache::engine
