#include "http/h1_head.h"

#include <array>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace gantry::http::h1 {
namespace {

enum CharClass : uint8_t {
  kToken = 1,       // tchar (RFC 9110 5.6.2)
  kFieldValue = 2,  // VCHAR, obs-text, SP, HTAB
  kTarget = 4,      // VCHAR (the request-target has no spaces or controls)
};

constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> classes{};
  for (int c = 0x21; c <= 0x7e; ++c) classes[c] |= kFieldValue | kTarget;
  for (int c = 0x80; c <= 0xff; ++c) classes[c] |= kFieldValue;
  classes[' '] |= kFieldValue;
  classes['\t'] |= kFieldValue;
  for (int c = '0'; c <= '9'; ++c) classes[c] |= kToken;
  for (int c = 'a'; c <= 'z'; ++c) classes[c] |= kToken;
  for (int c = 'A'; c <= 'Z'; ++c) classes[c] |= kToken;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) classes[static_cast<uint8_t>(c)] |= kToken;
  return classes;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

bool Is(char c, CharClass cls) { return (kClasses[static_cast<uint8_t>(c)] & cls) != 0; }

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

ParseResult Error(int status, const char* why) { return {ParseStatus::kError, status, why}; }
constexpr ParseResult kIncomplete{ParseStatus::kIncomplete, 0, ""};
constexpr ParseResult kComplete{ParseStatus::kComplete, 0, ""};

// Finds the end of the head (the empty line) from `scanned` on. Every line must end in CRLF:
// a bare LF is an error rather than a second way to end a line. Looks at 16 bytes at a time.
// Returns the offset just past the head, 0 while incomplete, or SIZE_MAX for a bare LF.
size_t FindHeadEnd(std::string_view data, size_t start, size_t& scanned) {
  size_t from = scanned > start ? scanned : start;
  const char* base = data.data();
  // One '\n' at `lf`: its line must end in CR; after another '\n' it ends the head.
  auto at_lf = [&](size_t lf) -> size_t {
    if (lf == start || base[lf - 1] != '\r') return SIZE_MAX;
    if (lf - start >= 3 && base[lf - 2] == '\n') return lf + 1;
    return 0;
  };
#ifdef __SSE2__
  const __m128i newline = _mm_set1_epi8('\n');
  while (from + 16 <= data.size()) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + from));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, newline)));
    while (mask) {
      size_t found = at_lf(from + static_cast<size_t>(__builtin_ctz(mask)));
      if (found) return found;
      mask &= mask - 1;
    }
    from += 16;
  }
#endif
  for (; from < data.size(); ++from) {
    if (base[from] != '\n') continue;
    size_t found = at_lf(from);
    if (found) return found;
  }
  scanned = data.size();
  return 0;
}

// The first byte at or after `p` that cannot be in a field value (a control byte other than
// HTAB, or DEL); `end` if none. 16 bytes at a time where it can.
const char* SkipFieldValue(const char* p, const char* end) {
#ifdef __SSE2__
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i below_space = _mm_set1_epi8(static_cast<char>(0x20 ^ 0x80));
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7f);
  while (p + 16 <= end) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Unsigned "< 0x20" as a signed compare of both sides with the top bit flipped.
    __m128i control = _mm_cmplt_epi8(_mm_xor_si128(chunk, flip), below_space);
    control = _mm_andnot_si128(_mm_cmpeq_epi8(chunk, tab), control);
    __m128i bad = _mm_or_si128(control, _mm_cmpeq_epi8(chunk, del));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
    if (mask) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  while (p < end && Is(*p, kFieldValue)) ++p;
  return p;
}

// The shape of the wait for more bytes: past a limit, the error it earns.
ParseResult IncompleteOrTooLong(std::string_view data, size_t start, const Limits& limits,
                                bool is_request) {
  std::string_view head = data.substr(start);
  if (is_request && head.find('\n') == std::string_view::npos &&
      head.size() > limits.max_request_line) {
    return Error(414, "request line too long");
  }
  if (head.size() > limits.max_head) return Error(431, "request header fields too large");
  return kIncomplete;
}

// Parses "1*DIGIT" into `out`; at most 18 digits, so no overflow.
bool ParseLength(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  out = value;
  return true;
}

// What the fields say about framing and the connection, gathered while parsing them.
struct FieldFacts {
  int content_lengths = 0;
  int transfer_encodings = 0;
  int hosts = 0;
  bool chunked_last = false;  // the final transfer coding is chunked
  int chunked_count = 0;      // chunked may be applied once only
  bool other_coding = false;  // a coding other than chunked
  bool bad_length = false;
  bool expect_other = false;
};

void NoteField(const Header& field, HeadCommon& head, FieldFacts& facts, std::string_view* host,
               bool* expect_continue) {
  std::string_view name = field.name;
  switch (name.size()) {
    case 4:
      if (host && EqualsLowercase(name, "host")) {
        ++facts.hosts;
        *host = field.value;
      }
      return;
    case 6:
      if (expect_continue && EqualsLowercase(name, "expect")) {
        if (EqualsLowercase(field.value, "100-continue")) {
          *expect_continue = true;
        } else {
          facts.expect_other = true;
        }
      }
      return;
    case 7:
      if (head.upgrade.empty() && EqualsLowercase(name, "upgrade")) head.upgrade = field.value;
      return;
    case 11:
      if (head.traceparent.empty() && EqualsLowercase(name, "traceparent")) {
        head.traceparent = field.value;
      }
      return;
    case 12:
      if (head.request_id.empty() && EqualsLowercase(name, "x-request-id")) {
        head.request_id = field.value;
      }
      return;
    case 10:
      if (!EqualsLowercase(name, "connection")) return;
      ForEachToken(field.value, [&](std::string_view token) {
        if (EqualsLowercase(token, "close")) {
          head.connection_close = true;
        } else if (EqualsLowercase(token, "keep-alive")) {
          head.connection_keep_alive = true;
        } else {
          head.has_connection_tokens = true;
          if (EqualsLowercase(token, "upgrade")) head.connection_upgrade = true;
        }
      });
      return;
    case 14:
      if (!EqualsLowercase(name, "content-length")) return;
      ++facts.content_lengths;
      if (!ParseLength(field.value, head.content_length)) facts.bad_length = true;
      return;
    case 17:
      if (!EqualsLowercase(name, "transfer-encoding")) return;
      ++facts.transfer_encodings;
      ForEachToken(field.value, [&](std::string_view token) {
        facts.chunked_last = EqualsLowercase(token, "chunked");
        if (facts.chunked_last) {
          ++facts.chunked_count;
        } else {
          facts.other_coding = true;
        }
      });
      return;
    default:
      return;
  }
}

// Parses the field lines in [pos, end) (end is just past the empty line). `request` says which
// limits' messages apply.
template <typename Head>
ParseResult ParseFields(std::string_view data, size_t pos, size_t end, const Limits& limits,
                        Head& head, FieldFacts& facts, std::string_view* host,
                        bool* expect_continue) {
  size_t max_headers = limits.max_headers < kMaxHeaders ? limits.max_headers : kMaxHeaders;
  head.raw_fields = data.substr(pos, end - 2 - pos);
  while (pos < end - 2) {  // the last two bytes are the empty line's CRLF
    char first = data[pos];
    if (first == ' ' || first == '\t') return Error(400, "obsolete line folding");
    size_t name_start = pos;
    while (Is(data[pos], kToken)) ++pos;
    if (data[pos] != ':') {
      return Error(400, pos == name_start ? "empty header name" : "bad header name");
    }
    Header field;
    field.name = data.substr(name_start, pos - name_start);
    if (field.name.empty()) return Error(400, "empty header name");
    ++pos;  // ':'
    while (data[pos] == ' ' || data[pos] == '\t') ++pos;
    size_t value_start = pos;
    pos = static_cast<size_t>(SkipFieldValue(data.data() + pos, data.data() + end) - data.data());
    if (data[pos] != '\r' || data[pos + 1] != '\n') return Error(400, "bad byte in header value");
    size_t value_end = pos;
    while (value_end > value_start && (data[value_end - 1] == ' ' || data[value_end - 1] == '\t')) {
      --value_end;
    }
    field.value = data.substr(value_start, value_end - value_start);
    pos += 2;
    if (head.header_count == max_headers) return Error(431, "too many header fields");
    head.headers[head.header_count++] = field;
    NoteField(field, head, facts, host, expect_continue);
  }
  return kComplete;
}

}  // namespace

bool IsIdempotent(Method method) {
  switch (method) {
    case Method::kGet:
    case Method::kHead:
    case Method::kOptions:
    case Method::kTrace:
    case Method::kPut:
    case Method::kDelete:
      return true;
    default:
      return false;
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

void HeadCommon::ResetFacts() {
  header_count = 0;
  head_size = 0;
  framing = Framing::kNone;
  content_length = 0;
  connection_close = false;
  connection_keep_alive = false;
  has_connection_tokens = false;
  connection_upgrade = false;
  upgrade = {};
  traceparent = {};
  request_id = {};
  raw_fields = {};
}

std::string_view HeadCommon::Find(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i) {
    if (EqualsIgnoreCase(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

Method MethodOf(std::string_view text) {
  switch (text.size()) {
    case 3:
      if (text == "GET") return Method::kGet;
      if (text == "PUT") return Method::kPut;
      break;
    case 4:
      if (text == "POST") return Method::kPost;
      if (text == "HEAD") return Method::kHead;
      break;
    case 5:
      if (text == "PATCH") return Method::kPatch;
      if (text == "TRACE") return Method::kTrace;
      break;
    case 6:
      if (text == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (text == "OPTIONS") return Method::kOptions;
      if (text == "CONNECT") return Method::kConnect;
      break;
    default:
      break;
  }
  return Method::kOther;
}

namespace {

// "HTTP/1.1" -> 1, "HTTP/1.0" -> 0; -2 for another well-formed version (505), -1 otherwise.
int ParseVersion(std::string_view text) {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || text[6] != '.') return -1;
  char major = text[5];
  char minor = text[7];
  if (major < '0' || major > '9' || minor < '0' || minor > '9') return -1;
  if (major != '1') return -2;
  return minor == '0' ? 0 : 1;  // 1.2 and later are read as 1.1 (RFC 9110 2.5)
}

}  // namespace

ParseResult ParseRequestHead(std::string_view data, const Limits& limits, RequestHead& out,
                             size_t& scanned) {
  size_t start = 0;
  while (data.size() - start >= 2 && data[start] == '\r' && data[start + 1] == '\n') start += 2;
  size_t end = FindHeadEnd(data, start, scanned);
  if (end == SIZE_MAX) return Error(400, "line not ended by CRLF");
  if (end == 0) return IncompleteOrTooLong(data, start, limits, true);
  if (end - start > limits.max_head) return Error(431, "request header fields too large");

  size_t line_end = data.find("\r\n", start);
  if (line_end - start > limits.max_request_line) return Error(414, "request line too long");
  size_t pos = start;
  while (Is(data[pos], kToken)) ++pos;
  if (pos == start || data[pos] != ' ') return Error(400, "bad method");
  out.method_text = data.substr(start, pos - start);
  out.method = MethodOf(out.method_text);
  size_t target_start = ++pos;
  while (Is(data[pos], kTarget)) ++pos;
  if (pos == target_start || data[pos] != ' ') return Error(400, "bad request target");
  out.target = data.substr(target_start, pos - target_start);
  int version = ParseVersion(data.substr(pos + 1, line_end - pos - 1));
  if (version == -2) return Error(505, "HTTP version not supported");
  if (version < 0) return Error(400, "bad HTTP version");
  out.minor_version = version;

  FieldFacts facts;
  out.ResetFacts();
  out.host = {};
  out.expect_continue = false;
  ParseResult fields =
      ParseFields(data, line_end + 2, end, limits, out, facts, &out.host, &out.expect_continue);
  if (fields.status != ParseStatus::kComplete) return fields;
  out.head_size = end;

  if (facts.hosts > 1) return Error(400, "more than one Host");
  if (facts.hosts == 0 && out.minor_version == 1) return Error(400, "missing Host");
  for (char c : out.host) {
    if (c == ' ' || c == '\t' || c == '/' || c == '@' || c == '\\') return Error(400, "bad Host");
  }
  if (facts.expect_other) return Error(417, "only Expect: 100-continue is supported");
  if (facts.transfer_encodings > 0) {
    if (facts.content_lengths > 0) return Error(400, "both Content-Length and Transfer-Encoding");
    if (out.minor_version == 0) return Error(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (facts.transfer_encodings > 1) return Error(400, "more than one Transfer-Encoding");
    if (!facts.chunked_last) return Error(400, "the final transfer coding is not chunked");
    if (facts.chunked_count > 1) return Error(400, "chunked applied more than once");
    if (facts.other_coding) return Error(501, "transfer codings other than chunked");
    out.framing = Framing::kChunked;
  } else if (facts.content_lengths > 0) {
    if (facts.content_lengths > 1) return Error(400, "more than one Content-Length");
    if (facts.bad_length) return Error(400, "bad Content-Length");
    out.framing = out.content_length > 0 ? Framing::kLength : Framing::kNone;
  } else {
    out.framing = Framing::kNone;
    out.content_length = 0;
  }
  return kComplete;
}

ParseResult ParseResponseHead(std::string_view data, const Limits& limits, Method request_method,
                              ResponseHead& out, size_t& scanned) {
  size_t end = FindHeadEnd(data, 0, scanned);
  if (end == SIZE_MAX) return Error(502, "line not ended by CRLF");
  if (end == 0) {
    return data.size() > limits.max_head ? Error(502, "response head too large") : kIncomplete;
  }
  if (end > limits.max_head) return Error(502, "response head too large");
  size_t line_end = data.find("\r\n");
  std::string_view line = data.substr(0, line_end);
  int version = ParseVersion(line.substr(0, 8));
  if (version < 0 || line.size() < 12 || line[8] != ' ') return Error(502, "bad status line");
  out.minor_version = version;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return Error(502, "bad status code");
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return Error(502, "bad status code");
  out.status = status;
  if (line.size() > 12 && line[12] != ' ') return Error(502, "bad status line");
  out.reason = line.size() > 13 ? line.substr(13) : std::string_view();
  out.status_line = line;
  for (char c : out.reason) {
    if (!Is(c, kFieldValue)) return Error(502, "bad byte in reason phrase");
  }

  FieldFacts facts;
  out.ResetFacts();
  ParseResult fields = ParseFields(data, line_end + 2, end, limits, out, facts, nullptr, nullptr);
  if (fields.status != ParseStatus::kComplete) return Error(502, fields.error);
  out.head_size = end;

  bool bodiless = request_method == Method::kHead || status < 200 || status == 204 || status == 304;
  if (facts.transfer_encodings > 0 && facts.content_lengths > 0) {
    return Error(502, "both Content-Length and Transfer-Encoding");
  }
  if (facts.content_lengths > 1) return Error(502, "more than one Content-Length");
  if (facts.chunked_count > 1) return Error(502, "chunked applied more than once");
  if (facts.bad_length) return Error(502, "bad Content-Length");
  if (bodiless) {
    out.framing = Framing::kNone;
  } else if (facts.transfer_encodings > 0) {
    // chunked last: delimited by chunks; any other coding last: by the end of the connection.
    out.framing = facts.chunked_last ? Framing::kChunked : Framing::kUntilClose;
  } else if (facts.content_lengths == 1) {
    out.framing = out.content_length > 0 ? Framing::kLength : Framing::kNone;
  } else {
    out.framing = Framing::kUntilClose;
  }
  return kComplete;
}

}  // namespace gantry::http::h1
