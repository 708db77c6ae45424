#include "storage/entry_json.h"

#include <fmt/format.h>

#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <set>

#include "storage/guarded.h"
#include "storage/record_format.h"
#include "storage/text_encoding.h"

namespace tiercache::storage {
namespace {

using nlohmann::json;
// Ordered, so that the fields come out in the order DESIGN.md lists them.
using nlohmann::ordered_json;

constexpr char kUtf8[] = "utf8";
constexpr char kBase64[] = "base64";

std::int64_t ToMs(TimePoint t) { return t.time_since_epoch().count(); }

TimePoint FromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

std::string TextOrBase64(std::string_view bytes) {
  return IsValidUtf8(bytes) ? std::string(bytes) : Base64Encode(bytes);
}

void PutBytes(ordered_json& object, const char* field, std::string_view bytes) {
  object[field] = TextOrBase64(bytes);
  object[std::string(field) + "_encoding"] = IsValidUtf8(bytes) ? kUtf8 : kBase64;
}

bool MetadataIsText(const std::map<std::string, std::string>& metadata) {
  for (const auto& [name, value] : metadata) {
    if (!IsValidUtf8(name) || !IsValidUtf8(value)) return false;
  }
  return true;
}

void PutMetadata(ordered_json& object, const std::map<std::string, std::string>& metadata) {
  const bool text = MetadataIsText(metadata);
  ordered_json items = ordered_json::object();
  for (const auto& [name, value] : metadata) {
    items[text ? name : Base64Encode(name)] = text ? value : Base64Encode(value);
  }
  object["metadata"] = std::move(items);
  if (!text) object["metadata_encoding"] = kBase64;
}

ordered_json EntryObject(std::string_view ns, const Entry& entry, bool with_value) {
  ordered_json object = ordered_json::object();
  object["namespace"] = TextOrBase64(ns);
  if (!IsValidUtf8(ns)) object["namespace_encoding"] = kBase64;
  PutBytes(object, "key", entry.key);
  PutBytes(object, "value", entry.value);
  if (!with_value) {
    object.erase("value");
    object["value_bytes"] = entry.value.size();
  }
  object["version"] = entry.version;
  object["created_at"] = ToMs(entry.created_at);
  object["expires_at"] = entry.expires_at ? ordered_json(ToMs(*entry.expires_at)) : nullptr;
  object["last_accessed"] = ToMs(entry.last_accessed);
  object["access_count"] = entry.access_count;
  PutMetadata(object, entry.metadata);
  return object;
}

// The line of either shape; nlohmann::json throws only when memory runs out,
// as every string in the object is valid UTF-8.
Status WriteLine(std::string_view ns, const Entry& entry, bool with_value,
                 std::string* line) noexcept {
  try {
    *line = EntryObject(ns, entry, with_value).dump();
    return Status::OK();
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory();
  } catch (const std::exception& e) {
    return OrOutOfMemory([&] {
      return Status::IOError(fmt::format("writing an entry as JSON failed: {}", e.what()));
    });
  }
}

}  // namespace

Status EntryToJsonLine(std::string_view ns, const Entry& entry, std::string* line) {
  return WriteLine(ns, entry, /*with_value=*/true, line);
}

Status EntrySummaryToJsonLine(std::string_view ns, const Entry& entry, std::string* line) {
  return WriteLine(ns, entry, /*with_value=*/false, line);
}

// ---------------------------------------------------------------------------
// Parsing

namespace {

// Reads the fields of one parsed line, each checked for its type; remembers
// which it read so that NoOtherFields can name one it did not expect.
class FieldReader {
 public:
  explicit FieldReader(const json& object) : object_(object) {}

  Status Find(const char* field, const json** value) {
    const auto it = object_.find(field);
    if (it == object_.end()) return Status::InvalidArgument(fmt::format("no \"{}\" field", field));
    read_.insert(field);
    *value = &*it;
    return Status::OK();
  }

  // A string field whose encoding is in field + "_encoding" (which, when
  // `encoding_optional`, may be absent for utf8).
  Status Bytes(const char* field, bool encoding_optional, std::string* out) {
    const json* value = nullptr;
    if (Status s = Find(field, &value); !s.ok()) return s;
    if (!value->is_string()) return Mistyped(field, "a string");
    std::string encoding = kUtf8;
    if (Status s = Encoding(std::string(field) + "_encoding", encoding_optional, &encoding);
        !s.ok()) {
      return s;
    }
    return Decode(field, value->get_ref<const std::string&>(), encoding == kBase64, out);
  }

  Status Unsigned(const char* field, std::uint64_t* out) {
    const json* value = nullptr;
    if (Status s = Find(field, &value); !s.ok()) return s;
    if (!value->is_number_unsigned()) return Mistyped(field, "a non-negative integer");
    *out = value->get<std::uint64_t>();
    return Status::OK();
  }

  // Unsigned, and refused outside min .. max.
  Status UnsignedIn(const char* field, std::uint64_t min, std::uint64_t max, std::uint64_t* out) {
    Status s = Unsigned(field, out);
    if (s.ok() && (*out < min || *out > max)) {
      s = Status::InvalidArgument(
          fmt::format("\"{}\" is {}, outside {} .. {}", field, *out, min, max));
    }
    return s;
  }

  Status Time(const char* field, TimePoint* out) {
    const json* value = nullptr;
    if (Status s = Find(field, &value); !s.ok()) return s;
    return ReadTime(field, *value, out);
  }

  Status OptionalTime(const char* field, std::optional<TimePoint>* out) {
    const json* value = nullptr;
    if (Status s = Find(field, &value); !s.ok()) return s;
    out->reset();
    if (value->is_null()) return Status::OK();
    TimePoint time;
    Status s = ReadTime(field, *value, &time);
    if (s.ok()) *out = time;
    return s;
  }

  Status Metadata(std::map<std::string, std::string>* out) {
    const json* value = nullptr;
    if (Status s = Find("metadata", &value); !s.ok()) return s;
    if (!value->is_object()) return Mistyped("metadata", "an object of strings");
    std::string encoding = kUtf8;
    if (Status s = Encoding("metadata_encoding", /*optional=*/true, &encoding); !s.ok()) return s;
    out->clear();
    for (const auto& [name, item] : value->items()) {
      if (!item.is_string()) return Mistyped("metadata", "an object of strings");
      std::string decoded_name;
      std::string decoded_value;
      Status s = Decode("metadata", name, encoding == kBase64, &decoded_name);
      if (s.ok())
        s = Decode("metadata", item.get_ref<const std::string&>(), encoding == kBase64,
                   &decoded_value);
      if (!s.ok()) return s;
      (*out)[std::move(decoded_name)] = std::move(decoded_value);
    }
    return Status::OK();
  }

  Status NoOtherFields() const {
    for (const auto& [name, unused] : object_.items()) {
      if (read_.count(name) == 0) {
        return Status::InvalidArgument(fmt::format("unknown field \"{}\"", name));
      }
    }
    return Status::OK();
  }

 private:
  static Status Mistyped(std::string_view field, std::string_view expected) {
    return Status::InvalidArgument(fmt::format("\"{}\" is not {}", field, expected));
  }

  // Reads an optional "*_encoding" field into *encoding (left as it is when
  // the field is absent and optional).
  Status Encoding(const std::string& field, bool optional, std::string* encoding) {
    const auto it = object_.find(field);
    if (it == object_.end()) {
      return optional ? Status::OK()
                      : Status::InvalidArgument(fmt::format("no \"{}\" field", field));
    }
    read_.insert(field);
    if (!it->is_string() || (*it != kUtf8 && *it != kBase64)) {
      return Mistyped(field, "\"utf8\" or \"base64\"");
    }
    *encoding = it->get<std::string>();
    return Status::OK();
  }

  static Status Decode(std::string_view field, const std::string& text, bool base64,
                       std::string* out) {
    if (!base64) {
      *out = text;
      return Status::OK();
    }
    if (Base64Decode(text, out)) return Status::OK();
    return Status::InvalidArgument(fmt::format("\"{}\" is not valid base64", field));
  }

  static Status ReadTime(const char* field, const json& value, TimePoint* out) {
    const bool fits = value.is_number_integer() &&
                      (!value.is_number_unsigned() ||
                       value.get<std::uint64_t>() <=
                           static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    if (!fits) return Mistyped(field, "an integer of milliseconds since the Unix epoch");
    *out = FromMs(value.get<std::int64_t>());
    return Status::OK();
  }

  const json& object_;
  std::set<std::string> read_;
};

Status ReadEntry(const json& object, NamedEntry* out) {
  if (!object.is_object()) return Status::InvalidArgument("not a JSON object");
  FieldReader reader(object);
  Entry& entry = out->entry;
  Status s = reader.Bytes("namespace", /*encoding_optional=*/true, &out->ns);
  if (s.ok()) s = reader.Bytes("key", /*encoding_optional=*/false, &entry.key);
  if (s.ok()) s = reader.Bytes("value", /*encoding_optional=*/false, &entry.value);
  if (s.ok()) s = reader.UnsignedIn("version", kMinVersion, kMaxVersion, &entry.version);
  if (s.ok()) s = reader.Time("created_at", &entry.created_at);
  if (s.ok()) s = reader.OptionalTime("expires_at", &entry.expires_at);
  if (s.ok()) s = reader.Time("last_accessed", &entry.last_accessed);
  if (s.ok()) s = reader.Unsigned("access_count", &entry.access_count);
  if (s.ok()) s = reader.Metadata(&entry.metadata);
  if (s.ok()) s = reader.NoOtherFields();
  return s;
}

}  // namespace

Status ParseEntryJsonLine(std::string_view line, NamedEntry* out) {
  // The JSON library reports errors by exception: they stop here.
  try {
    return ReadEntry(json::parse(line), out);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory();  // not the line's fault
  } catch (const json::exception& e) {
    return OrOutOfMemory(
        [&] { return Status::InvalidArgument(fmt::format("not valid JSON: {}", e.what())); });
  } catch (const std::exception& e) {
    return OrOutOfMemory([&] {
      return Status::InvalidArgument(fmt::format("reading the line failed: {}", e.what()));
    });
  }
}

}  // namespace tiercache::storage
