// The gRPC health probe: one grpc.health.v1.Health/Check call over cleartext HTTP/2 (h2c with
// prior knowledge, as gRPC servers without TLS accept). nghttp2 stays behind this header.
#pragma once

#include <string>

#include "core/address.h"
#include "core/duration.h"
#include "http/client.h"

namespace gantry::http {

// Healthy when the call succeeds (grpc-status 0) and answers SERVING; `service` "" asks about
// the server as a whole. The output names the outcome: "SERVING", "NOT_SERVING",
// "grpc-status 12: ...", "connect: ...", "timed out after 1s".
void ProbeGrpc(boost::asio::io_context& io, HostPort target, std::string service, Duration timeout,
               ProbeCallback done);

}  // namespace gantry::http
