// HTTP/1.1 client calls for the control plane and the CLI (not the data plane: the proxy keeps
// its own pooled connections).
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "core/duration.h"
#include "http/message.h"

namespace boost::asio {
class io_context;
}

namespace gantry::http {

// One request on a new connection, blocking the calling thread (it runs its own io_context).
absl::StatusOr<Response> Fetch(const HostPort& server, const Request& request, Duration timeout);

// The same on `io`, without blocking: `done` is called there exactly once. A "Host" in
// `request.headers` replaces the server's address (to reach a service through the mesh).
void FetchAsync(boost::asio::io_context& io, HostPort server, Request request, Duration timeout,
                std::function<void(absl::StatusOr<Response>)> done);

// A request whose response body is handed over as it arrives (Server-Sent Events, a followed
// log), blocking the calling thread: `on_data` gets each piece; returning false stops reading.
// A 2xx answer returns its status and headers once the body ended or `on_data` stopped; any
// other answer returns whole, body included. `connect_timeout` bounds the connection and the
// response head, not the body.
absl::StatusOr<Response> FetchStreaming(const HostPort& server, const Request& request,
                                        Duration connect_timeout,
                                        const std::function<bool(std::string_view)>& on_data);

struct ProbeResult {
  bool healthy = false;
  std::string output;  // "HTTP 200", "connect: Connection refused", "timed out after 1s"
};
using ProbeCallback = std::function<void(ProbeResult)>;

// Health probes, run on `io`; `done` is called there exactly once.
// HTTP: GET path, healthy on 2xx and 3xx.
void ProbeHttp(boost::asio::io_context& io, HostPort target, std::string path, Duration timeout,
               ProbeCallback done);
// TCP: healthy when a connection is accepted.
void ProbeTcp(boost::asio::io_context& io, HostPort target, Duration timeout, ProbeCallback done);

}  // namespace gantry::http
