// libFuzzer target: any bytes through ParseRecordHeader and DecodeRecord. A
// malformed record must be Corruption; a record that decodes must survive
// encoding again, with and without lz4, unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/record_format.h"
#include "tests/fuzz/same_fields.h"
#include "tests/util/record_seal.h"

namespace {

using tiercache::Compression;
using tiercache::Entry;
using tiercache::Status;
using tiercache::fuzz::SameFields;
using tiercache::test_util::ResealedFormatOne;
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
// fuzzer out of the payload decoder: the input is also tried resealed, as a
// record of the format its magic names.
std::string Resealed(std::string_view record) {
  constexpr std::string_view kFormatOneMagic("TCR\xc9", 4);
  if (record.starts_with(kFormatOneMagic)) return ResealedFormatOne(std::string(record));
  return tiercache::test_util::Resealed(std::string(record));
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
