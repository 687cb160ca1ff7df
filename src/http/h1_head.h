// The data plane's HTTP/1.1 head parser (RFC 9112): request and response heads parsed in place,
// strictly, with no allocation. Fields are views into the caller's buffer, valid while it is.
// Strict means: anything that two parsers could read differently (the request-smuggling
// family: CL+TE, duplicate or malformed Content-Length, bad Transfer-Encoding, obs-fold, bare
// CR or LF, whitespace before a colon, control bytes) is an error with the status to answer.
// Thread-compatible: plain functions over plain structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gantry::http::h1 {

enum class Method : uint8_t {
  kOther,
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kOptions,
  kTrace,
  kPatch,
  kConnect
};

// GET, HEAD, OPTIONS, TRACE, PUT and DELETE (RFC 9110 9.2.2): safe to send twice.
bool IsIdempotent(Method method);
// The method named by a request line's (case-sensitive) token; kOther for extension methods.
Method MethodOf(std::string_view text);

struct Header {
  std::string_view name;   // as sent; compare case-insensitively
  std::string_view value;  // without surrounding whitespace
};

// How a message's body is delimited.
enum class Framing : uint8_t { kNone, kLength, kChunked, kUntilClose };

struct Limits {
  size_t max_request_line = size_t{8} * 1024;  // longer: 414
  size_t max_head = size_t{16} * 1024;         // request line + fields: longer is 431
  size_t max_headers = 100;                    // more fields: 431
};

inline constexpr size_t kMaxHeaders = 100;  // capacity of the Head arrays below

// What a head says beyond its fields, found while parsing them.
struct HeadCommon {
  Header headers[kMaxHeaders];
  size_t header_count = 0;
  size_t head_size = 0;   // bytes from the start of the buffer to the end of the empty line
  int minor_version = 1;  // HTTP/1.x
  Framing framing = Framing::kNone;
  uint64_t content_length = 0;         // for kLength
  bool connection_close = false;       // Connection: close
  bool connection_keep_alive = false;  // Connection: keep-alive (matters for HTTP/1.0)
  bool has_connection_tokens = false;  // Connection names other fields (they are hop-by-hop)
  bool connection_upgrade = false;     // Connection names "upgrade" (one of those tokens)
  std::string_view upgrade;            // the first Upgrade field's value ("" when absent)
  // Read while parsing, as the proxy looks at them for every request (first of each, or "").
  std::string_view traceparent;
  std::string_view request_id;  // X-Request-Id
  std::string_view raw_fields;  // every field line as received, CRLFs included (no empty line)

  // Whether the connection stays open after this message (HTTP/1.1 default on, 1.0 off).
  bool KeepAlive() const {
    return minor_version >= 1 ? !connection_close : connection_keep_alive && !connection_close;
  }
  std::string_view Find(std::string_view name) const;  // first field of that name, or ""
  // Forgets what an earlier parse found (the parsers reuse one head per worker).
  void ResetFacts();
};

struct RequestHead : HeadCommon {
  Method method = Method::kOther;
  std::string_view method_text;
  std::string_view target;
  std::string_view host;  // the Host field ("" when absent)
  bool expect_continue = false;
};

struct ResponseHead : HeadCommon {
  int status = 0;
  std::string_view reason;
  std::string_view status_line;  // "HTTP/1.x 200 OK", without its CRLF
};

enum class ParseStatus : uint8_t { kIncomplete, kComplete, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  int error_status = 0;    // for kError: the HTTP status to answer (400, 414, 431, 501, 505...)
  const char* error = "";  // for kError: why, for the answer's body and logs
};

// Parses a request head at the start of `data`. kIncomplete: read more and call again with the
// longer buffer (`scanned` carries how far the search for the end of the head got, so that a
// head sent byte by byte costs linear time). Leading empty lines are skipped (RFC 9112 2.2) and
// counted in head_size.
ParseResult ParseRequestHead(std::string_view data, const Limits& limits, RequestHead& out,
                             size_t& scanned);

// Parses a response head; `request_method` and the status decide whether a body follows
// (HEAD, 1xx, 204 and 304 have none). Errors here mean the upstream is broken (502).
ParseResult ParseResponseHead(std::string_view data, const Limits& limits, Method request_method,
                              ResponseHead& out, size_t& scanned);

// Case-insensitive ASCII comparison, for field names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The same when `lowercase` is a lowercase literal of letters, digits and '-' and `text` came
// through the parser (no control bytes): setting bit 5 lowercases a letter and changes no
// byte that could then equal such a literal's byte.
inline bool EqualsLowercase(std::string_view text, std::string_view lowercase) {
  if (text.size() != lowercase.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((text[i] | 0x20) != lowercase[i]) return false;
  }
  return true;
}

// Calls `fn(token)` for each comma-separated token of a list field, trimmed, empties skipped.
template <typename Fn>
void ForEachToken(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view token = list.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty()) fn(token);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace gantry::http::h1
