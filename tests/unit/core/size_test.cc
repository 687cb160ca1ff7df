#include "core/size.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

TEST(ParseSize, BinaryUnits) {
  EXPECT_EQ(*ParseSize("512"), 512u);
  EXPECT_EQ(*ParseSize("64K"), 64u * 1024);
  EXPECT_EQ(*ParseSize("256M"), 256u * 1024 * 1024);
  EXPECT_EQ(*ParseSize("2G"), 2ull * 1024 * 1024 * 1024);
}

TEST(ParseSize, RejectsBadText) {
  for (const char* bad :
       {"", "M", "12X", "-1M", "1.5G", "12 M", "99999999999999999999", "17179869184G"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  }
  EXPECT_NE(ParseSize("12X").status().message().find("unknown unit"), std::string::npos);
  EXPECT_NE(ParseSize("17179869184G").status().message().find("too large"), std::string::npos);
}

TEST(FormatSize, LargestExactUnit) {
  EXPECT_EQ(FormatSize(256u << 20), "256M");
  EXPECT_EQ(FormatSize(1000), "1000");
  EXPECT_EQ(FormatSize(1536), "1536");
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(FormatSize(3ull << 30), "3G");
}

}  // namespace
}  // namespace gantry
