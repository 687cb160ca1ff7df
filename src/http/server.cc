#include "http/server.h"

#include <time.h>

#include <array>
#include <chrono>

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "core/strings.h"
#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "http/server_stream.h"
#include "net/listen.h"

namespace gantry::http {

struct Server::State {
  std::unique_ptr<net::tcp::acceptor> acceptor;
  Handler handler;
};

namespace {

using Clock = std::chrono::steady_clock;
// Waiting for (the rest of) a request, or for the client to take a response. One figure for
// both, so that a deadline never comes nearer than the watchdog's timer: no timer per request.
constexpr auto kTimeout = std::chrono::seconds(60);
constexpr size_t kMaxBodyBytes = size_t{8} * 1024 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
// The request line may take the whole head: long keys are the KV API's to refuse, with a reason.
const h1::Limits kLimits{.max_request_line = 16 * 1024, .max_head = 16 * 1024, .max_headers = 100};

// Deadlines are a minute away: the kernel's coarse clock (a few ms of resolution, no counter read)
// is good enough for them, and they are set several times per request.
Clock::time_point CoarseNow() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // the same epoch as steady_clock
  return Clock::time_point(std::chrono::seconds(now.tv_sec) +
                           std::chrono::nanoseconds(now.tv_nsec));
}

// Suspends the connection until the handler responds. If it never does (the agent is shutting
// down), the connection's coroutine is destroyed with the loop. An answer given during the
// handler's own call is posted, so that the connection does not resume inside it; a later one
// (after a write became durable, a parked query woke) resumes the connection at once, saving a
// trip through the loop's queue on every such request.
net::Awaitable<Response> AskHandler(Server::State& state, Request request) {
  co_return co_await net::asio::async_initiate<decltype(net::asio::use_awaitable), void(Response)>(
      [&state, &request](auto completion) {
        struct Pending {
          decltype(completion) resume;
          bool in_handler = true;
        };
        auto pending = std::make_shared<Pending>(Pending{std::move(completion)});
        state.handler(std::move(request), [pending](Response response) {
          if (!pending->in_handler) return pending->resume(std::move(response));
          auto executor = net::asio::get_associated_executor(pending->resume);
          net::asio::post(executor, [pending, response = std::move(response)]() mutable {
            pending->resume(std::move(response));
          });
        });
        pending->in_handler = false;
      },
      net::asio::use_awaitable);
}

// One client connection: requests read with the data plane's strict HTTP/1.1 parser, answered
// in order. A watchdog closes the socket when the current deadline passes, so that no read or
// write needs a timer of its own.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::tcp::socket socket, std::shared_ptr<Server::State> state)
      : socket_(std::move(socket)), state_(std::move(state)), watchdog_(socket_.get_executor()) {}

  net::Awaitable<void> Serve();

 private:
  enum class Read { kOk, kClosed, kRefused };
  struct Facts {
    bool keep_alive = true;
    bool http_1_0 = false;
    bool head_only = false;
  };
  net::Awaitable<Read> ReadRequest(Request& request, Facts& facts);
  net::Awaitable<Read> ReadBody(const h1::RequestHead& head, Request& request);
  net::Awaitable<bool> ReadMore();
  net::Awaitable<bool> Write(std::string data);
  net::Awaitable<void> Refuse(int status, std::string_view why);
  net::Awaitable<void> StreamBody(Response& answer);
  net::Awaitable<void> Watch();
  void Expire() { deadline_ = CoarseNow() + kTimeout; }
  void NoDeadline() { deadline_ = Clock::time_point::max(); }

  net::tcp::socket socket_;
  std::shared_ptr<Server::State> state_;
  net::asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool done_ = false;
  std::string buffer_;
  std::array<char, kReadChunk> scratch_;
  h1::RequestHead head_;
};

net::Awaitable<void> Connection::Watch() {
  auto self = shared_from_this();
  while (!done_) {
    watchdog_.expires_at(deadline_ == Clock::time_point::max() ? Clock::now() + kTimeout
                                                               : deadline_);
    co_await watchdog_.async_wait(net::kUseTuple);  // cancelled or expired: look again
    if (done_) break;
    if (Clock::now() >= deadline_) {
      boost::system::error_code ignored;
      socket_.close(ignored);  // the pending read or write fails; Serve ends
      break;
    }
  }
}

net::Awaitable<bool> Connection::ReadMore() {
  // Into a fixed scratch area, then appended: growing buffer_ by a whole chunk would zero it.
  auto [ec, n] = co_await socket_.async_read_some(net::asio::buffer(scratch_), net::kUseTuple);
  buffer_.append(scratch_.data(), n);
  co_return !ec && n > 0;
}

net::Awaitable<bool> Connection::Write(std::string data) {
  Expire();
  auto [ec, n] = co_await net::asio::async_write(socket_, net::asio::buffer(data), net::kUseTuple);
  co_return !ec;
}

net::Awaitable<void> Connection::Refuse(int status, std::string_view why) {
  const char* code = status == 413   ? "body_too_large"
                     : status == 431 ? "headers_too_large"
                                     : "bad_request";
  Response error = JsonError(status, code, fmt::format("malformed HTTP request: {}", why));
  co_await Write(SerializeHead(error, error.body.size(), ConnectionField::kClose) + error.body);
  boost::system::error_code ignored;
  socket_.shutdown(net::tcp::socket::shutdown_send, ignored);
}

net::Awaitable<Connection::Read> Connection::ReadBody(const h1::RequestHead& head,
                                                      Request& request) {
  if (head.framing == h1::Framing::kLength) {
    if (head.content_length > kMaxBodyBytes) {
      co_await Refuse(413, "request body too large");
      co_return Read::kRefused;
    }
    while (buffer_.size() < head.content_length) {
      if (!co_await ReadMore()) co_return Read::kClosed;
    }
    request.body.assign(buffer_, 0, head.content_length);
    buffer_.erase(0, head.content_length);
  } else if (head.framing == h1::Framing::kChunked) {
    h1::ChunkedDecoder decoder;
    for (;;) {
      size_t consumed = 0;
      std::string_view data;
      auto status = decoder.Decode(buffer_, consumed, data);
      if (status == h1::ChunkedDecoder::Status::kData) request.body.append(data);
      buffer_.erase(0, consumed);
      if (status == h1::ChunkedDecoder::Status::kDone) break;
      if (status == h1::ChunkedDecoder::Status::kError) {
        co_await Refuse(400, decoder.error());
        co_return Read::kRefused;
      }
      if (request.body.size() > kMaxBodyBytes) {
        co_await Refuse(413, "request body too large");
        co_return Read::kRefused;
      }
      if (status == h1::ChunkedDecoder::Status::kNeedMore && !co_await ReadMore()) {
        co_return Read::kClosed;
      }
    }
  }
  co_return Read::kOk;
}

net::Awaitable<Connection::Read> Connection::ReadRequest(Request& request, Facts& facts) {
  Expire();
  size_t scanned = 0;
  for (;;) {
    head_.ResetFacts();
    h1::ParseResult parsed = h1::ParseRequestHead(buffer_, kLimits, head_, scanned);
    if (parsed.status == h1::ParseStatus::kComplete) break;
    if (parsed.status == h1::ParseStatus::kError) {
      co_await Refuse(parsed.error_status, parsed.error);
      co_return Read::kRefused;
    }
    if (!co_await ReadMore()) co_return Read::kClosed;
  }
  // The head's views point into buffer_: copy what the handler needs before reading on.
  request.method.assign(head_.method_text);
  request.target.assign(head_.target);
  request.headers.reserve(head_.header_count);
  for (size_t i = 0; i < head_.header_count; ++i) {
    request.headers.emplace_back(head_.headers[i].name, head_.headers[i].value);
  }
  facts.keep_alive = head_.KeepAlive();
  facts.http_1_0 = head_.minor_version == 0;
  facts.head_only = head_.method == h1::Method::kHead;
  bool expect_continue = head_.expect_continue;
  buffer_.erase(0, head_.head_size);
  // A client that waits for "100 Continue" before sending its body gets it now.
  if (expect_continue && head_.framing != h1::Framing::kNone && buffer_.empty() &&
      !co_await Write("HTTP/1.1 100 Continue\r\n\r\n")) {
    co_return Read::kClosed;
  }
  Expire();
  co_return co_await ReadBody(head_, request);
}

net::Awaitable<void> Connection::StreamBody(Response& answer) {
  auto stream = std::make_shared<ServerStream>(socket_.get_executor());
  NoDeadline();  // a stream lives as long as its producer and its client do
  answer.stream(stream);
  // The client's side is only read to learn that it went away.
  net::asio::co_spawn(
      socket_.get_executor(),
      [](std::shared_ptr<Connection> self,
         std::shared_ptr<ServerStream> stream) -> net::Awaitable<void> {
        char scratch[512];
        for (;;) {
          auto [ec, n] =
              co_await self->socket_.async_read_some(net::asio::buffer(scratch), net::kUseTuple);
          if (ec) break;
        }
        stream->Close();
      }(shared_from_this(), stream),
      net::asio::detached);
  for (;;) {
    std::string chunk = stream->TakeQueued();
    if (!chunk.empty()) {
      std::string framed = fmt::format("{:x}\r\n", chunk.size());
      framed += chunk;
      framed += "\r\n";
      if (!co_await Write(std::move(framed))) break;
      NoDeadline();
      continue;
    }
    if (stream->ended()) {
      co_await Write("0\r\n\r\n");
      break;
    }
    if (!stream->open()) break;
    stream->Drained();  // may queue more at once
    co_await stream->WaitForData();
  }
  stream->Close();
}

net::Awaitable<void> Connection::Serve() {
  auto self = shared_from_this();
  net::asio::co_spawn(socket_.get_executor(), Watch(), net::asio::detached);
  for (;;) {
    Request request;
    Facts facts;
    if (co_await ReadRequest(request, facts) != Read::kOk) break;
    NoDeadline();  // a blocking query may park for as long as it asked to
    Response answer = co_await AskHandler(*state_, std::move(request));
    if (answer.stream && !facts.head_only) {
      if (co_await Write(SerializeHead(answer, std::nullopt, ConnectionField::kClose))) {
        co_await StreamBody(answer);
      }
      break;
    }
    ConnectionField connection = !facts.keep_alive ? ConnectionField::kClose
                                 : facts.http_1_0  ? ConnectionField::kKeepAlive
                                                   : ConnectionField::kNone;
    std::string out = SerializeHead(answer, answer.body.size(), connection);
    if (!facts.head_only) out += answer.body;
    if (!co_await Write(std::move(out)) || !facts.keep_alive) break;
  }
  done_ = true;
  watchdog_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(net::tcp::socket::shutdown_send, ignored);
}

}  // namespace

std::string SerializeHead(const Response& response, std::optional<size_t> content_length,
                          ConnectionField connection) {
  // Plain appends (no format strings): this runs for every answer, the hot publish path's too.
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  AppendNumber(out, static_cast<uint64_t>(response.status));
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (h1::EqualsIgnoreCase(name, "content-length") ||
        h1::EqualsIgnoreCase(name, "transfer-encoding") ||
        h1::EqualsIgnoreCase(name, "connection")) {
      continue;  // framing is the server's business
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  if (!bodiless) {
    if (content_length) {
      out += "Content-Length: ";
      AppendNumber(out, *content_length);
      out += "\r\n";
    } else {
      out += "Transfer-Encoding: chunked\r\n";
    }
  }
  if (connection == ConnectionField::kClose) out += "Connection: close\r\n";
  if (connection == ConnectionField::kKeepAlive) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  return out;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(net::asio::io_context& io,
                                                       const HostPort& listen, Handler handler) {
  auto acceptor = net::Listen(io, listen, {});
  if (!acceptor.ok()) return acceptor.status();
  auto state = std::make_shared<State>();
  HostPort bound = listen;
  bound.port = (*acceptor)->local_endpoint().port();
  state->acceptor = std::move(*acceptor);
  state->handler = std::move(handler);
  return std::unique_ptr<Server>(new Server(std::move(state), bound));
}

Server::Server(std::shared_ptr<State> state, HostPort address)
    : state_(std::move(state)), address_(std::move(address)) {}

Server::~Server() { Stop(); }

void Server::Start() {
  // The callback owns the state, and so the acceptor, for as long as the loop runs.
  auto serve = [state = state_](net::tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(net::tcp::no_delay(true), ignored);
    auto connection = std::make_shared<Connection>(std::move(socket), state);
    net::asio::co_spawn(state->acceptor->get_executor(), connection->Serve(), net::asio::detached);
  };
  net::asio::co_spawn(state_->acceptor->get_executor(), net::AcceptLoop(*state_->acceptor, serve),
                      net::asio::detached);
}

void Server::Stop() {
  boost::system::error_code ignored;
  if (state_ && state_->acceptor->is_open()) state_->acceptor->close(ignored);
}

}  // namespace gantry::http
