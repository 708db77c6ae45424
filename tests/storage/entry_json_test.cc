#include "storage/entry_json.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/record_format.h"
#include "tests/util/same_entry.h"

namespace tiercache::storage {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using test_util::ExpectSameEntry;

TimePoint Ms(std::int64_t ms) { return TimePoint(milliseconds(ms)); }

Entry TextEntry() {
  Entry entry;
  entry.key = "user/42";
  entry.value = "{\"name\": \"Ada\"}";
  entry.created_at = Ms(1'700'000'000'000);
  entry.expires_at = Ms(1'700'000'060'000);
  entry.last_accessed = Ms(1'700'000'001'000);
  entry.access_count = 7;
  entry.version = 12;
  entry.metadata = {{"content-type", "application/json"}, {"etag", "\"abc\""}};
  return entry;
}

std::string Line(std::string_view ns, const Entry& entry) {
  std::string line;
  const Status s = EntryToJsonLine(ns, entry, &line);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return line;
}

NamedEntry Parse(std::string_view line) {
  NamedEntry parsed;
  const Status s = ParseEntryJsonLine(line, &parsed);
  EXPECT_TRUE(s.ok()) << s.ToString() << " in " << line;
  return parsed;
}

std::string ParseError(std::string_view line) {
  NamedEntry parsed;
  const Status s = ParseEntryJsonLine(line, &parsed);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString() << " for " << line;
  return s.message();
}

TEST(EntryJsonTest, WritesTheDesignFieldsInOrderWithTheirTypes) {
  const std::string line = Line("users", TextEntry());
  const json object = json::parse(line);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            "{\"namespace\":\"users\",\"key\":\"user/42\",\"key_encoding\":\"utf8\","
            "\"value\":\"{\\\"name\\\": \\\"Ada\\\"}\",\"value_encoding\":\"utf8\","
            "\"version\":12,\"created_at\":1700000000000,\"expires_at\":1700000060000,"
            "\"last_accessed\":1700000001000,\"access_count\":7,"
            "\"metadata\":{\"content-type\":\"application/json\",\"etag\":\"\\\"abc\\\"\"}}");
  EXPECT_TRUE(object["created_at"].is_number_integer());
}

TEST(EntryJsonTest, AbsentExpiryIsNull) {
  Entry entry = TextEntry();
  entry.expires_at.reset();
  const json object = json::parse(Line("users", entry));
  EXPECT_TRUE(object.at("expires_at").is_null());
  EXPECT_FALSE(Parse(Line("users", entry)).entry.expires_at.has_value());
}

TEST(EntryJsonTest, TextEntryRoundTrips) {
  const NamedEntry parsed = Parse(Line("users", TextEntry()));
  EXPECT_EQ(parsed.ns, "users");
  ExpectSameEntry(parsed.entry, TextEntry());
}

TEST(EntryJsonTest, BinaryKeyAndValueAreBase64AndRoundTrip) {
  Entry entry = TextEntry();
  entry.key = std::string("k\xff\x00", 3);
  entry.value = std::string("\x89PNG\r\n\x1a\n\x00", 9);
  const std::string line = Line("thumbs", entry);
  const json object = json::parse(line);
  EXPECT_EQ(object["key"], "a/8A");
  EXPECT_EQ(object["key_encoding"], "base64");
  EXPECT_EQ(object["value"], "iVBORw0KGgoA");
  EXPECT_EQ(object["value_encoding"], "base64");
  ExpectSameEntry(Parse(line).entry, entry);
}

TEST(EntryJsonTest, TextWithControlCharactersStaysUtf8) {
  Entry entry = TextEntry();
  entry.value = std::string("a\0b\n", 4);
  const json object = json::parse(Line("users", entry));
  EXPECT_EQ(object["value_encoding"], "utf8");
  EXPECT_EQ(Parse(Line("users", entry)).entry.value, entry.value);
}

TEST(EntryJsonTest, NonUtf8NamespaceAndMetadataAreBase64WithTheirEncodingNamed) {
  Entry entry = TextEntry();
  entry.metadata = {{"raw", "\xfe"}, {"type", "text"}};
  const std::string line = Line("ns\xff", entry);
  const json object = json::parse(line);
  EXPECT_EQ(object["namespace"], "bnP/");
  EXPECT_EQ(object["namespace_encoding"], "base64");
  EXPECT_EQ(object["metadata_encoding"], "base64");
  EXPECT_EQ(object["metadata"]["cmF3"], "/g==");
  const NamedEntry parsed = Parse(line);
  EXPECT_EQ(parsed.ns, "ns\xff");
  ExpectSameEntry(parsed.entry, entry);
  EXPECT_FALSE(json::parse(Line("users", TextEntry())).contains("namespace_encoding"));
}

TEST(EntryJsonTest, ExtremeNumbersRoundTrip) {
  Entry entry = TextEntry();
  entry.version = kMaxVersion;
  entry.access_count = UINT64_MAX;
  entry.created_at = Ms(INT64_MIN);
  entry.last_accessed = Ms(-1);
  entry.expires_at = Ms(INT64_MAX);
  ExpectSameEntry(Parse(Line("users", entry)).entry, entry);
}

TEST(EntryJsonTest, TheSmallestVersionRoundTrips) {
  Entry entry = TextEntry();
  entry.version = kMinVersion;
  ExpectSameEntry(Parse(Line("users", entry)).entry, entry);
}

// Version 0 is "no entry" to CompareAndPut; versions from 2^63 leave the
// store's ceiling no room.
TEST(EntryJsonTest, VersionsOutsideOneTo2To63Minus1AreRefusedNamingTheRange) {
  Entry entry = TextEntry();
  for (const std::uint64_t version : {std::uint64_t{0}, kMaxVersion + 1, UINT64_MAX}) {
    entry.version = version;
    EXPECT_EQ(ParseError(Line("users", entry)),
              fmt::format("\"version\" is {}, outside 1 .. 9223372036854775807", version));
  }
}

TEST(EntryJsonTest, SummaryHasValueBytesInsteadOfTheValue) {
  std::string line;
  ASSERT_TRUE(EntrySummaryToJsonLine("users", TextEntry(), &line).ok());
  const json object = json::parse(line);
  EXPECT_FALSE(object.contains("value"));
  EXPECT_EQ(object["value_bytes"], TextEntry().value.size());
  EXPECT_EQ(object["value_encoding"], "utf8");
  EXPECT_EQ(object["version"], 12);
}

// A valid line with `field` replaced by `replacement` (a JSON text), or
// removed when `replacement` is empty.
std::string With(const std::string& field, const std::string& replacement) {
  json object = json::parse(Line("users", TextEntry()));
  if (replacement.empty()) {
    object.erase(field);
  } else {
    object[field] = json::parse(replacement);
  }
  return object.dump();
}

TEST(EntryJsonTest, MalformedLinesAreRefusedNamingTheProblem) {
  EXPECT_NE(ParseError("{\"namespace\": ").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(ParseError("[1, 2]"), "not a JSON object");
  EXPECT_EQ(ParseError(With("version", "")), "no \"version\" field");
  EXPECT_EQ(ParseError(With("key_encoding", "")), "no \"key_encoding\" field");
  EXPECT_EQ(ParseError(With("extra", "1")), "unknown field \"extra\"");
  EXPECT_EQ(ParseError(With("version", "\"12\"")), "\"version\" is not a non-negative integer");
  EXPECT_EQ(ParseError(With("version", "-1")), "\"version\" is not a non-negative integer");
  EXPECT_EQ(ParseError(With("created_at", "1.5")),
            "\"created_at\" is not an integer of milliseconds since the Unix epoch");
  EXPECT_EQ(ParseError(With("expires_at", "18446744073709551615")),
            "\"expires_at\" is not an integer of milliseconds since the Unix epoch");
  EXPECT_EQ(ParseError(With("value_encoding", "\"hex\"")),
            "\"value_encoding\" is not \"utf8\" or \"base64\"");
  EXPECT_EQ(ParseError(With("metadata", "{\"a\": 1}")), "\"metadata\" is not an object of strings");
  EXPECT_EQ(ParseError(With("value_encoding", "\"base64\"")), "\"value\" is not valid base64");
}

}  // namespace
}  // namespace tiercache::storage
