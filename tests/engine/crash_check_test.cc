// The crash harness's rules on hand-made rounds: each kind of broken promise
// is named, and what a kill may legitimately leave behind is accepted.

#include "tests/engine/crash_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/engine/crash_log.h"

namespace tiercache::crash {
namespace {

constexpr std::uint32_t kRound = 3;
constexpr std::string_view kNs = "crash-a";

// An entry written by `round` (its value's own claim) at `version`.
Observed Stored(std::string_view key, std::uint64_t version, std::uint32_t round,
                std::uint64_t seq = 0, std::uint64_t count = 0) {
  return Observed{version, version * 1000 + seq, ValueInfo{std::string(key), round, 0, seq, count}};
}

Ack Put(std::string_view key, std::uint64_t version) {
  return Ack{AckKind::kPut, std::string(kNs), std::string(key), version, version * 1000, 0};
}

class CrashCheckTest : public ::testing::Test {
 protected:
  std::vector<std::string> Check() { return CheckRound({kRound, &before_, &acks_, &after_}); }

  void Set(StoreState& state, std::string_view key, const Observed& observed) {
    state[FullKey(kNs, key)] = observed;
  }

  StoreState before_;
  std::vector<Ack> acks_;
  StoreState after_;
};

TEST_F(CrashCheckTest, AcceptsTheLastAcknowledgedWriteOrANewerOneOfTheRound) {
  acks_ = {Put("t0-k001", 10), Put("t0-k002", 11)};
  Set(after_, "t0-k001", Stored("t0-k001", 10, kRound));
  Set(after_, "t0-k002", Stored("t0-k002", 12, kRound));  // caught in flight
  EXPECT_TRUE(Check().empty());
}

TEST_F(CrashCheckTest, NamesALostAcknowledgedWrite) {
  acks_ = {Put("t0-k001", 10)};
  EXPECT_EQ(Check().size(), 1u);
}

TEST_F(CrashCheckTest, NamesAVersionOlderThanTheAcknowledgedOne) {
  acks_ = {Put("t0-k001", 9), Put("t0-k001", 10)};
  Set(after_, "t0-k001", Stored("t0-k001", 9, kRound));
  EXPECT_EQ(Check().size(), 1u);
}

TEST_F(CrashCheckTest, NamesAnAcknowledgedVersionThatDidNotPassTheOneBeforeTheRestart) {
  Set(before_, "t0-k001", Stored("t0-k001", 50, kRound - 1));
  acks_ = {Put("t0-k001", 7)};
  Set(after_, "t0-k001", Stored("t0-k001", 7, kRound));
  EXPECT_FALSE(Check().empty());
}

TEST_F(CrashCheckTest, AcceptsAbsenceOnlyAfterADeleteStarted) {
  acks_ = {Put("t0-k001", 10), Ack{AckKind::kDeleteIntent, std::string(kNs), "t0-k001"}};
  EXPECT_TRUE(Check().empty());
  Set(before_, "t0-k002", Stored("t0-k002", 5, kRound - 1));
  EXPECT_EQ(Check().size(), 1u);  // t0-k002 vanished with no Delete
}

TEST_F(CrashCheckTest, NamesAnEntryBackAfterAnAcknowledgedDelete) {
  acks_ = {Put("t0-k001", 10), Ack{AckKind::kDelete, std::string(kNs), "t0-k001", 10}};
  Set(after_, "t0-k001", Stored("t0-k001", 10, kRound));
  EXPECT_EQ(Check().size(), 1u);
}

TEST_F(CrashCheckTest, NamesAStaleCounterAndTwoWinnersFromOneVersion) {
  const std::string key = CounterKey(0);
  acks_ = {Ack{AckKind::kCounter, std::string(kNs), key, 20, 20000, 4},
           Ack{AckKind::kCounter, std::string(kNs), key, 21, 21000, 4}};
  Set(after_, key, Stored(key, 20, kRound, 0, 4));
  EXPECT_EQ(Check().size(), 2u);  // count 4 twice; version 21 lost
}

TEST_F(CrashCheckTest, NamesATornPutMany) {
  const std::string group = GroupName(0, 1);
  acks_ = {Ack{AckKind::kGroup, std::string(kNs), group, 5}};
  for (int m = 0; m < kGroupMembers - 1; ++m) {
    Set(after_, GroupMember(group, m), Stored(GroupMember(group, m), 30 + m, kRound, 5));
  }
  EXPECT_EQ(Check().size(), 1u);
  Set(after_, GroupMember(group, kGroupMembers - 1),
      Stored(GroupMember(group, kGroupMembers - 1), 40, kRound, 5));
  EXPECT_TRUE(Check().empty());
}

TEST_F(CrashCheckTest, ParsesAcksUpToALineTheKillCutShort) {
  const std::string text = FormatAck(Put("t0-k001", 10)) + "P crash-a t0-k0";
  std::vector<Ack> acks;
  std::string error;
  ASSERT_TRUE(ParseAcks(text, &acks, &error)) << error;
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].number, 10u);
}

TEST_F(CrashCheckTest, ValuesDescribeThemselves) {
  const ValueInfo info{"t1-k005", 2, 1, 77, 0};
  std::string value = MakeValue(info, 300);
  ValueInfo parsed;
  ASSERT_TRUE(ParseValue(value, &parsed));
  EXPECT_EQ(parsed.key, "t1-k005");
  EXPECT_EQ(parsed.seq, 77u);
  value[250] ^= 1;
  EXPECT_FALSE(ParseValue(value, &parsed));
  EXPECT_FALSE(ParseValue(value.substr(0, 200), &parsed));
}

}  // namespace
}  // namespace tiercache::crash
