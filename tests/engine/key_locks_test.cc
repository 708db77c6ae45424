// The key locks' sequences, which let a read refill L1 without the lock: what
// Watch gives while a stripe is free, held, and released again.
#include "engine/key_locks.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/key_hash.h"

namespace tiercache::engine {
namespace {

// A key whose stripe is not `key`'s, in namespace 1.
std::string KeyOnAnotherStripe(std::string_view key) {
  for (int i = 0;; ++i) {
    std::string other = "other" + std::to_string(i);
    if (KeyLocks::StripeOf(HashedKey(1, other)) != KeyLocks::StripeOf(HashedKey(1, key))) {
      return other;
    }
  }
}

class KeyLocksTest : public ::testing::Test {
 protected:
  // Large (4096 stripes of a mutex each), so on the heap.
  std::unique_ptr<KeyLocks> locks_ = std::make_unique<KeyLocks>();
};

TEST_F(KeyLocksTest, AFreeStripeGivesACheckThatHoldsUntilTheStripeIsTaken) {
  const std::optional<FillCheck> check = locks_->Watch(HashedKey(1, "k"));
  ASSERT_TRUE(check.has_value());
  EXPECT_TRUE(check->Unchanged());
  {
    KeyLocks::Hold hold = locks_->Lock(HashedKey(1, "k"));
    EXPECT_FALSE(check->Unchanged());
  }
  EXPECT_FALSE(check->Unchanged());
  const std::optional<FillCheck> after = locks_->Watch(HashedKey(1, "k"));
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->Unchanged());
}

TEST_F(KeyLocksTest, AHeldStripeGivesNoCheck) {
  KeyLocks::Hold hold = locks_->Lock(HashedKey(1, "k"));
  EXPECT_FALSE(locks_->Watch(HashedKey(1, "k")).has_value());
  EXPECT_TRUE(locks_->Watch(HashedKey(1, KeyOnAnotherStripe("k"))).has_value());
}

TEST_F(KeyLocksTest, AHoldOfAnotherStripeLeavesACheckAlone) {
  const std::optional<FillCheck> check = locks_->Watch(HashedKey(1, "k"));
  ASSERT_TRUE(check.has_value());
  {
    KeyLocks::Hold hold = locks_->Lock(HashedKey(1, KeyOnAnotherStripe("k")));
  }
  EXPECT_TRUE(check->Unchanged());
}

// LockMany holds each stripe once, however many of its keys share it, in
// ascending order; a hold moved elsewhere releases its stripe once, there.
TEST_F(KeyLocksTest, LockManyHoldsEveryKeysStripeUntilReleased) {
  std::string first = "k";
  std::string second = KeyOnAnotherStripe("k");
  if (KeyLocks::StripeOf(HashedKey(1, first)) > KeyLocks::StripeOf(HashedKey(1, second))) {
    std::swap(first, second);
  }
  const std::optional<FillCheck> check = locks_->Watch(HashedKey(1, first));
  ASSERT_TRUE(check.has_value());
  {
    std::vector<KeyLocks::Hold> holds = locks_->LockMany(1, {second, first, second});
    EXPECT_EQ(holds.size(), 2u);
    EXPECT_FALSE(locks_->Watch(HashedKey(1, first)).has_value());
    EXPECT_FALSE(locks_->Watch(HashedKey(1, second)).has_value());
    KeyLocks::Hold moved = std::move(holds.front());
    holds.clear();
    EXPECT_FALSE(locks_->Watch(HashedKey(1, first)).has_value());
    EXPECT_TRUE(locks_->Watch(HashedKey(1, second)).has_value());
  }
  EXPECT_TRUE(locks_->Watch(HashedKey(1, first)).has_value());
  EXPECT_FALSE(check->Unchanged());
}

}  // namespace
}  // namespace tiercache::engine
