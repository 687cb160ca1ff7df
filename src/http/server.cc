#include "http/server.h"

#include <time.h>

#include <array>
#include <chrono>
#include <list>
#include <optional>

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "core/strings.h"
#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "http/server_stream.h"
#include "net/listen.h"

namespace gantry::http {
namespace {
class Connection;
}  // namespace

struct Server::State {
  explicit State(net::asio::any_io_executor executor) : sweep(executor) {}
  std::unique_ptr<net::tcp::acceptor> acceptor;
  Handler handler;
  // Connections whose request waits for its answer (parked), oldest first. One that waited
  // kWatchAfter is watched for its client leaving: a read that ends in EOF abandons it.
  std::list<std::weak_ptr<Connection>> parked;
  net::asio::steady_timer sweep;
};

namespace {

using Clock = std::chrono::steady_clock;
// The same limits as the gateway's (proxy/client_conn.h): a connection may idle between
// requests for kIdleTimeout; from a request's first byte its head must come within
// kRequestTimeout, and its body must not stall for longer (else 408); an answer's bytes must be
// taken within kWriteTimeout.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kRequestTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kWatchdogTick = std::chrono::seconds(2);
// Most answers come in milliseconds (a durable write); only requests parked this long are
// watched for their client leaving, so that the quick ones cost no extra read.
constexpr auto kWatchAfter = std::chrono::seconds(1);
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

// The handler's side of a request it answers later; the connection waits for Finish. The
// first of the answer and the client's leaving wins (`done`).
class Waiting : public Abandonment {
 public:
  virtual void Finish(std::optional<Response> response) = 0;  // resumes the connection
  void Abandon() { Abandoned(); }
  bool done = false;
  bool in_handler = true;
};

template <typename Completion>
class WaitingFor final : public Waiting {
 public:
  explicit WaitingFor(Completion completion) : completion_(std::move(completion)) {}
  void Finish(std::optional<Response> response) override { completion_(std::move(response)); }
  Completion& completion() { return completion_; }

 private:
  Completion completion_;
};

// One client connection: requests read with the data plane's strict HTTP/1.1 parser, answered
// in order. A watchdog acts when the current deadline passes (408 for a request that stalls,
// else the socket is closed), so that no read or write needs a timer of its own.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::tcp::socket socket, std::shared_ptr<Server::State> state)
      : socket_(std::move(socket)),
        state_(std::move(state)),
        watchdog_(socket_.get_executor()),
        watch_ended_(socket_.get_executor()) {}

  net::Awaitable<void> Serve();
  // Parked for kWatchAfter: watch for the client leaving (the server's sweep calls it).
  void WatchIfParkedSince(Clock::time_point before);

 private:
  enum class Read { kOk, kClosed, kRefused, kTimedOut };
  enum class Wait { kIdle, kRequest, kWrite, kNone };
  struct Facts {
    bool keep_alive = true;
    bool http_1_0 = false;
    bool head_only = false;
  };
  net::Awaitable<Read> ReadRequest(Request& request, Facts& facts);
  net::Awaitable<Read> ReadBody(const h1::RequestHead& head, Request& request);
  net::Awaitable<Read> ReadMore();
  net::Awaitable<bool> Write(std::string data);
  net::Awaitable<void> Refuse(int status, std::string_view why);
  net::Awaitable<void> StreamBody(Response& answer);
  net::Awaitable<void> Watch();
  // The handler's answer; nullopt when the client left first.
  net::Awaitable<std::optional<Response>> AskHandler(Request request);
  void Answered(Waiting& waiting);
  void Park();
  void Unpark();
  net::Awaitable<void> WatchClient();
  void Deadline(Wait wait, std::chrono::seconds after) {
    waiting_for_ = wait;
    deadline_ = CoarseNow() + after;
  }
  void NoDeadline() {
    waiting_for_ = Wait::kNone;
    deadline_ = Clock::time_point::max();
  }

  net::tcp::socket socket_;
  std::shared_ptr<Server::State> state_;
  net::asio::steady_timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Wait waiting_for_ = Wait::kNone;
  bool timed_out_ = false;  // a request stalled: the reads were cancelled, 408 is due
  bool done_ = false;
  // While the handler has the request: what it answers through, and the watch for the client.
  std::weak_ptr<Waiting> waiting_;
  std::optional<std::list<std::weak_ptr<Connection>>::iterator> parked_at_;
  Clock::time_point parked_since_{};
  bool watching_ = false;
  net::asio::steady_timer watch_ended_;
  std::string buffer_;
  std::array<char, kReadChunk> scratch_;
  h1::RequestHead head_;
};

net::Awaitable<void> Connection::Watch() {
  auto self = shared_from_this();
  while (!done_) {
    // Deadlines move on every request without touching the timer: it looks at least every
    // kWatchdogTick, so a deadline is acted on at most that late.
    watchdog_.expires_at(std::min(deadline_, Clock::now() + kWatchdogTick));
    co_await watchdog_.async_wait(net::kUseTuple);  // cancelled or expired: look again
    if (done_) break;
    if (Clock::now() >= deadline_) {
      boost::system::error_code ignored;
      if (waiting_for_ == Wait::kRequest) {
        timed_out_ = true;  // the pending read fails; the reader answers 408
        deadline_ = CoarseNow() + kWriteTimeout;
        waiting_for_ = Wait::kWrite;
        socket_.cancel(ignored);
        continue;
      }
      socket_.close(ignored);  // the pending read or write fails; Serve ends
      break;
    }
  }
}

net::Awaitable<Connection::Read> Connection::ReadMore() {
  // Into a fixed scratch area, then appended: growing buffer_ by a whole chunk would zero it.
  auto [ec, n] = co_await socket_.async_read_some(net::asio::buffer(scratch_), net::kUseTuple);
  buffer_.append(scratch_.data(), n);
  if (timed_out_) co_return Read::kTimedOut;
  co_return !ec && n > 0 ? Read::kOk : Read::kClosed;
}

net::Awaitable<bool> Connection::Write(std::string data) {
  Deadline(Wait::kWrite, kWriteTimeout);
  auto [ec, n] = co_await net::asio::async_write(socket_, net::asio::buffer(data), net::kUseTuple);
  co_return !ec;
}

net::Awaitable<void> Connection::Refuse(int status, std::string_view why) {
  const char* code = status == 413   ? "body_too_large"
                     : status == 431 ? "headers_too_large"
                     : status == 408 ? "request_timeout"
                                     : "bad_request";
  Response error =
      JsonError(status, code,
                status == 408 ? std::string(why) : fmt::format("malformed HTTP request: {}", why));
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
      size_t before = buffer_.size();
      if (Read read = co_await ReadMore(); read != Read::kOk) co_return read;
      if (buffer_.size() > before) Deadline(Wait::kRequest, kRequestTimeout);  // progress
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
      if (status == h1::ChunkedDecoder::Status::kNeedMore) {
        if (Read read = co_await ReadMore(); read != Read::kOk) co_return read;
        Deadline(Wait::kRequest, kRequestTimeout);  // progress
      }
    }
  }
  co_return Read::kOk;
}

net::Awaitable<Connection::Read> Connection::ReadRequest(Request& request, Facts& facts) {
  // The clock of a request runs from its first byte (perhaps already read, pipelined).
  if (buffer_.empty()) {
    Deadline(Wait::kIdle, kIdleTimeout);
  } else {
    Deadline(Wait::kRequest, kRequestTimeout);
  }
  size_t scanned = 0;
  for (;;) {
    head_.ResetFacts();
    h1::ParseResult parsed = h1::ParseRequestHead(buffer_, kLimits, head_, scanned);
    if (parsed.status == h1::ParseStatus::kComplete) break;
    if (parsed.status == h1::ParseStatus::kError) {
      co_await Refuse(parsed.error_status, parsed.error);
      co_return Read::kRefused;
    }
    bool first_bytes = buffer_.empty();
    Read read = co_await ReadMore();
    if (read == Read::kTimedOut) {
      co_await Refuse(408, "request head not received in time");
      co_return Read::kRefused;
    }
    if (read != Read::kOk) co_return read;
    if (first_bytes) Deadline(Wait::kRequest, kRequestTimeout);
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
  Deadline(Wait::kRequest, kRequestTimeout);
  Read read = co_await ReadBody(head_, request);
  if (read == Read::kTimedOut) {
    co_await Refuse(408, "request body not received in time");
    co_return Read::kRefused;
  }
  co_return read;
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

// Suspends the connection until the handler responds, or until its client leaves (seen by the
// watch of a request parked for long). An answer given during the handler's own call is posted,
// so that the connection does not resume inside it; a later one (after a write became durable,
// a parked query woke) resumes the connection at once, saving a trip through the loop's queue
// on every such request.
net::Awaitable<std::optional<Response>> Connection::AskHandler(Request request) {
  co_return co_await net::asio::async_initiate<decltype(net::asio::use_awaitable),
                                               void(std::optional<Response>)>(
      [this, &request](auto completion) {
        auto waiting = std::make_shared<WaitingFor<decltype(completion)>>(std::move(completion));
        waiting_ = waiting;
        request.abandonment = waiting;
        // `this` lives while the answer is awaited; once abandoned, the answer is dropped first.
        state_->handler(std::move(request), [this, waiting](Response response) {
          if (waiting->done) return;
          Answered(*waiting);
          if (!waiting->in_handler) return waiting->Finish(std::move(response));
          auto executor = net::asio::get_associated_executor(waiting->completion());
          net::asio::post(executor, [waiting, response = std::move(response)]() mutable {
            waiting->Finish(std::move(response));
          });
        });
        waiting->in_handler = false;
        if (!waiting->done) Park();
      },
      net::asio::use_awaitable);
}

void Connection::Answered(Waiting& waiting) {
  waiting.done = true;
  Unpark();
  if (watching_) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);  // only the watch's read is pending
  }
}

void Connection::Park() {
  parked_since_ = CoarseNow();
  parked_at_ = state_->parked.insert(state_->parked.end(), weak_from_this());
}

// Once a kWatchAfter, for as long as the server runs: the parked connections that waited that
// long are watched. (A sweep started per parked request would cost every publish a timer.)
net::Awaitable<void> Sweep(std::shared_ptr<Server::State> state) {
  while (state->acceptor->is_open()) {
    state->sweep.expires_after(kWatchAfter);
    co_await state->sweep.async_wait(net::kUseTuple);
    Clock::time_point before = CoarseNow() - kWatchAfter;
    // Copied: a watch that finds its client gone unparks it at once.
    std::vector<std::shared_ptr<Connection>> parked;
    for (const auto& weak : state->parked) {
      if (auto connection = weak.lock()) parked.push_back(std::move(connection));
    }
    for (const auto& connection : parked) connection->WatchIfParkedSince(before);
  }
}

void Connection::Unpark() {
  if (!parked_at_) return;
  state_->parked.erase(*parked_at_);
  parked_at_.reset();
}

void Connection::WatchIfParkedSince(Clock::time_point before) {
  if (watching_ || !parked_at_ || parked_since_ > before) return;
  watching_ = true;
  net::asio::co_spawn(socket_.get_executor(), WatchClient(), net::asio::detached);
}

// Reads while the handler has the request: bytes are kept for the next request (pipelining);
// EOF or an error means the client left, and the request is abandoned.
net::Awaitable<void> Connection::WatchClient() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(net::asio::buffer(scratch_), net::kUseTuple);
    buffer_.append(scratch_.data(), n);
    auto waiting = waiting_.lock();
    if (!waiting || waiting->done) break;  // answered: the read was cancelled
    if (ec || n == 0) {
      waiting->done = true;
      Unpark();
      waiting->Abandon();
      net::asio::post(socket_.get_executor(), [waiting] { waiting->Finish(std::nullopt); });
      break;
    }
    if (buffer_.size() > kLimits.max_head + kReadChunk) break;  // enough read ahead
  }
  watching_ = false;
  watch_ended_.cancel();
}

net::Awaitable<void> Connection::Serve() {
  auto self = shared_from_this();
  net::asio::co_spawn(socket_.get_executor(), Watch(), net::asio::detached);
  for (;;) {
    Request request;
    Facts facts;
    if (co_await ReadRequest(request, facts) != Read::kOk) break;
    NoDeadline();  // a blocking query may park for as long as it asked to
    std::optional<Response> asked = co_await AskHandler(std::move(request));
    if (!asked) break;  // the client left while the handler had the request
    if (watching_) {    // the watch's read was cancelled: it ends before anything reads again
      watch_ended_.expires_at(Clock::time_point::max());
      co_await watch_ended_.async_wait(net::kUseTuple);
    }
    Response& answer = *asked;
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
  auto state = std::make_shared<State>(io.get_executor());
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
  net::asio::co_spawn(state_->acceptor->get_executor(), Sweep(state_), net::asio::detached);
}

void Server::Stop() {
  boost::system::error_code ignored;
  if (state_ && state_->acceptor->is_open()) state_->acceptor->close(ignored);
  if (state_) state_->sweep.cancel();
}

}  // namespace gantry::http
