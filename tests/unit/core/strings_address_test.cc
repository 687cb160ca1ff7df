#include <gtest/gtest.h>

#include "core/address.h"
#include "core/strings.h"

namespace gantry {
namespace {

TEST(EditDistance, Basics) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("replicas", "replcas"), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(ClosestMatch, OnlyWhenClose) {
  std::vector<std::string> keys = {"replicas", "command", "health"};
  EXPECT_EQ(ClosestMatch("replcas", keys), "replicas");
  EXPECT_EQ(ClosestMatch("helth", keys), "health");
  EXPECT_EQ(ClosestMatch("zzz", keys), std::nullopt);
}

TEST(ParseHostPort, Forms) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:8080"), (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(*ParseHostPort("[::1]:0"), (HostPort{"::1", 0}));
  EXPECT_EQ(*ParseHostPort("http://127.0.0.1:7700/"), (HostPort{"127.0.0.1", 7700}));
  EXPECT_EQ((HostPort{"::1", 80}).ToString(), "[::1]:80");
}

TEST(ParseHostPort, Rejects) {
  for (const char* bad : {"", "8080", ":80", "host:", "host:70000", "host:x", "[::1", "[::1]80"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace gantry
