#include <fmt/format.h>

#include <boost/asio/write.hpp>

#include "http/h1_chunked.h"
#include "http/server_connection.h"
#include "http/server_stream.h"

namespace gantry::http::server_internal {

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

}  // namespace gantry::http::server_internal
