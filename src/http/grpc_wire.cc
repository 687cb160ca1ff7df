#include "http/grpc_wire.h"

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

namespace gantry::http::grpc {

int64_t ParseTimeoutMs(std::string_view text) {
  if (text.size() < 2 || text.size() > 9) return -1;
  int64_t value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  switch (text.back()) {
    case 'H':
      return value * 3'600'000;
    case 'M':
      return value * 60'000;
    case 'S':
      return value * 1'000;
    case 'm':
      return value;
    case 'u':
      return ceil_div(value, 1'000);
    case 'n':
      return ceil_div(value, 1'000'000);
    default:
      return -1;
  }
}

std::string FormatTimeoutMs(int64_t ms) {
  if (ms < 0) ms = 0;
  // 8 digits at most: coarser units, rounded up, for longer times.
  constexpr std::pair<char, int64_t> kUnits[] = {{'S', 1000}, {'M', 60}, {'H', 60}};
  int64_t value = ms;
  char unit = 'm';
  for (auto [next_unit, factor] : kUnits) {
    if (value <= 99'999'999) break;
    value = value / factor + (value % factor != 0);  // rounded up, without overflow
    unit = next_unit;
  }
  value = std::min<int64_t>(value, 99'999'999);  // 11,000 years: a valid value all the same
  return fmt::format("{}{}", value, unit);
}

bool IsGrpcContentType(std::string_view content_type) {
  constexpr std::string_view kGrpc = "application/grpc";
  if (!content_type.starts_with(kGrpc)) return false;
  return content_type.size() == kGrpc.size() || content_type[kGrpc.size()] == '+' ||
         content_type[kGrpc.size()] == ';' || content_type[kGrpc.size()] == '-';
}

std::string EncodeMessage(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out.push_back(static_cast<char>(c));
    } else {
      fmt::format_to(std::back_inserter(out), "%{:02X}", c);
    }
  }
  return out;
}

std::string FrameMessage(std::string_view message) {
  std::string framed(5, '\0');  // not compressed, then the length big-endian
  for (int i = 0; i < 4; ++i)
    framed[1 + i] = static_cast<char>((message.size() >> (8 * (3 - i))) & 0xff);
  framed += message;
  return framed;
}

FrameStatus NextMessage(std::string_view data, Framed& out, size_t max_size) {
  if (data.size() < 5) return FrameStatus::kIncomplete;
  auto flag = static_cast<uint8_t>(data[0]);
  if (flag > 1) return FrameStatus::kMalformed;
  uint64_t length = 0;
  for (int i = 1; i <= 4; ++i) length = length << 8 | static_cast<uint8_t>(data[i]);
  if (length > max_size) return FrameStatus::kMalformed;
  if (data.size() - 5 < length) return FrameStatus::kIncomplete;
  out.compressed = flag == 1;
  out.message = data.substr(5, length);
  out.size = 5 + length;
  return FrameStatus::kComplete;
}

std::string HealthRequest(const std::string& service) {
  std::string message;
  if (!service.empty()) {  // field 1, length-delimited
    message.push_back(0x0a);
    for (size_t n = service.size();; n >>= 7) {
      message.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    message += service;
  }
  return FrameMessage(message);
}

int HealthStatus(std::string_view framed) {
  Framed frame;
  if (NextMessage(framed, frame) != FrameStatus::kComplete || frame.compressed) return -1;
  std::string_view message = frame.message;
  int status = 0;  // a field left out is its zero value: UNKNOWN
  size_t i = 0;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; i < message.size() && shift < 64; shift += 7) {
      auto byte = static_cast<uint8_t>(message[i++]);
      v |= uint64_t{byte & 0x7fu} << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  };
  while (i < message.size()) {
    uint64_t key = 0, value = 0;
    if (!varint(key)) return -1;
    switch (key & 7) {
      case 0:
        if (!varint(value)) return -1;
        if (key >> 3 == 1) {
          if (value > static_cast<uint64_t>(INT32_MAX)) return -1;  // no ServingStatus value
          status = static_cast<int>(value);
        }
        break;
      case 2:
        if (!varint(value) || value > message.size() - i) return -1;
        i += value;
        break;
      default:
        return -1;  // HealthCheckResponse has no other wire types
    }
  }
  return status;
}

}  // namespace gantry::http::grpc
