#include "http/beast.h"

#include <chrono>

#include <fmt/format.h>

#include <boost/asio/write.hpp>

#include "net/listen.h"

namespace gantry::http {

std::optional<int> StatusForReadError(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) return 400;
  return std::nullopt;
}

Request ToPlain(const BeastRequest& request) {
  Request out;
  out.method = std::string(request.method_string());
  out.target = std::string(request.target());
  for (const auto& field : request) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = request.body();
  return out;
}

BeastResponse ToBeast(const Response& response, unsigned version, bool keep_alive) {
  BeastResponse out{static_cast<bhttp::status>(response.status), version};
  for (const auto& [name, value] : response.headers) out.insert(name, value);
  out.body() = response.body;
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return out;
}

net::Awaitable<beast::error_code> ReadRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              BeastRequest& out) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  auto [ec, bytes] = co_await bhttp::async_read_header(stream, buffer, parser, net::kUseTuple);
  if (ec) co_return ec;
  // A client that waits for "100 Continue" before sending its body gets it now, not after
  // a timeout of its own.
  if (!parser.is_done() && beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    std::tie(ec, bytes) = co_await net::asio::async_write(
        stream, net::asio::buffer(kContinue.data(), kContinue.size()), net::kUseTuple);
    if (ec) co_return ec;
  }
  if (!parser.is_done()) {
    std::tie(ec, bytes) = co_await bhttp::async_read(stream, buffer, parser, net::kUseTuple);
    if (ec) co_return ec;
  }
  out = parser.release();
  co_return ec;
}

net::Awaitable<void> WriteErrorAndClose(beast::tcp_stream& stream, int status) {
  const char* code = status == 413   ? "body_too_large"
                     : status == 431 ? "headers_too_large"
                                     : "bad_request";
  const char* message = status == 413   ? "request body too large"
                        : status == 431 ? "request headers too large"
                                        : "malformed HTTP request";
  BeastResponse response = ToBeast(JsonError(status, code, message), 11, false);
  stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, response, net::kUseTuple);
  beast::error_code ignored;
  stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}

std::string DescribeNetError(const beast::error_code& ec, Duration timeout) {
  if (ec == beast::error::timeout)
    return fmt::format("timed out after {}", FormatDuration(timeout));
  return ec.message();
}

net::Awaitable<absl::Status> ConnectWithin(beast::tcp_stream& stream, const HostPort& target,
                                           Duration timeout) {
  auto endpoint = net::ToEndpoint(target);
  if (!endpoint.ok()) co_return endpoint.status();
  stream.expires_after(timeout);
  auto [ec] = co_await stream.async_connect(*endpoint, net::kUseTuple);
  if (ec) co_return absl::UnavailableError(DescribeNetError(ec, timeout));
  co_return absl::OkStatus();
}

}  // namespace gantry::http
