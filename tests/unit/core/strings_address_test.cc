#include <gtest/gtest.h>

#include "core/address.h"
#include "core/strings.h"

namespace gantry {
namespace {

TEST(EditDistance, Basics) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("replicas", "replcas"), 1u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("sclae", "scale"), 1u);  // a swap of neighbours is one edit
  EXPECT_EQ(EditDistance("stauts", "status"), 1u);
  EXPECT_EQ(EditDistance("ab", "ba"), 1u);
  EXPECT_EQ(EditDistance("abc", "ca"), 3u);
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
  for (const char* bad : {"", "8080", ":80", "host:", "host:70000", "host:x", "[::1", "[::1]80",
                          // hosts that would not read back the same (found by fuzz_api_json)
                          "127.]0.0htp://.1:9000", "a:b:80", "a b:80", "a/b:80", "[a]b]:80"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
  EXPECT_EQ(*ParseHostPort("[fe80::1%eth0]:80"), (HostPort{"fe80::1%eth0", 80}));
  EXPECT_EQ(*ParseHostPort("my_host-1.example:80"), (HostPort{"my_host-1.example", 80}));
}

}  // namespace
}  // namespace gantry

namespace gantry {
namespace {

TEST(IsValidUtf8, AcceptsTextRejectsBadBytes) {
  for (const char* good : {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {
    EXPECT_TRUE(IsValidUtf8(good)) << good;
  }
  for (const char* bad :
       {"\xff", "\xc3", "\xe2\x82", "\xc0\xaf" /* overlong */, "\xed\xa0\x80" /* surrogate */,
        "\xf4\x90\x80\x80" /* > U+10FFFF */, "a\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(ToValidUtf8, ReplacesOnlyTheBadBytes) {
  EXPECT_EQ(ToValidUtf8("plain \xc3\xa9"), "plain \xc3\xa9");
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ToValidUtf8("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");  // cut short: each byte
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xed\xa0\x80\xc0\xaf\xf8")));
}

TEST(AppendNumber, WritesDecimalDigits) {
  std::string out = "n=";
  AppendNumber(out, 0);
  out += ',';
  AppendNumber(out, 18446744073709551615u);
  for (uint64_t value : {7u, 10u, 99u, 100u, 101u, 1234567u}) {
    out += ',';
    AppendNumber(out, value);
  }
  EXPECT_EQ(out, "n=0,18446744073709551615,7,10,99,100,101,1234567");
}

}  // namespace
}  // namespace gantry
