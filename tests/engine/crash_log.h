#pragma once

// The crash harness's shared vocabulary (crash_writer writes it,
// crash_recovery_test reads it back): which keys the writer uses, the values
// it writes and the acknowledgement lines it appends to its ack file.
//
// Values describe themselves (key, round, writer thread, operation number,
// counter and a padding derived from them), so that a torn, misplaced or
// foreign value shows whatever the record's own checksum says.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::crash {

// Where the writer's keys live: thread t's own keys and groups in
// kNamespaces[t % 2], the shared counters in kNamespaces[0].
inline constexpr std::string_view kNamespaces[] = {"crash-a", "crash-b"};
inline constexpr int kOwnerThreads = 3;    // each writes keys no other thread writes
inline constexpr int kCounterThreads = 2;  // CompareAndPut loops on the shared counters
inline constexpr int kKeysPerThread = 64;
inline constexpr int kGroupsPerThread = 8;  // written whole by PutMany
inline constexpr int kGroupMembers = 4;
inline constexpr int kCounters = 4;
// The drop phase: one more owner thread writes its own keys into a namespace
// of their own, which it drops and fills again (a drop acknowledges a Delete
// of each of its keys).
inline constexpr std::string_view kDropNamespace = "crash-drop";
inline constexpr int kDropperThread = kOwnerThreads;
inline constexpr int kDropperKeys = 16;

enum class KeyKind { kOwned, kCounter, kGroupMember, kUnknown };

std::string_view NamespaceOf(int thread);
std::string OwnedKey(int thread, int index);                  // "t<thread>-k<index>"
std::string CounterKey(int index);                            // "counter-<index>"
std::string GroupName(int thread, int group);                 // "g<thread>-<group>"
std::string GroupMember(std::string_view group, int member);  // "<group>-<member>"
KeyKind KindOf(std::string_view key);
// The group of a member key ("g1-3-2" -> "g1-3").
std::string_view GroupOf(std::string_view member);

// What a value says about itself.
struct ValueInfo {
  std::string key;
  std::uint32_t round = 0;
  std::uint32_t thread = 0;
  std::uint64_t seq = 0;    // the thread's operation number; a PutMany's tag
  std::uint64_t count = 0;  // a counter's count; 0 for other keys
};

// A value of about `size` bytes (at least its fields) describing `info`.
std::string MakeValue(const ValueInfo& info, std::size_t size);
// False when `value` is not exactly what MakeValue would have made.
bool ParseValue(std::string_view value, ValueInfo* info);
std::uint64_t HashValue(std::string_view value);

// One acknowledgement line: "<kind> <namespace> <key> <number> <hash> <count>\n".
enum class AckKind : char {
  kPut = 'P',           // key holds `number` (a version) with value hash `hash`
  kDeleteIntent = 'd',  // a Delete of key is about to start
  kDelete = 'D',        // key is deleted; `number`: the newest version the thread wrote before
  kCounter = 'C',       // a CompareAndPut of counter `key` wrote version `number`, hash
                        // `hash`, count `count`
  kGroup = 'M',         // a PutMany wrote group `key` whole, tag (operation number) `number`
};

struct Ack {
  AckKind kind = AckKind::kPut;
  std::string ns;
  std::string key;
  std::uint64_t number = 0;
  std::uint64_t hash = 0;
  std::uint64_t count = 0;  // counters only
};

std::string FormatAck(const Ack& ack);
// Parses an ack file. A last line without its newline is a write the kill cut
// short: it was not acknowledged, and is left out. False (with *error) for a
// malformed complete line.
bool ParseAcks(std::string_view text, std::vector<Ack>* acks, std::string* error);

}  // namespace tiercache::crash
