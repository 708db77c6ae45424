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
