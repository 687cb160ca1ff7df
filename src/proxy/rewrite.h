// How a message's head changes as it crosses gantry (RFC 9110 7.6): hop-by-hop fields and the
// fields Connection names are dropped, framing is gantry's own, and the forwarding fields are
// added. Pure functions writing into a caller's string. Data-plane helpers, internal to proxy/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "http/h1_head.h"

namespace gantry::proxy {

// Fields that describe one hop (RFC 9110 7.6.1), plus the ones gantry writes itself.
bool IsHopByHop(std::string_view name);
// Whether `name` is one of the tokens of the Connection field (so hop-by-hop too).
bool NamedByConnection(const http::h1::HeadCommon& head, std::string_view name);

// The value of a caller's X-Gantry-Timeout-Ms (its remaining time, 1 to 12 decimal digits), or
// -1 when it is absent or malformed.
int64_t ParseCallerTimeoutMs(std::string_view value);

struct UpstreamHeadInput {
  const http::h1::RequestHead* head = nullptr;
  std::string_view target;      // after absolute-form and strip_prefix rewriting
  std::string_view host;        // the authority to send as Host
  std::string_view client_ip;   // appended to X-Forwarded-For
  bool edge = false;            // the gateway: X-Forwarded-Proto is set, not trusted
  bool tls = false;             // ... to https
  std::string_view request_id;  // sent as X-Request-Id when the request has none
  // When set, the whole "traceparent: ...\r\n" line that replaces the request's traceparent.
  std::string_view traceparent_line;
};

// Appends the request line and fields for the upstream, without the empty line and without
// Content-Length (the caller frames the body).
void AppendUpstreamHead(const UpstreamHeadInput& in, std::string& out);

struct DownstreamHeadInput {
  const http::h1::ResponseHead* head = nullptr;
  bool close = false;                   // gantry closes the client connection after this response
  bool keep_alive_header = false;       // an HTTP/1.0 client kept alive: say so
  bool drop_transfer_encoding = false;  // the body is de-chunked for an HTTP/1.0 client
  bool keep_upgrade = false;            // a 101 for a WebSocket: Connection and Upgrade go through
};

// Appends the whole response head for the client, empty line included.
void AppendDownstreamHead(const DownstreamHeadInput& in, std::string& out);

// A complete JSON error answer of gantry's own ({"error", "code"}); no body for HEAD.
// `extra_fields` are whole field lines ("Retry-After: 1\r\n").
void AppendErrorResponse(int status, std::string_view code, std::string_view message, bool close,
                         bool head_request, std::string& out, std::string_view extra_fields = {});

}  // namespace gantry::proxy
