#include "http/grpc_wire.h"

#include <gtest/gtest.h>

namespace gantry::http::grpc {
namespace {

using namespace std::string_literals;

TEST(GrpcHealth, RequestFraming) {
  EXPECT_EQ(HealthRequest(""), "\0\0\0\0\0"s);
  EXPECT_EQ(HealthRequest("abc"), "\0\0\0\0\x05\x0a\x03"s + "abc");
  std::string long_name(200, 'x');
  std::string framed = HealthRequest(long_name);
  EXPECT_EQ(framed.substr(0, 8), "\0\0\0\0\xcb\x0a\xc8\x01"s);  // 203 bytes; length 200 as varint
}

TEST(GrpcHealth, ResponseStatus) {
  EXPECT_EQ(HealthStatus("\0\0\0\0\x02\x08\x01"s), 1);            // SERVING
  EXPECT_EQ(HealthStatus("\0\0\0\0\x02\x08\x02"s), 2);            // NOT_SERVING
  EXPECT_EQ(HealthStatus("\0\0\0\0\0"s), 0);                      // a zero value is left out
  EXPECT_EQ(HealthStatus("\0\0\0\0\x06\x12\x02hi\x08\x01"s), 1);  // unknown field skipped
  EXPECT_EQ(HealthStatus(""), -1);
  EXPECT_EQ(HealthStatus("\x01\0\0\0\x02\x08\x01"s), -1);       // compressed: not asked for
  EXPECT_EQ(HealthStatus("\0\0\0\0\x02\x08"s), -1);             // truncated varint
  EXPECT_EQ(HealthStatus("\0\0\0\0\x02\x12\x09"s), -1);         // length past the end
  EXPECT_EQ(HealthStatus("\0\0\0\0\x02\x08\x01\x08\x02"s), 1);  // past the frame: not read
  // A status past int32 (a negative enum value on the wire) is no ServingStatus.
  EXPECT_EQ(HealthStatus("\0\0\0\0\x0b\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s), -1);
}

TEST(GrpcFraming, NextMessage) {
  Framed frame;
  std::string two = FrameMessage("ab") + FrameMessage("");
  ASSERT_EQ(NextMessage(two, frame), FrameStatus::kComplete);
  EXPECT_EQ(frame.message, "ab");
  EXPECT_EQ(frame.size, 7u);
  EXPECT_FALSE(frame.compressed);
  ASSERT_EQ(NextMessage(std::string_view(two).substr(frame.size), frame), FrameStatus::kComplete);
  EXPECT_EQ(frame.message, "");
  EXPECT_EQ(NextMessage(two.substr(0, 6), frame), FrameStatus::kIncomplete);
  EXPECT_EQ(NextMessage("\x02\0\0\0\0"s, frame), FrameStatus::kMalformed);        // flag 2
  EXPECT_EQ(NextMessage("\0\x01\0\0\0"s, frame, 1000), FrameStatus::kMalformed);  // 16 MiB
}

}  // namespace
}  // namespace gantry::http::grpc
