#include "http/pooled_client.h"

#include <array>

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "core/status.h"
#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "net/listen.h"

namespace gantry::http {

namespace {
constexpr size_t kMaxResponseBytes = size_t{64} * 1024 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
const h1::Limits kLimits{.max_request_line = 8 * 1024, .max_head = 64 * 1024, .max_headers = 100};

struct Connection {
  explicit Connection(net::asio::any_io_executor executor) : socket(std::move(executor)) {}
  net::tcp::socket socket;
  std::string buffer;
  std::array<char, kReadChunk> scratch;
};

std::string Serialize(const Request& request, const HostPort& server) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", request.method, request.target);
  if (request.Header("Host").empty()) out += fmt::format("Host: {}\r\n", server.ToString());
  for (const auto& [name, value] : request.headers) {
    if (h1::EqualsIgnoreCase(name, "content-length") || h1::EqualsIgnoreCase(name, "connection")) {
      continue;
    }
    out += fmt::format("{}: {}\r\n", name, value);
  }
  out += fmt::format("Content-Length: {}\r\n\r\n", request.body.size());
  out += request.body;
  return out;
}

// More bytes into `c.buffer`; false at the end of the stream or on an error.
net::Awaitable<bool> ReadMore(Connection& c) {
  // Into a fixed scratch area, then appended: growing the buffer by a whole chunk would zero it.
  auto [ec, n] = co_await c.socket.async_read_some(net::asio::buffer(c.scratch), net::kUseTuple);
  c.buffer.append(c.scratch.data(), n);
  co_return !ec && n > 0;
}

// Reads one response; `reusable` tells whether the connection may carry another request.
net::Awaitable<absl::StatusOr<Response>> ReadResponse(Connection& c, const Request& request,
                                                      bool& reusable, bool& answered) {
  h1::ResponseHead head;
  size_t scanned = 0;
  for (;;) {
    head.ResetFacts();
    auto parsed =
        h1::ParseResponseHead(c.buffer, kLimits, h1::MethodOf(request.method), head, scanned);
    if (parsed.status == h1::ParseStatus::kComplete) break;
    if (parsed.status == h1::ParseStatus::kError) {
      co_return absl::UnavailableError(fmt::format("bad response: {}", parsed.error));
    }
    if (!co_await ReadMore(c)) co_return absl::UnavailableError("connection closed");
    answered = true;
  }
  Response response;
  response.status = head.status;
  for (size_t i = 0; i < head.header_count; ++i) {
    response.headers.emplace_back(head.headers[i].name, head.headers[i].value);
  }
  reusable = head.KeepAlive();
  h1::Framing framing = head.framing;
  uint64_t length = head.content_length;
  c.buffer.erase(0, head.head_size);
  if (framing == h1::Framing::kLength) {
    if (length > kMaxResponseBytes) co_return absl::UnavailableError("response too large");
    while (c.buffer.size() < length) {
      if (!co_await ReadMore(c)) co_return absl::UnavailableError("connection closed");
    }
    response.body.assign(c.buffer, 0, length);
    c.buffer.erase(0, length);
  } else if (framing == h1::Framing::kChunked) {
    h1::ChunkedDecoder decoder;
    for (;;) {
      size_t consumed = 0;
      std::string_view data;
      auto status = decoder.Decode(c.buffer, consumed, data);
      if (status == h1::ChunkedDecoder::Status::kData) response.body.append(data);
      c.buffer.erase(0, consumed);
      if (status == h1::ChunkedDecoder::Status::kDone) break;
      if (status == h1::ChunkedDecoder::Status::kError) {
        co_return absl::UnavailableError(fmt::format("bad chunked body: {}", decoder.error()));
      }
      if (response.body.size() > kMaxResponseBytes) {
        co_return absl::UnavailableError("response too large");
      }
      if (status == h1::ChunkedDecoder::Status::kNeedMore && !co_await ReadMore(c)) {
        co_return absl::UnavailableError("connection closed");
      }
    }
  } else if (framing == h1::Framing::kUntilClose) {
    reusable = false;
    while (co_await ReadMore(c)) {
      if (c.buffer.size() > kMaxResponseBytes) {
        co_return absl::UnavailableError("response too large");
      }
    }
    response.body = std::move(c.buffer);
  }
  co_return response;
}

}  // namespace

struct PooledClient::State {
  net::asio::io_context& io;
  HostPort server;
  size_t max_idle;
  bool alive = true;
  std::vector<std::shared_ptr<Connection>> idle;
};

namespace {

net::Awaitable<void> Exchange(std::shared_ptr<PooledClient::State> state, Request request,
                              Duration timeout,
                              std::function<void(absl::StatusOr<Response>)> done) {
  auto executor = co_await net::asio::this_coro::executor;
  net::asio::steady_timer deadline(executor);
  std::string wire = Serialize(request, state->server);
  absl::StatusOr<Response> result = absl::UnavailableError("no answer");
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::shared_ptr<Connection> c;
    bool reused = !state->idle.empty();
    if (reused) {
      c = std::move(state->idle.back());
      state->idle.pop_back();
    } else {
      c = std::make_shared<Connection>(executor);
    }
    // The deadline closes the socket, which fails whatever read or write is pending; `armed`
    // keeps a timer that fired just as the answer came from closing a connection put back.
    auto armed = std::make_shared<bool>(true);
    deadline.expires_after(timeout);
    deadline.async_wait([armed, weak = std::weak_ptr<Connection>(c)](boost::system::error_code ec) {
      auto conn = weak.lock();
      if (!ec && *armed && conn) conn->socket.close(ec);
    });
    bool answered = false, reusable = false;
    if (!reused) {
      auto endpoint = net::ToEndpoint(state->server);
      if (!endpoint.ok()) {
        result = endpoint.status();
        break;
      }
      auto [ec] = co_await c->socket.async_connect(*endpoint, net::kUseTuple);
      if (ec) {
        result = absl::UnavailableError(
            fmt::format("cannot connect to {}: {}", state->server.ToString(), ec.message()));
        *armed = false;
        deadline.cancel();
        break;
      }
      c->socket.set_option(net::tcp::no_delay(true), ec);
    }
    auto [write_ec, written] =
        co_await net::asio::async_write(c->socket, net::asio::buffer(wire), net::kUseTuple);
    if (write_ec) {
      result = absl::UnavailableError(
          fmt::format("request to {} failed: {}", state->server.ToString(), write_ec.message()));
    } else {
      result = co_await ReadResponse(*c, request, reusable, answered);
    }
    bool timed_out = deadline.expiry() <= net::asio::steady_timer::clock_type::now();
    *armed = false;
    deadline.cancel();
    if (timed_out && !result.ok()) {
      result = absl::DeadlineExceededError(fmt::format(
          "request to {} timed out after {}", state->server.ToString(), FormatDuration(timeout)));
    }
    if (result.ok()) {
      if (reusable && c->buffer.empty() && state->alive && state->idle.size() < state->max_idle) {
        state->idle.push_back(std::move(c));
      }
      break;
    }
    // A kept-alive connection the server closed meanwhile: once more on a new one.
    if (!(reused && !answered && !timed_out)) break;
  }
  if (state->alive) done(std::move(result));
}

}  // namespace

PooledClient::PooledClient(net::asio::io_context& io, HostPort server, size_t max_idle)
    : state_(std::make_shared<State>(State{io, std::move(server), max_idle, true, {}})) {}

PooledClient::~PooledClient() {
  state_->alive = false;
  state_->idle.clear();
}

void PooledClient::Fetch(Request request, Duration timeout,
                         std::function<void(absl::StatusOr<Response>)> done) {
  net::asio::co_spawn(state_->io, Exchange(state_, std::move(request), timeout, std::move(done)),
                      net::asio::detached);
}

}  // namespace gantry::http
