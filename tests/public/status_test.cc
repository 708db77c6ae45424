#include "tiercache/status.h"

#include <gtest/gtest.h>

namespace tiercache {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::NoSpace("free space below the reserve");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNoSpace());
  EXPECT_EQ(s.code(), Status::Code::kNoSpace);
  EXPECT_EQ(s.message(), "free space below the reserve");
  EXPECT_EQ(s.ToString(), "NoSpace: free space below the reserve");
}

TEST(StatusTest, OkHasAnEmptyMessage) {
  EXPECT_EQ(Status::OK().message(), "");
  EXPECT_EQ(Status::NotFound("").message(), "");
  EXPECT_EQ(Status::NotFound("").ToString(), "NotFound");
}

TEST(StatusTest, CopyHasItsOwnMessage) {
  Status original = Status::Corruption("a damaged record of key 'k'");
  Status copy = original;
  original = Status::Busy("the write buffer is full");
  EXPECT_TRUE(copy.IsCorruption());
  EXPECT_EQ(copy.message(), "a damaged record of key 'k'");
  EXPECT_EQ(original.ToString(), "Busy: the write buffer is full");

  Status assigned;
  assigned = copy;
  EXPECT_EQ(assigned.ToString(), copy.ToString());
  const Status& same = assigned;
  assigned = same;
  EXPECT_EQ(assigned.ToString(), "Corruption: a damaged record of key 'k'");
  assigned = Status::OK();
  EXPECT_TRUE(assigned.ok());
  EXPECT_EQ(assigned.message(), "");
}

TEST(StatusTest, MoveCarriesTheMessage) {
  Status from = Status::IOError("disk full");
  Status to = std::move(from);
  EXPECT_EQ(to.ToString(), "IOError: disk full");
  Status other = Status::TimedOut("flush deadline passed");
  other = std::move(to);
  EXPECT_EQ(other.ToString(), "IOError: disk full");
}

TEST(StatusTest, OutOfMemoryIsMadeAndCopiedWithoutMemory) {
  const Status s = Status::OutOfMemory();
  EXPECT_TRUE(s.IsNoSpace());
  EXPECT_EQ(s.ToString(), "NoSpace: out of memory");
  const Status copy = s;
  EXPECT_EQ(&copy.message(), &s.message());
  Status assigned = Status::Busy("full");
  assigned = copy;
  EXPECT_EQ(&assigned.message(), &s.message());
}

TEST(StatusTest, EveryCodeHasItsOwnName) {
  const Status all[] = {
      Status::NotFound(""),     Status::InvalidArgument(""), Status::Corruption(""),
      Status::IOError(""),      Status::NoSpace(""),         Status::Busy(""),
      Status::Conflict(""),     Status::NotSupported(""),    Status::TimedOut(""),
  };
  for (const Status& a : all) {
    for (const Status& b : all) {
      if (&a != &b) {
        EXPECT_NE(a.ToString(), b.ToString());
      }
    }
    EXPECT_FALSE(a.ok());
  }
}

}  // namespace
}  // namespace tiercache
