// The few gRPC-over-HTTP/2 facts a proxy needs (grpc/doc/PROTOCOL-HTTP2.md): status codes, the
// grpc-timeout header, content types and grpc-message's percent-encoding. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gantry::http::grpc {

enum Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kDeadlineExceeded = 4,
  kResourceExhausted = 8,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
};

// A grpc-timeout value ("100m", "5S": 1 to 8 digits, then H M S m u n) in whole
// milliseconds, rounded up; -1 when it is malformed.
int64_t ParseTimeoutMs(std::string_view text);
// The value to send on for `ms` milliseconds left.
std::string FormatTimeoutMs(int64_t ms);

// application/grpc, application/grpc+proto, application/grpc-web...: a gRPC call.
bool IsGrpcContentType(std::string_view content_type);

// grpc-message is percent-encoded UTF-8: bytes outside 0x20-0x7E and '%' become %XX.
std::string EncodeMessage(std::string_view message);

}  // namespace gantry::http::grpc
