#pragma once

// What the fuzz targets compare after a round trip.

#include "tiercache/entry.h"

namespace tiercache::fuzz {

// True when `a` and `b` agree on every field but the key, which a record does
// not hold.
inline bool SameFields(const Entry& a, const Entry& b) {
  return a.value == b.value && a.created_at == b.created_at && a.expires_at == b.expires_at &&
         a.last_accessed == b.last_accessed && a.access_count == b.access_count &&
         a.version == b.version && a.metadata == b.metadata;
}

}  // namespace tiercache::fuzz
