#include "proxy/rewrite.h"

#include <fmt/format.h>

#include "http/message.h"

namespace gantry::proxy {
namespace {

using http::h1::EqualsIgnoreCase;
using http::h1::Header;

// Fields that describe one hop (RFC 9110 7.6.1), plus the ones gantry writes itself.
bool IsHopByHop(std::string_view name) {
  switch (name.size()) {
    case 2:
      return EqualsIgnoreCase(name, "te");
    case 7:
      return EqualsIgnoreCase(name, "trailer") || EqualsIgnoreCase(name, "upgrade");
    case 10:
      return EqualsIgnoreCase(name, "connection") || EqualsIgnoreCase(name, "keep-alive");
    case 16:
      return EqualsIgnoreCase(name, "proxy-connection");
    case 17:
      return EqualsIgnoreCase(name, "transfer-encoding");
    case 19:
      return EqualsIgnoreCase(name, "proxy-authorization");
    default:
      return false;
  }
}

// Whether `name` is one of the tokens of the Connection field (so hop-by-hop too).
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
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

void AppendUpstreamHead(const UpstreamHeadInput& in, std::string& out) {
  const http::h1::RequestHead& head = *in.head;
  out.append(head.method_text);
  out.push_back(' ');
  out.append(in.target);
  out.append(" HTTP/1.1\r\nHost: ");
  out.append(in.host);
  out.append("\r\n");
  std::string_view forwarded_for;
  bool has_request_id = false;
  for (size_t i = 0; i < head.header_count; ++i) {
    const Header& field = head.headers[i];
    std::string_view name = field.name;
    switch (name.size()) {
      case 4:
        if (EqualsIgnoreCase(name, "host")) continue;
        break;
      case 6:
        if (EqualsIgnoreCase(name, "expect")) continue;  // gantry answered 100 itself
        break;
      case 12:
        if (EqualsIgnoreCase(name, "x-request-id")) has_request_id = !field.value.empty();
        break;
      case 14:
        if (EqualsIgnoreCase(name, "content-length")) continue;  // the caller frames the body
        break;
      case 15:
        if (EqualsIgnoreCase(name, "x-forwarded-for")) {
          forwarded_for = field.value;
          continue;
        }
        break;
      case 17:
        if (in.edge && EqualsIgnoreCase(name, "x-forwarded-proto")) continue;
        break;
      case 19:  // the caller's deadline: gantry sends what is left of it instead
        if (EqualsIgnoreCase(name, "x-gantry-timeout-ms")) continue;
        break;
      default:
        break;
    }
    if (IsHopByHop(name) || NamedByConnection(head, name)) continue;
    out.append(name);
    out.append(": ");
    out.append(field.value);
    out.append("\r\n");
  }
  out.append("X-Forwarded-For: ");
  if (!forwarded_for.empty()) {
    out.append(forwarded_for);
    out.append(", ");
  }
  out.append(in.client_ip);
  out.append("\r\n");
  if (in.edge) out.append("X-Forwarded-Proto: http\r\n");
  if (!has_request_id && !in.request_id.empty()) AppendField(out, "X-Request-Id", in.request_id);
}

void AppendDownstreamHead(const DownstreamHeadInput& in, std::string& out) {
  const http::h1::ResponseHead& head = *in.head;
  out.append("HTTP/1.1");
  out.append(in.status_line.substr(8));  // " 200 OK": the status as the upstream said it
  out.append("\r\n");
  for (size_t i = 0; i < head.header_count; ++i) {
    const Header& field = head.headers[i];
    if (IsHopByHop(field.name)) {
      // Chunked framing passes through to HTTP/1.1 clients unchanged.
      bool keep = !in.drop_transfer_encoding && field.name.size() == 17 &&
                  EqualsIgnoreCase(field.name, "transfer-encoding");
      if (!keep) continue;
    } else if (NamedByConnection(head, field.name)) {
      continue;
    }
    out.append(field.name);
    out.append(": ");
    out.append(field.value);
    out.append("\r\n");
  }
  if (in.close) {
    out.append("Connection: close\r\n");
  } else if (in.keep_alive_header) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void AppendErrorResponse(int status, std::string_view code, std::string_view message, bool close,
                         bool head_request, std::string& out, std::string_view extra_fields) {
  std::string body = fmt::format("{{\"error\": \"{}\", \"code\": \"{}\"}}\n",
                                 http::JsonEscape(message), http::JsonEscape(code));
  fmt::format_to(std::back_inserter(out),
                 "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}{}"
                 "\r\n",
                 status, ReasonPhrase(status), body.size(), extra_fields,
                 close ? "Connection: close\r\n" : "");
  if (!head_request) out.append(body);
}

}  // namespace gantry::proxy
