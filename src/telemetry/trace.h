// W3C Trace Context (traceparent) and the span gantry records per proxied hop. A span record is
// plain data of fixed size, so that a data-plane worker records one without allocating.
// Thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::telemetry {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct TraceParent {
  TraceId trace_id{};
  SpanId span_id{};   // the caller's span: the parent of ours
  uint8_t flags = 0;  // bit 0: sampled
};

// "00-<32 hex>-<16 hex>-<2 hex>" (lowercase). A later version is read by its first four fields
// when they are followed by '-' or the end; version ff, all-zero ids, uppercase or a wrong
// length are invalid (the caller starts a new trace then, as the spec asks).
std::optional<TraceParent> ParseTraceParent(std::string_view text);

inline constexpr size_t kTraceParentSize = 55;
// Writes version 00 of `context` (span_id: the span to name as parent downstream).
void FormatTraceParent(const TraceParent& context, char (&out)[kTraceParentSize]);

std::string Hex(const uint8_t* bytes, size_t size);
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& id) {
  return Hex(id.data(), N);
}
// 32 or 16 lowercase hex digits back to an id; nullopt when malformed.
std::optional<TraceId> ParseTraceId(std::string_view hex);

// Whether an id is all zero (invalid): a word at a time, inline (every hop checks its ids).
template <size_t N>
inline bool IsZero(const std::array<uint8_t, N>& id) {
  static_assert(N % 8 == 0);
  uint64_t any = 0;
  for (size_t i = 0; i < N; i += 8) {
    uint64_t word;
    std::memcpy(&word, id.data() + i, 8);
    any |= word;
  }
  return any == 0;
}

// A fixed-capacity string for span fields (longer values are cut).
template <size_t N>
struct ShortText {
  char data[N];
  uint8_t size = 0;
  void Set(std::string_view text) {
    size = static_cast<uint8_t>(text.size() < N ? text.size() : N);
    if (size > 0) std::memcpy(data, text.data(), size);  // an empty view may have no data
  }
  std::string_view view() const { return {data, size}; }
};

// One proxied hop: what the gateway or the mesh did for one request.
struct SpanRecord {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_id{};  // zero: the trace started here
  int64_t start_unix_us = 0;
  uint32_t duration_us = 0;
  uint16_t status = 0;   // the response's status; 0: none was sent
  bool mesh = false;     // false: the gateway
  bool sampled = false;  // the trace's sampled flag (W3C), as this hop passed it on
  uint8_t attempts = 0;
  ShortText<8> method;
  uint32_t service_id = 0;  // the proxy's id for `service` (the same id: the same service)
  ShortText<64> service;
  ShortText<64> instance;
  ShortText<120> target;
};

// The head decision for a trace gantry starts, and the rate at which traces without an error or
// a slow span are kept: by the trace id's last 8 bytes (random), so that every worker and every
// agent decides alike. A trace a caller started is kept when its sampled flag is set.
class TraceSampler {
 public:
  explicit TraceSampler(double rate) {
    double bound = rate * 18446744073709551616.0;  // 2^64, computed once (not per span)
    all_ = bound >= 18446744073709551616.0;
    if (!all_ && bound > 0) below_ = static_cast<uint64_t>(bound);
  }
  bool Chosen(const TraceId& id) const {
    uint64_t low;
    std::memcpy(&low, id.data() + 8, 8);
    return all_ || low < below_;
  }

 private:
  uint64_t below_ = 0;
  bool all_ = false;
};

// A hop that failed: answered 5xx, or not at all.
inline bool Failed(const SpanRecord& span) { return span.status == 0 || span.status >= 500; }

}  // namespace gantry::telemetry
