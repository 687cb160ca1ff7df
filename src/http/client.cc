#include "http/client.h"

#include <fmt/format.h>

#include "core/status.h"
#include "http/beast.h"
#include "net/listen.h"

namespace gantry::http {
namespace {

std::string Describe(const beast::error_code& ec, Duration timeout) {
  if (ec == beast::error::timeout)
    return fmt::format("timed out after {}", FormatDuration(timeout));
  return ec.message();
}

net::Awaitable<void> FetchOnce(HostPort server, Request request, Duration timeout,
                               std::shared_ptr<absl::StatusOr<Response>> result) {
  auto executor = co_await net::asio::this_coro::executor;
  auto endpoint = net::ToEndpoint(server);
  if (!endpoint.ok()) {
    *result = endpoint.status();
    co_return;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  auto [connect_ec] = co_await stream.async_connect(*endpoint, net::kUseTuple);
  if (connect_ec) {
    *result = absl::UnavailableError(
        fmt::format("cannot connect to {}: {}", server.ToString(), Describe(connect_ec, timeout)));
    co_return;
  }
  BeastRequest out{bhttp::string_to_verb(request.method), request.target, 11};
  out.set(bhttp::field::host, server.ToString());
  for (const auto& [name, value] : request.headers) out.set(name, value);
  out.body() = request.body;
  out.keep_alive(false);
  out.prepare_payload();
  auto [write_ec, written] = co_await bhttp::async_write(stream, out, net::kUseTuple);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxBodyBytes * 8);
  beast::error_code read_ec = write_ec;
  if (!read_ec)
    std::tie(read_ec, written) = co_await bhttp::async_read(stream, buffer, parser, net::kUseTuple);
  if (read_ec) {
    *result = absl::UnavailableError(
        fmt::format("request to {} failed: {}", server.ToString(), Describe(read_ec, timeout)));
    co_return;
  }
  Response response;
  response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(parser.get().body());
  *result = std::move(response);
}

net::Awaitable<void> RunProbe(HostPort target, std::string path, Duration timeout,
                              ProbeCallback done) {
  auto executor = co_await net::asio::this_coro::executor;
  auto endpoint = net::ToEndpoint(target);
  if (!endpoint.ok()) {
    done({false, std::string(StatusMessage(endpoint.status()))});
    co_return;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  auto [connect_ec] = co_await stream.async_connect(*endpoint, net::kUseTuple);
  if (connect_ec) {
    done({false, "connect: " + Describe(connect_ec, timeout)});
    co_return;
  }
  if (path.empty()) {  // a TCP probe ends here
    done({true, "connected"});
    co_return;
  }
  BeastRequest request{bhttp::verb::get, path, 11};
  request.set(bhttp::field::host, target.ToString());
  request.set(bhttp::field::user_agent, "gantry-health");
  request.keep_alive(false);
  auto [write_ec, written] = co_await bhttp::async_write(stream, request, net::kUseTuple);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::empty_body> parser;
  beast::error_code read_ec = write_ec;
  if (!read_ec)
    std::tie(read_ec, written) =
        co_await bhttp::async_read_header(stream, buffer, parser, net::kUseTuple);
  if (read_ec) {
    done({false, "GET " + path + ": " + Describe(read_ec, timeout)});
    co_return;
  }
  unsigned status = parser.get().result_int();
  done({status >= 200 && status < 400, fmt::format("HTTP {}", status)});
}

}  // namespace

absl::StatusOr<Response> Fetch(const HostPort& server, const Request& request, Duration timeout) {
  net::asio::io_context io;
  auto result = std::make_shared<absl::StatusOr<Response>>(absl::UnknownError("no answer"));
  net::asio::co_spawn(io, FetchOnce(server, request, timeout, result), net::asio::detached);
  io.run();
  return std::move(*result);
}

void ProbeHttp(net::asio::io_context& io, HostPort target, std::string path, Duration timeout,
               ProbeCallback done) {
  if (path.empty()) path = "/";
  net::asio::co_spawn(io, RunProbe(std::move(target), std::move(path), timeout, std::move(done)),
                      net::asio::detached);
}

void ProbeTcp(net::asio::io_context& io, HostPort target, Duration timeout, ProbeCallback done) {
  net::asio::co_spawn(io, RunProbe(std::move(target), "", timeout, std::move(done)),
                      net::asio::detached);
}

}  // namespace gantry::http
