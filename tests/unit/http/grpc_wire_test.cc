#include "http/grpc_wire.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace gantry::http::grpc {
namespace {

TEST(GrpcWire, TimeoutsInEveryUnitRoundUpToMilliseconds) {
  EXPECT_EQ(ParseTimeoutMs("1H"), 3'600'000);
  EXPECT_EQ(ParseTimeoutMs("2M"), 120'000);
  EXPECT_EQ(ParseTimeoutMs("5S"), 5'000);
  EXPECT_EQ(ParseTimeoutMs("250m"), 250);
  EXPECT_EQ(ParseTimeoutMs("1500u"), 2);
  EXPECT_EQ(ParseTimeoutMs("1n"), 1);
  EXPECT_EQ(ParseTimeoutMs("99999999S"), 99'999'999'000);
  EXPECT_EQ(ParseTimeoutMs("0m"), 0);
}

TEST(GrpcWire, MalformedTimeoutsAreRejected) {
  for (const char* bad : {"", "m", "10", "10x", "-1m", "123456789m", "1.5S", " 1S"}) {
    EXPECT_EQ(ParseTimeoutMs(bad), -1) << bad;
  }
}

TEST(GrpcWire, TimeoutsFormatWithinEightDigits) {
  EXPECT_EQ(FormatTimeoutMs(250), "250m");
  EXPECT_EQ(FormatTimeoutMs(-5), "0m");
  EXPECT_EQ(FormatTimeoutMs(100'000'000), "100000S");
  EXPECT_EQ(FormatTimeoutMs(ParseTimeoutMs("99999999H")), "99999999H");  // 8 digits at most
  EXPECT_EQ(FormatTimeoutMs(INT64_MAX), "99999999H");
  EXPECT_EQ(FormatTimeoutMs(123'456'789'012), "2057614M");  // 123,456,790 S has 9 digits
}

TEST(GrpcWire, ContentTypes) {
  EXPECT_TRUE(IsGrpcContentType("application/grpc"));
  EXPECT_TRUE(IsGrpcContentType("application/grpc+proto"));
  EXPECT_FALSE(IsGrpcContentType("application/grpcx"));
  EXPECT_FALSE(IsGrpcContentType("application/json"));
}

TEST(GrpcWire, MessagesArePercentEncoded) {
  EXPECT_EQ(EncodeMessage("no healthy replica"), "no healthy replica");
  EXPECT_EQ(EncodeMessage("50% \xC3\xA9\n"), "50%25 %C3%A9%0A");
}

}  // namespace
}  // namespace gantry::http::grpc
