#include "telemetry/trace.h"

#include <cstring>

namespace gantry::telemetry {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is not allowed by the spec
}

bool ReadHex(std::string_view text, uint8_t* out, size_t bytes) {
  if (text.size() != bytes * 2) return false;
  for (size_t i = 0; i < bytes; ++i) {
    int high = HexValue(text[2 * i]);
    int low = HexValue(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

constexpr char kHex[] = "0123456789abcdef";

// Two hex digits per byte from a table: this runs for every proxied request.
constexpr auto kHexPairs = [] {
  std::array<char, 512> pairs{};
  for (int b = 0; b < 256; ++b) {
    pairs[2 * b] = kHex[b >> 4];
    pairs[2 * b + 1] = kHex[b & 0xf];
  }
  return pairs;
}();

void WriteHex(const uint8_t* bytes, size_t size, char* out) {
  for (size_t i = 0; i < size; ++i) std::memcpy(out + 2 * i, &kHexPairs[2 * bytes[i]], 2);
}

}  // namespace

bool IsZero(const uint8_t* bytes, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

std::optional<TraceParent> ParseTraceParent(std::string_view text) {
  if (text.size() < kTraceParentSize) return std::nullopt;
  uint8_t version = 0;
  if (!ReadHex(text.substr(0, 2), &version, 1) || version == 0xff) return std::nullopt;
  if (version == 0 && text.size() != kTraceParentSize) return std::nullopt;
  if (version > 0 && text.size() > kTraceParentSize && text[kTraceParentSize] != '-') {
    return std::nullopt;
  }
  if (text[2] != '-' || text[35] != '-' || text[52] != '-') return std::nullopt;
  TraceParent out;
  if (!ReadHex(text.substr(3, 32), out.trace_id.data(), 16) ||
      !ReadHex(text.substr(36, 16), out.span_id.data(), 8) ||
      !ReadHex(text.substr(53, 2), &out.flags, 1)) {
    return std::nullopt;
  }
  if (IsZero(out.trace_id.data(), 16) || IsZero(out.span_id.data(), 8)) return std::nullopt;
  return out;
}

void FormatTraceParent(const TraceParent& context, char (&out)[kTraceParentSize]) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  WriteHex(context.trace_id.data(), 16, out + 3);
  out[35] = '-';
  WriteHex(context.span_id.data(), 8, out + 36);
  out[52] = '-';
  WriteHex(&context.flags, 1, out + 53);
}

std::string Hex(const uint8_t* bytes, size_t size) {
  std::string out(size * 2, '0');
  WriteHex(bytes, size, out.data());
  return out;
}

std::optional<TraceId> ParseTraceId(std::string_view hex) {
  TraceId id{};
  if (!ReadHex(hex, id.data(), 16)) return std::nullopt;
  return id;
}

}  // namespace gantry::telemetry
