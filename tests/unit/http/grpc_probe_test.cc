#include "http/grpc_probe.h"

#include <gtest/gtest.h>

namespace gantry::http {
namespace {

using namespace std::string_literals;

TEST(GrpcHealth, RequestFraming) {
  EXPECT_EQ(GrpcHealthRequest(""), "\0\0\0\0\0"s);
  EXPECT_EQ(GrpcHealthRequest("abc"), "\0\0\0\0\x05\x0a\x03"s + "abc");
  std::string long_name(200, 'x');
  std::string framed = GrpcHealthRequest(long_name);
  EXPECT_EQ(framed.substr(0, 8), "\0\0\0\0\xcb\x0a\xc8\x01"s);  // 203 bytes; length 200 as varint
}

TEST(GrpcHealth, ResponseStatus) {
  EXPECT_EQ(GrpcHealthStatus("\0\0\0\0\x02\x08\x01"s), 1);            // SERVING
  EXPECT_EQ(GrpcHealthStatus("\0\0\0\0\x02\x08\x02"s), 2);            // NOT_SERVING
  EXPECT_EQ(GrpcHealthStatus("\0\0\0\0\0"s), 0);                      // a zero value is left out
  EXPECT_EQ(GrpcHealthStatus("\0\0\0\0\x06\x12\x02hi\x08\x01"s), 1);  // unknown field skipped
  EXPECT_EQ(GrpcHealthStatus(""), -1);
  EXPECT_EQ(GrpcHealthStatus("\x01\0\0\0\x02\x08\x01"s), -1);  // compressed: not asked for
  EXPECT_EQ(GrpcHealthStatus("\0\0\0\0\x02\x08"s), -1);        // truncated varint
  EXPECT_EQ(GrpcHealthStatus("\0\0\0\0\x02\x12\x09"s), -1);    // length past the end
}

}  // namespace
}  // namespace gantry::http
