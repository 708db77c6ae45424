// libFuzzer target: any bytes through ParseRecordHeader and DecodeRecord. A
// malformed record must be Corruption; a record that decodes must survive
// encoding again, with and without lz4, unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "storage/record_format.h"
#include "tests/fuzz/same_fields.h"

namespace {

using tiercache::Compression;
using tiercache::Entry;
using tiercache::Status;
using tiercache::fuzz::SameFields;
using namespace tiercache::storage;

// The header DecodeRecord accepted is the one ParseRecordHeader reads.
void CheckHeaderAgrees(std::string_view record, const Entry& entry) {
  RecordHeader header;
  if (!ParseRecordHeader(record, &header).ok()) std::abort();
  if (header.version != entry.version || header.expires_at != entry.expires_at) std::abort();
}

void CheckReencodes(const Entry& entry) {
  static RecordEncoder plain(Compression::kNone, 1);
  static RecordEncoder lz4(Compression::kLz4, 1);
  for (RecordEncoder* encoder : {&plain, &lz4}) {
    std::string record;
    if (!encoder->Encode(entry, &record).ok()) std::abort();
    Entry again;
    if (!DecodeRecord(record, &again).ok() || !SameFields(entry, again)) std::abort();
  }
}

// A mutation almost never leaves the checksum right, which would keep the
// fuzzer out of the payload decoder: the input is also tried with its
// checksum (bytes 28..35) recomputed.
std::string Resealed(std::string_view record) {
  std::string copy(record);
  if (copy.size() < kRecordHeaderSize) return copy;
  constexpr std::size_t kChecksumOffset = kRecordHeaderSize - sizeof(std::uint64_t);
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, copy.data(), kChecksumOffset);
  XXH3_64bits_update(&state, copy.data() + kRecordHeaderSize, copy.size() - kRecordHeaderSize);
  const std::uint64_t checksum = XXH3_64bits_digest(&state);
  std::memcpy(copy.data() + kChecksumOffset, &checksum, sizeof(checksum));
  return copy;
}

void CheckRecord(std::string_view record) {
  RecordHeader header;
  const Status parsed = ParseRecordHeader(record, &header);
  if (!parsed.ok() && !parsed.IsCorruption()) std::abort();
  Entry entry;
  const Status decoded = DecodeRecord(record, &entry);
  if (!decoded.ok()) {
    if (!decoded.IsCorruption() || decoded.message().empty()) std::abort();
    return;
  }
  CheckHeaderAgrees(record, entry);
  CheckReencodes(entry);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  CheckRecord(record);
  CheckRecord(Resealed(record));
  return 0;
}
