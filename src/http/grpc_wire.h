// The few gRPC-over-HTTP/2 facts a proxy needs (grpc/doc/PROTOCOL-HTTP2.md): status codes, the
// grpc-timeout header, content types, grpc-message's percent-encoding, message framing, and
// the two messages of the health protocol the probe speaks. Pure functions.
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

// A length-prefixed message: a flag byte (1: compressed), 4 bytes of length (big-endian), then
// the message.
std::string FrameMessage(std::string_view message);
struct Framed {
  bool compressed = false;
  std::string_view message;  // into the data given
  size_t size = 0;           // of the whole frame: where the next one begins
};
enum class FrameStatus { kComplete, kIncomplete, kMalformed };
// The first message of `data`: kIncomplete until all of it is there, kMalformed for a flag
// byte other than 0 or 1, or a length over `max_size`.
FrameStatus NextMessage(std::string_view data, Framed& out, size_t max_size = 4 << 20);

// grpc.health.v1 HealthCheckRequest{service} as a framed message, and the status of a framed
// HealthCheckResponse (-1 when malformed or compressed: the probe asks for no compression).
std::string HealthRequest(const std::string& service);
int HealthStatus(std::string_view framed_response);

}  // namespace gantry::http::grpc
