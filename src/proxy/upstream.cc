#include "proxy/upstream.h"

#include <sys/socket.h>

#include <cerrno>
#include <unordered_set>

#include <fmt/format.h>

#include "net/listen.h"

namespace gantry::proxy {

namespace bhttp = http::bhttp;
using http::beast::error_code;

namespace {
// An idle keep-alive connection is reusable only while the replica has neither closed it (EOF)
// nor sent anything unasked: one non-blocking peek, no waiting.
bool StillIdle(UpstreamConnection& connection) {
  char byte;
  ssize_t n = ::recv(connection.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool Idempotent(bhttp::verb method) {
  switch (method) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
    case bhttp::verb::trace:
      return true;
    default:
      return false;
  }
}

UpstreamResult Failed(UpstreamFailure failure, const Endpoint& endpoint, const error_code& ec) {
  UpstreamResult result;
  result.failure = ec == http::beast::error::timeout ? UpstreamFailure::kTimeout : failure;
  result.detail = fmt::format("{} ({}): {}", endpoint.instance_id, endpoint.key, ec.message());
  return result;
}

UpstreamResult Failed(UpstreamFailure failure, const Endpoint& endpoint, std::string_view why) {
  return UpstreamResult{
      failure, fmt::format("{} ({}): {}", endpoint.instance_id, endpoint.key, why), {}};
}
}  // namespace

std::unique_ptr<UpstreamConnection> UpstreamPool::TakeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  while (!it->second.empty()) {
    auto connection = std::move(it->second.back());
    it->second.pop_back();
    if (StillIdle(*connection)) return connection;
  }
  return nullptr;
}

void UpstreamPool::GiveBack(const std::string& key,
                            std::unique_ptr<UpstreamConnection> connection) {
  auto& idle = idle_[key];
  if (idle.size() < kMaxIdlePerEndpoint) idle.push_back(std::move(connection));
}

void UpstreamPool::RetainOnly(const Snapshot& snapshot) {
  std::unordered_set<std::string> live;
  for (const Cluster& cluster : snapshot.clusters) {
    for (const Endpoint& endpoint : cluster.endpoints) live.insert(endpoint.key);
  }
  std::erase_if(idle_, [&](const auto& entry) { return !live.count(entry.first); });
}

net::Awaitable<UpstreamResult> Exchange(UpstreamPool& pool, const Endpoint& endpoint,
                                        http::BeastRequest& request, UpstreamTimeouts timeouts) {
  auto executor = co_await net::asio::this_coro::executor;
  bool head = request.method() == bhttp::verb::head;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // A retry always dials: the pool may hold more connections the replica closed.
    std::unique_ptr<UpstreamConnection> connection =
        attempt == 0 ? pool.TakeIdle(endpoint.key) : nullptr;
    bool reused = connection != nullptr;
    if (!connection) {
      auto address = net::ToEndpoint(endpoint.address);
      if (!address.ok()) co_return Failed(UpstreamFailure::kConnect, endpoint, "bad address");
      connection = std::make_unique<UpstreamConnection>(executor);
      connection->stream.expires_after(timeouts.connect);
      auto [ec] = co_await connection->stream.async_connect(*address, net::kUseTuple);
      if (ec) co_return Failed(UpstreamFailure::kConnect, endpoint, ec);
      connection->stream.socket().set_option(net::tcp::no_delay(true));
    }
    // Replaying on a fresh connection is safe when the replica cannot have acted on the
    // request: it closed a kept-alive connection before answering, and the method is idempotent.
    bool may_replay = reused && Idempotent(request.method());
    connection->stream.expires_after(timeouts.request);
    auto [write_ec, written] =
        co_await bhttp::async_write(connection->stream, request, net::kUseTuple);
    if (write_ec) {
      if (may_replay) continue;
      co_return Failed(UpstreamFailure::kReset, endpoint, write_ec);
    }
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    bool replay = false;
    for (;;) {  // interim 1xx responses come before the final one: read past them
      parser.emplace();
      parser->header_limit(http::kMaxHeaderBytes);
      parser->body_limit(http::kMaxBodyBytes);
      if (head) parser->skip(true);
      auto [read_ec, read] = co_await bhttp::async_read(connection->stream, connection->buffer,
                                                        *parser, net::kUseTuple);
      if (read_ec) {
        replay = may_replay && !parser->got_some() && read_ec != http::beast::error::timeout;
        if (replay) break;
        bool protocol_error = http::StatusForReadError(read_ec).has_value();
        co_return Failed(protocol_error ? UpstreamFailure::kBadResponse : UpstreamFailure::kReset,
                         endpoint, read_ec);
      }
      unsigned status = parser->get().result_int();
      if (status == 101) {  // gantry never asks for an upgrade
        co_return Failed(UpstreamFailure::kBadResponse, endpoint,
                         "unrequested 101 Switching Protocols");
      }
      if (status >= 200 || status < 100) break;
    }
    if (replay) continue;
    UpstreamResult result;
    result.response = parser->release();
    // Bytes past the response (say, a body sent for HEAD) would corrupt the next exchange.
    bool clean = connection->buffer.size() == 0 && !head;
    if (result.response.keep_alive() && clean) {
      connection->stream.expires_never();
      pool.GiveBack(endpoint.key, std::move(connection));
    }
    co_return result;
  }
  co_return Failed(UpstreamFailure::kReset, endpoint,
                   "connection closed before the response, twice");
}

}  // namespace gantry::proxy
