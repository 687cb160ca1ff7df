#include "proxy/rewrite.h"

#include <cstring>

#include <fmt/format.h>

#include "http/message.h"

namespace gantry::proxy {
using http::h1::EqualsIgnoreCase;
using http::h1::EqualsLowercase;
using http::h1::Header;

bool IsHopByHop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return EqualsLowercase(name, "te");
    case 7:
      return EqualsLowercase(name, "trailer") || EqualsLowercase(name, "upgrade");
    case 10:
      return EqualsLowercase(name, "connection") || EqualsLowercase(name, "keep-alive");
    case 16:
      return EqualsLowercase(name, "proxy-connection");
    case 17:
      return EqualsLowercase(name, "transfer-encoding");
    case 19:
      return EqualsLowercase(name, "proxy-authorization");
    default:
      return false;
  }
}

bool NamedByConnection(const http::h1::HeadCommon& head, std::string_view name) {
  if (!head.has_connection_tokens) return false;
  bool named = false;
  for (size_t i = 0; i < head.header_count && !named; ++i) {
    if (!EqualsIgnoreCase(head.headers[i].name, "connection")) continue;
    http::h1::ForEachToken(head.headers[i].value, [&](std::string_view token) {
      if (EqualsIgnoreCase(token, name) && !EqualsIgnoreCase(token, "host")) named = true;
    });
  }
  return named;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  // One growth and two copies: four appends cost twice as many instructions per request.
  size_t at = out.size();
  out.resize(at + name.size() + value.size() + 4);
  char* p = out.data() + at;
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  std::memcpy(p, ": ", 2);
  p += 2;
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  p += value.size();
  std::memcpy(p, "\r\n", 2);
}

namespace {

// Copies kept field lines in runs: consecutive lines are contiguous in the received head, so
// a run of them is one append however many fields it holds.
class LineCopier {
 public:
  LineCopier(const http::h1::HeadCommon& head, std::string& out) : head_(head), out_(out) {}
  void Keep(size_t i) {
    if (!run_) run_ = head_.headers[i].name.data();
    run_end_ = LineEnd(i);
  }
  void Drop() {
    if (run_) out_.append(run_, static_cast<size_t>(run_end_ - run_));
    run_ = nullptr;
  }
  ~LineCopier() { Drop(); }

 private:
  const char* LineEnd(size_t i) const {
    return i + 1 < head_.header_count ? head_.headers[i + 1].name.data()
                                      : head_.raw_fields.data() + head_.raw_fields.size();
  }
  const http::h1::HeadCommon& head_;
  std::string& out_;
  const char* run_ = nullptr;
  const char* run_end_ = nullptr;
};

}  // namespace

void AppendUpstreamHead(const UpstreamHeadInput& in, std::string& out) {
  using namespace std::string_view_literals;
  const http::h1::RequestHead& head = *in.head;
  out.append(head.method_text);
  out.push_back(' ');
  out.append(in.target);
  out.append(" HTTP/1.1\r\nHost: "sv);
  out.append(in.host);
  out.append("\r\n"sv);
  std::string_view forwarded_for;
  bool has_request_id = false;
  {
    LineCopier lines(head, out);
    for (size_t i = 0; i < head.header_count; ++i) {
      const Header& field = head.headers[i];
      std::string_view name = field.name;
      bool drop = false;
      switch (name.size()) {
        case 4:
          drop = EqualsLowercase(name, "host");
          break;
        case 6:
          drop = EqualsLowercase(name, "expect");  // gantry answered 100 itself
          break;
        case 12:
          if (EqualsLowercase(name, "x-request-id")) has_request_id = !field.value.empty();
          break;
        case 14:
          drop = EqualsLowercase(name, "content-length");  // the caller frames the body
          break;
        case 15:
          if (EqualsLowercase(name, "x-forwarded-for")) {
            forwarded_for = field.value;
            drop = true;
          }
          break;
        case 11:  // ours replaces the caller's: the same trace, this hop's span as the parent
          drop = !in.traceparent_line.empty() && EqualsLowercase(name, "traceparent");
          break;
        case 17:
          drop = in.edge && EqualsLowercase(name, "x-forwarded-proto");
          break;
        case 19:  // the caller's deadline: gantry sends what is left of it instead
          drop = EqualsLowercase(name, "x-gantry-timeout-ms");
          break;
        default:
          break;
      }
      if (drop || IsHopByHop(name) || NamedByConnection(head, name)) {
        lines.Drop();
      } else {
        lines.Keep(i);
      }
    }
  }
  out.append("X-Forwarded-For: "sv);
  if (!forwarded_for.empty()) {
    out.append(forwarded_for);
    out.append(", "sv);
  }
  out.append(in.client_ip);
  out.append("\r\n"sv);
  if (in.edge)
    out.append(in.tls ? "X-Forwarded-Proto: https\r\n"sv : "X-Forwarded-Proto: http\r\n"sv);
  if (!has_request_id && !in.request_id.empty()) AppendField(out, "X-Request-Id", in.request_id);
  out.append(in.traceparent_line);
}

void AppendDownstreamHead(const DownstreamHeadInput& in, std::string& out) {
  using namespace std::string_view_literals;
  const http::h1::ResponseHead& head = *in.head;
  out.append("HTTP/1.1"sv);
  out.append(head.status_line.substr(8));  // " 200 OK": the status as the upstream said it
  out.append("\r\n"sv);
  {
    LineCopier lines(head, out);
    for (size_t i = 0; i < head.header_count; ++i) {
      const Header& field = head.headers[i];
      bool drop;
      if (in.keep_upgrade &&
          (EqualsLowercase(field.name, "connection") || EqualsLowercase(field.name, "upgrade"))) {
        drop = false;
      } else if (IsHopByHop(field.name)) {
        // Chunked framing passes through to HTTP/1.1 clients unchanged.
        drop = in.drop_transfer_encoding || !EqualsLowercase(field.name, "transfer-encoding");
      } else {
        drop = NamedByConnection(head, field.name);
      }
      if (drop) {
        lines.Drop();
      } else {
        lines.Keep(i);
      }
    }
  }
  if (in.close) {
    out.append("Connection: close\r\n"sv);
  } else if (in.keep_alive_header) {
    out.append("Connection: keep-alive\r\n"sv);
  }
  out.append("\r\n"sv);
}

int64_t ParseCallerTimeoutMs(std::string_view text) {
  if (text.empty() || text.size() > 12) return -1;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

void AppendErrorResponse(int status, std::string_view code, std::string_view message, bool close,
                         bool head_request, std::string& out, std::string_view extra_fields) {
  std::string body = fmt::format("{{\"error\": \"{}\", \"code\": \"{}\"}}\n",
                                 http::JsonEscape(message), http::JsonEscape(code));
  fmt::format_to(std::back_inserter(out),
                 "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}{}"
                 "\r\n",
                 status, http::ReasonPhrase(status), body.size(), extra_fields,
                 close ? "Connection: close\r\n" : "");
  if (!head_request) out.append(body);
}

}  // namespace gantry::proxy
