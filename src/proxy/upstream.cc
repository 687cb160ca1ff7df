#include "proxy/upstream.h"

#include <fmt/format.h>

#include "net/listen.h"

namespace gantry::proxy {

namespace bhttp = http::bhttp;
using http::beast::error_code;

std::unique_ptr<UpstreamConnection> UpstreamPool::TakeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  auto connection = std::move(it->second.back());
  it->second.pop_back();
  return connection;
}

void UpstreamPool::GiveBack(const std::string& key,
                            std::unique_ptr<UpstreamConnection> connection) {
  auto& idle = idle_[key];
  if (idle.size() < kMaxIdlePerEndpoint) idle.push_back(std::move(connection));
}

namespace {
UpstreamResult Failed(UpstreamFailure failure, const Endpoint& endpoint, const error_code& ec) {
  UpstreamResult result;
  result.failure = ec == http::beast::error::timeout ? UpstreamFailure::kTimeout : failure;
  result.detail = fmt::format("{} ({}): {}", endpoint.instance_id, endpoint.key, ec.message());
  return result;
}
}  // namespace

net::Awaitable<UpstreamResult> Exchange(UpstreamPool& pool, const Endpoint& endpoint,
                                        http::BeastRequest& request, UpstreamTimeouts timeouts) {
  auto executor = co_await net::asio::this_coro::executor;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<UpstreamConnection> connection = pool.TakeIdle(endpoint.key);
    bool reused = connection != nullptr;
    if (!connection) {
      auto address = net::ToEndpoint(endpoint.address);
      if (!address.ok()) co_return UpstreamResult{UpstreamFailure::kConnect, endpoint.key, {}};
      connection = std::make_unique<UpstreamConnection>(executor);
      connection->stream.expires_after(timeouts.connect);
      auto [ec] = co_await connection->stream.async_connect(*address, net::kUseTuple);
      if (ec) co_return Failed(UpstreamFailure::kConnect, endpoint, ec);
      connection->stream.socket().set_option(net::tcp::no_delay(true));
    }
    connection->stream.expires_after(timeouts.request);
    auto [write_ec, written] =
        co_await bhttp::async_write(connection->stream, request, net::kUseTuple);
    if (write_ec) {
      if (reused) continue;
      co_return Failed(UpstreamFailure::kReset, endpoint, write_ec);
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(http::kMaxHeaderBytes);
    parser.body_limit(http::kMaxBodyBytes);
    if (request.method() == bhttp::verb::head) parser.skip(true);
    auto [read_ec, read] =
        co_await bhttp::async_read(connection->stream, connection->buffer, parser, net::kUseTuple);
    if (read_ec) {
      // A kept-alive connection the replica had already closed: it never saw this request.
      if (reused && !parser.got_some() && read_ec != http::beast::error::timeout) continue;
      bool protocol_error = http::StatusForReadError(read_ec).has_value();
      co_return Failed(protocol_error ? UpstreamFailure::kBadResponse : UpstreamFailure::kReset,
                       endpoint, read_ec);
    }
    UpstreamResult result;
    result.response = parser.release();
    // Bytes past the response (say, a body sent for HEAD) would corrupt the next exchange.
    bool clean = connection->buffer.size() == 0 && request.method() != bhttp::verb::head;
    if (result.response.keep_alive() && clean) {
      connection->stream.expires_never();
      pool.GiveBack(endpoint.key, std::move(connection));
    }
    co_return result;
  }
  co_return UpstreamResult{UpstreamFailure::kReset, endpoint.key + ": connection closed twice", {}};
}

}  // namespace gantry::proxy
