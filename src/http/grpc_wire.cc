#include "http/grpc_wire.h"

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
    value = (value + factor - 1) / factor;
    unit = next_unit;
  }
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

}  // namespace gantry::http::grpc
