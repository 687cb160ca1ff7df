#include "telemetry/trace.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
// 16 nibbles in bytes (0..15) to their lowercase hex digits, 16 at a time.
__m128i HexDigits(__m128i nibbles) {
  __m128i letters =
      _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
  return _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters);
}

// The hex of 16 bytes (32 digits), or of the low 8 (16 digits) when `half`: a few SSE2
// instructions instead of a table lookup per byte (every proxied request formats 24 bytes).
void WriteHexSse2(const uint8_t* bytes, bool half, char* out) {
  __m128i value = half ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes))
                       : _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  __m128i low = _mm_and_si128(value, _mm_set1_epi8(0x0f));
  __m128i high = _mm_and_si128(_mm_srli_epi16(value, 4), _mm_set1_epi8(0x0f));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), HexDigits(_mm_unpacklo_epi8(high, low)));
  if (!half) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), HexDigits(_mm_unpackhi_epi8(high, low)));
  }
}
#endif

}  // namespace

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
  if (IsZero(out.trace_id) || IsZero(out.span_id)) return std::nullopt;
  return out;
}

void FormatTraceParent(const TraceParent& context, char (&out)[kTraceParentSize]) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
#if defined(__SSE2__)
  WriteHexSse2(context.trace_id.data(), false, out + 3);
  out[35] = '-';
  WriteHexSse2(context.span_id.data(), true, out + 36);
#else
  WriteHex(context.trace_id.data(), 16, out + 3);
  out[35] = '-';
  WriteHex(context.span_id.data(), 8, out + 36);
#endif
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
