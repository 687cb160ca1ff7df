// Beast glue shared by the API server, the clients and the proxy. Include only from .cc files.
#pragma once

#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"
#include "core/address.h"
#include "core/duration.h"
#include "http/message.h"
#include "net/asio.h"

namespace gantry::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

inline constexpr size_t kMaxHeaderBytes = size_t{16} * 1024;
inline constexpr size_t kMaxBodyBytes = size_t{8} * 1024 * 1024;

// What to answer when reading a request failed: 400 (malformed), 413 (body too large),
// 431 (headers too large); nullopt when the peer went away or timed out (just close).
std::optional<int> StatusForReadError(const beast::error_code& ec);

Request ToPlain(const BeastRequest& request);
BeastResponse ToBeast(const Response& response, unsigned version, bool keep_alive);

// Reads one request with gantry's limits.
net::Awaitable<beast::error_code> ReadRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              BeastRequest& out);

// Connects `stream` to `target` under a deadline of `timeout` from now, which stays set for
// whatever the caller does next on the stream. The error's message says what went wrong.
net::Awaitable<absl::Status> ConnectWithin(beast::tcp_stream& stream, const HostPort& target,
                                           Duration timeout);

// "timed out after 1s" for a stream deadline, else the error's own message.
std::string DescribeNetError(const beast::error_code& ec, Duration timeout);

// Writes a JSON error (status from StatusForReadError) and does not keep the connection.
net::Awaitable<void> WriteErrorAndClose(beast::tcp_stream& stream, int status);

}  // namespace gantry::http
