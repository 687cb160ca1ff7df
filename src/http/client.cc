#include "http/client.h"

#include <fmt/format.h>

#include "core/status.h"
#include "http/beast.h"
#include "net/listen.h"

namespace gantry::http {
namespace {

net::Awaitable<void> FetchOnce(HostPort server, Request request, Duration timeout,
                               std::shared_ptr<absl::StatusOr<Response>> result) {
  beast::tcp_stream stream(co_await net::asio::this_coro::executor);
  if (auto status = co_await ConnectWithin(stream, server, timeout); !status.ok()) {
    *result = absl::UnavailableError(
        fmt::format("cannot connect to {}: {}", server.ToString(), StatusMessage(status)));
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
    *result = absl::UnavailableError(fmt::format("request to {} failed: {}", server.ToString(),
                                                 DescribeNetError(read_ec, timeout)));
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
  beast::tcp_stream stream(co_await net::asio::this_coro::executor);
  if (auto status = co_await ConnectWithin(stream, target, timeout); !status.ok()) {
    done({false, "connect: " + std::string(StatusMessage(status))});
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
    done({false, "GET " + path + ": " + DescribeNetError(read_ec, timeout)});
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

void FetchAsync(net::asio::io_context& io, HostPort server, Request request, Duration timeout,
                std::function<void(absl::StatusOr<Response>)> done) {
  auto result = std::make_shared<absl::StatusOr<Response>>(absl::UnknownError("no answer"));
  net::asio::co_spawn(
      io, FetchOnce(std::move(server), std::move(request), timeout, result),
      [result, done = std::move(done)](std::exception_ptr) { done(std::move(*result)); });
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
