#include "tests/engine/crash_log.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <charconv>

namespace tiercache::crash {
namespace {

// Splits off the text up to the next `separator`; false when there is none.
bool NextField(std::string_view* text, char separator, std::string_view* field) {
  const std::size_t end = text->find(separator);
  if (end == std::string_view::npos) return false;
  *field = text->substr(0, end);
  text->remove_prefix(end + 1);
  return true;
}

template <typename Int>
bool ParseNumber(std::string_view text, Int* number) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *number);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

char PaddingAt(const ValueInfo& info, std::size_t i) {
  return static_cast<char>('a' + (info.seq * 7 + info.round + info.count + i) % 26);
}

bool IsAckKind(char c) {
  switch (static_cast<AckKind>(c)) {
    case AckKind::kPut:
    case AckKind::kDeleteIntent:
    case AckKind::kDelete:
    case AckKind::kCounter:
    case AckKind::kGroup:
      return true;
  }
  return false;
}

bool ParseAckLine(std::string_view line, Ack* ack) {
  std::string_view kind, ns, key;
  if (!NextField(&line, ' ', &kind) || kind.size() != 1 || !IsAckKind(kind[0])) return false;
  if (!NextField(&line, ' ', &ns) || !NextField(&line, ' ', &key)) return false;
  std::string_view number, hash;
  if (!NextField(&line, ' ', &number) || !NextField(&line, ' ', &hash)) return false;
  ack->kind = static_cast<AckKind>(kind[0]);
  ack->ns = ns;
  ack->key = key;
  return ParseNumber(number, &ack->number) && ParseNumber(hash, &ack->hash) &&
         ParseNumber(line, &ack->count);
}

}  // namespace

std::string_view NamespaceOf(int thread) { return kNamespaces[thread % 2]; }

std::string OwnedKey(int thread, int index) { return fmt::format("t{}-k{:03}", thread, index); }

std::string CounterKey(int index) { return fmt::format("counter-{}", index); }

std::string GroupName(int thread, int group) { return fmt::format("g{}-{}", thread, group); }

std::string GroupMember(std::string_view group, int member) {
  return fmt::format("{}-{}", group, member);
}

KeyKind KindOf(std::string_view key) {
  if (key.starts_with("counter-")) return KeyKind::kCounter;
  if (key.starts_with('t')) return KeyKind::kOwned;
  if (key.starts_with('g')) return KeyKind::kGroupMember;
  return KeyKind::kUnknown;
}

std::string_view GroupOf(std::string_view member) { return member.substr(0, member.rfind('-')); }

std::string MakeValue(const ValueInfo& info, std::size_t size) {
  std::string value =
      fmt::format("{}|{}|{}|{}|{}|", info.key, info.round, info.thread, info.seq, info.count);
  const std::string length_field = fmt::format("{}|", size);
  const std::size_t fixed = value.size() + length_field.size();
  const std::size_t padding = size > fixed ? size - fixed : 0;
  value += fmt::format("{}|", padding);
  for (std::size_t i = 0; i < padding; ++i) value.push_back(PaddingAt(info, i));
  return value;
}

bool ParseValue(std::string_view value, ValueInfo* info) {
  std::string_view key, round, thread, seq, count, padding;
  if (!NextField(&value, '|', &key) || !NextField(&value, '|', &round) ||
      !NextField(&value, '|', &thread) || !NextField(&value, '|', &seq) ||
      !NextField(&value, '|', &count) || !NextField(&value, '|', &padding)) {
    return false;
  }
  info->key = key;
  std::size_t padding_bytes = 0;
  if (!ParseNumber(round, &info->round) || !ParseNumber(thread, &info->thread) ||
      !ParseNumber(seq, &info->seq) || !ParseNumber(count, &info->count) ||
      !ParseNumber(padding, &padding_bytes) || value.size() != padding_bytes) {
    return false;
  }
  for (std::size_t i = 0; i < padding_bytes; ++i) {
    if (value[i] != PaddingAt(*info, i)) return false;
  }
  return true;
}

std::uint64_t HashValue(std::string_view value) { return XXH3_64bits(value.data(), value.size()); }

std::string FormatAck(const Ack& ack) {
  return fmt::format("{} {} {} {} {} {}\n", static_cast<char>(ack.kind), ack.ns, ack.key,
                     ack.number, ack.hash, ack.count);
}

bool ParseAcks(std::string_view text, std::vector<Ack>* acks, std::string* error) {
  std::size_t line_number = 0;
  std::string_view line;
  while (NextField(&text, '\n', &line)) {
    ++line_number;
    Ack ack;
    if (!ParseAckLine(line, &ack)) {
      *error = fmt::format("ack line {} is malformed: '{}'", line_number, line);
      return false;
    }
    acks->push_back(std::move(ack));
  }
  return true;
}

}  // namespace tiercache::crash
