#include "core/duration.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("2s"), seconds(2));
  EXPECT_EQ(*ParseDuration("1m"), minutes(1));
  EXPECT_EQ(*ParseDuration("1h"), hours(1));
  EXPECT_EQ(*ParseDuration("0s"), milliseconds(0));
}

TEST(ParseDuration, AcceptsCompoundsAndDecimals) {
  EXPECT_EQ(*ParseDuration("1m30s"), seconds(90));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*ParseDuration("1h2m3s4ms"), hours(1) + minutes(2) + seconds(3) + milliseconds(4));
}

TEST(ParseDuration, RejectsBadText) {
  for (const char* bad : {"", "5", "s", "5x", "-1s", "1.2.3s", "1sm", "1 s", "1.0001s", ".s"}) {
    auto parsed = ParseDuration(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
  }
  EXPECT_NE(ParseDuration("5").status().message().find("missing unit"), std::string::npos);
  EXPECT_NE(ParseDuration("5x").status().message().find("unknown unit"), std::string::npos);
  EXPECT_NE(ParseDuration("-1s").status().message().find("negative"), std::string::npos);
  // Timers count nanoseconds in 64 bits: anything near that would overflow.
  EXPECT_NE(ParseDuration("3000000000h").status().message().find("longer than a year"),
            std::string::npos);
  EXPECT_EQ(*ParseDuration("8784h"), kMaxDuration);
  EXPECT_FALSE(ParseDuration("8784h1ms").ok());
  // More digits than a double holds (found by fuzz_api_json in ?wait=): an error, not a throw.
  std::string huge = std::string(400, '7') + "s";
  EXPECT_NE(ParseDuration(huge).status().message().find("longer than a year"), std::string::npos);
}

TEST(FormatDuration, ShortestExactSpelling) {
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(seconds(2)), "2s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(hours(2)), "2h");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
}

TEST(FormatDuration, RoundTrips) {
  for (int64_t ms : {1, 999, 1000, 61'000, 3'600'000, 3'723'000}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms));
  }
}

}  // namespace
}  // namespace gantry
