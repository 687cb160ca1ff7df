#include "proxy/exchange.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "net/socket.h"
#include "proxy/client_conn.h"
#include "proxy/rewrite.h"
#include "proxy/upstream_conn.h"

namespace gantry::proxy {

using http::h1::Framing;
using http::h1::ParseStatus;

Exchange::Exchange(Worker& worker, ClientConn& client, WorkerView* view, const Cluster& cluster,
                   ExchangeRequest request)
    : worker_(worker),
      client_(client),
      view_(view),
      cluster_(cluster),
      request_info_(request),
      request_timer_(this),
      connect_timer_(this),
      client_keep_alive_(request.client_keep_alive) {}

Exchange::~Exchange() {
  if (upstream_) ReleaseUpstream(false);
  worker_.ReleaseView(view_);
}

void Exchange::Start() {
  worker_.loop().timers().Arm(request_timer_,
                              worker_.loop().now_ms() + UpstreamTimeouts::kRequestMs);
  Attempt(true);
}

void Exchange::Attempt(bool allow_pooled) {
  endpoint_ = &worker_.PickEndpoint(*view_, cluster_, request_info_.key_hash, nullptr);
  EndpointWorkerState& state = endpoint_->runtime->per_worker[worker_.index()];
  ++state.active;
  counted_ = true;
  got_response_bytes_ = false;
  head_scanned_ = 0;
  request_sent_ = 0;
  upstream_ = allow_pooled ? worker_.TakeIdle(*endpoint_) : nullptr;
  reused_ = upstream_ != nullptr;
  if (upstream_) {
    upstream_->owner = this;
    phase_ = Phase::kWriting;
    WriteRequest();
    return;
  }
  int fd = net::ConnectSocket(endpoint_->socket_address);
  if (fd < 0) return Failed(Failure::kConnect, strerror(errno));
  upstream_ = new UpstreamConn(worker_, fd, endpoint_->runtime.get());
  upstream_->owner = this;
  if (!worker_.loop().Add(fd, upstream_).ok()) {
    return Failed(Failure::kConnect, "cannot register the socket");
  }
  phase_ = Phase::kConnecting;
  worker_.loop().timers().Arm(connect_timer_,
                              worker_.loop().now_ms() + UpstreamTimeouts::kConnectMs);
}

void Exchange::OnUpstreamIo(uint32_t events) {
  UpstreamConn& upstream = *upstream_;
  if (events & EPOLLOUT) upstream.writable = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) upstream.readable = true;
  switch (phase_) {
    case Phase::kConnecting:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnected();
      return;
    case Phase::kWriting:
      if (upstream.writable || (events & (EPOLLERR | EPOLLHUP))) WriteRequest();
      return;
    case Phase::kReadingHead:
    case Phase::kRelaying:
      if (upstream.readable && !paused_) ReadResponse();
      return;
    case Phase::kDone:
      return;
  }
}

void Exchange::OnConnected() {
  int error = net::SocketError(upstream_->fd());
  if (error != 0) return Failed(Failure::kConnect, strerror(error));
  worker_.loop().timers().Cancel(connect_timer_);
  upstream_->connected = true;
  phase_ = Phase::kWriting;
  WriteRequest();
}

void Exchange::WriteRequest() {
  while (request_sent_ < request_.size()) {
    ssize_t n = ::send(upstream_->fd(), request_.data() + request_sent_,
                       request_.size() - request_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      request_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      upstream_->writable = false;
      return;  // EPOLLOUT resumes
    }
    return Failed(Failure::kReset, n < 0 ? strerror(errno) : "connection closed");
  }
  phase_ = Phase::kReadingHead;
  // The answer cannot be there yet unless the connection already said something: wait for
  // the edge instead of a read that would find nothing.
  if (upstream_->readable) ReadResponse();
}

void Exchange::ReadResponse() {
  for (;;) {
    UpstreamConn& upstream = *upstream_;
    if (!upstream.in) upstream.in = worker_.buffers().Acquire();
    IoBuffer& in = *upstream.in;
    if (in.space() == 0) in.Compact();
    if (in.space() == 0) return Failed(Failure::kBadResponse, "response head too large");
    size_t want = in.space();
    ssize_t n = ::recv(upstream.fd(), in.write_ptr(), want, 0);
    if (n > 0) {
      in.end += static_cast<size_t>(n);
      got_response_bytes_ = true;
      if (static_cast<size_t>(n) < want) upstream.readable = false;  // drained for now
      if (!ProcessResponse()) return;
      if (!upstream.readable) return;
      continue;
    }
    if (n == 0) return OnUpstreamEof();
    if (errno == EAGAIN || errno == EINTR) {
      upstream.readable = false;
      return;
    }
    return Failed(Failure::kReset, strerror(errno));
  }
}

bool Exchange::ProcessResponse() {
  IoBuffer& in = *upstream_->in;
  while (phase_ == Phase::kReadingHead) {
    http::h1::ResponseHead& head = worker_.response_head();
    std::string_view data(in.read_ptr(), in.size());
    http::h1::ParseResult result =
        http::h1::ParseResponseHead(data, {}, request_info_.method, head, head_scanned_);
    if (result.status == ParseStatus::kIncomplete) return true;
    if (result.status == ParseStatus::kError) {
      Failed(Failure::kBadResponse, result.error);
      return false;
    }
    if (head.status == 101) {  // gantry never asks for an upgrade
      Failed(Failure::kBadResponse, "unrequested 101 Switching Protocols");
      return false;
    }
    if (head.status < 200) {  // interim: gantry answered 100 itself; skip them all
      in.Consume(head.head_size);
      head_scanned_ = 0;
      continue;
    }
    if (!Commit(head)) return false;
  }
  return Relay();
}

bool Exchange::Commit(const http::h1::ResponseHead& head) {
  status_ = head.status;
  framing_ = head.framing;
  body_remaining_ = head.content_length;
  upstream_keep_alive_ = head.KeepAlive();
  bool http10 = request_info_.client_minor == 0;
  dechunk_ = framing_ == Framing::kChunked && http10;
  if (framing_ == Framing::kUntilClose || dechunk_) client_keep_alive_ = false;
  if (framing_ == Framing::kChunked) chunked_.Reset();
  DownstreamHeadInput out;
  out.head = &head;
  out.status_line = std::string_view(upstream_->in->read_ptr(), head.head_size);
  out.status_line = out.status_line.substr(0, out.status_line.find("\r\n"));
  out.close = !client_keep_alive_;
  out.keep_alive_header = http10 && client_keep_alive_;
  out.drop_transfer_encoding = dechunk_;
  head_out_.clear();
  AppendDownstreamHead(out, head_out_);
  upstream_->in->Consume(head.head_size);
  phase_ = Phase::kRelaying;
  return true;
}

bool Exchange::Relay() {
  IoBuffer& in = *upstream_->in;
  bool done = false;
  bool clean = true;  // nothing past the response: the connection may be reused
  std::string_view piece;
  switch (framing_) {
    case Framing::kNone:
      done = true;
      clean = in.size() == 0;
      break;
    case Framing::kLength: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(in.size(), body_remaining_));
      piece = std::string_view(in.read_ptr(), take);
      body_remaining_ -= take;
      done = body_remaining_ == 0;
      clean = in.size() == take;
      break;
    }
    case Framing::kUntilClose:
      piece = std::string_view(in.read_ptr(), in.size());
      break;
    case Framing::kChunked: {
      std::string_view data(in.read_ptr(), in.size());
      size_t consumed = 0;
      if (!dechunk_) {  // pass the chunks through unchanged, checking them on the way
        for (;;) {
          std::string_view ignored;
          auto status = chunked_.Decode(data, consumed, ignored);
          if (status == http::h1::ChunkedDecoder::Status::kData) continue;
          if (status == http::h1::ChunkedDecoder::Status::kError) {
            Failed(Failure::kBadResponse, chunked_.error());
            return false;
          }
          break;
        }
        piece = data.substr(0, consumed);
      } else {  // an HTTP/1.0 client: data only, delimited by the close
        std::string decoded;
        for (;;) {
          std::string_view chunk;
          auto status = chunked_.Decode(data, consumed, chunk);
          if (status == http::h1::ChunkedDecoder::Status::kData) {
            decoded.append(chunk);
            continue;
          }
          if (status == http::h1::ChunkedDecoder::Status::kError) {
            Failed(Failure::kBadResponse, chunked_.error());
            return false;
          }
          break;
        }
        head_out_.append(decoded);  // sent right below, with the head if it is still pending
        in.Consume(consumed);
        consumed = 0;
      }
      done = chunked_.done();
      clean = in.size() == consumed;
      break;
    }
  }
  in.Consume(piece.size());  // only offsets move: `piece` stays readable until the next recv
  bool sent = client_.Send(head_out_, piece);
  if (!sent) return false;  // the client is gone; it cancelled this exchange
  head_out_.clear();
  if (done) {
    bool reusable = upstream_keep_alive_ && clean && request_info_.method != http::h1::Method::kHead;
    Finish(reusable);
    return false;
  }
  if (client_.output_pending()) {
    paused_ = true;
    return false;
  }
  return true;
}

void Exchange::OnClientDrained() {
  if (!paused_ || phase_ != Phase::kRelaying) return;
  paused_ = false;
  if (upstream_->in && upstream_->in->size() > 0 && !Relay()) return;
  if (upstream_->readable) ReadResponse();
}

void Exchange::OnUpstreamEof() {
  upstream_->readable = false;
  if (phase_ == Phase::kRelaying && framing_ == Framing::kUntilClose) {
    IoBuffer& in = *upstream_->in;
    std::string_view rest(in.read_ptr(), in.size());
    in.Consume(rest.size());
    if (client_.Send(rest)) Finish(false);
    return;
  }
  Failed(Failure::kReset, got_response_bytes_ ? "connection closed in the middle of the response"
                                              : "connection closed before the response");
}

void Exchange::Failed(Failure failure, std::string_view detail) {
  bool committed = phase_ == Phase::kRelaying;
  bool nothing_seen = !got_response_bytes_;
  ReleaseUpstream(false);
  if (committed) {  // the client has part of a response: it can only be cut off
    phase_ = Phase::kDone;
    worker_.loop().timers().Cancel(request_timer_);
    worker_.loop().timers().Cancel(connect_timer_);
    client_.Abort();
    return;
  }
  // A pooled connection the replica had closed: the request cannot have been acted on, so an
  // idempotent one is sent again, once, on a fresh connection.
  if (failure == Failure::kReset && reused_ && nothing_seen && !replayed_ &&
      http::h1::IsIdempotent(request_info_.method)) {
    replayed_ = true;
    return Attempt(false);
  }
  std::string where = fmt::format("{} ({}): {}", endpoint_->instance_id, endpoint_->key, detail);
  switch (failure) {
    case Failure::kTimeout:
      return AnswerError(504, "upstream_timeout", "upstream timed out: " + where);
    case Failure::kConnect:
      return AnswerError(502, "upstream_connect_failed", "cannot connect upstream: " + where);
    case Failure::kReset:
    case Failure::kBadResponse:
      return AnswerError(502, "upstream_reset", "upstream failed: " + where);
  }
}

void Exchange::AnswerError(int status, std::string_view code, std::string_view message) {
  status_ = status;
  std::string answer;
  AppendErrorResponse(status, code, message, !client_keep_alive_,
                      request_info_.method == http::h1::Method::kHead, answer);
  phase_ = Phase::kDone;
  worker_.loop().timers().Cancel(request_timer_);
  worker_.loop().timers().Cancel(connect_timer_);
  if (!client_.Send(answer)) return;
  client_.ExchangeDone(client_keep_alive_);
}

void Exchange::Finish(bool upstream_reusable) {
  phase_ = Phase::kDone;
  worker_.loop().timers().Cancel(request_timer_);
  worker_.loop().timers().Cancel(connect_timer_);
  ReleaseUpstream(upstream_reusable);
  client_.ExchangeDone(client_keep_alive_);
}

void Exchange::ReleaseUpstream(bool reusable) {
  if (counted_) {
    --endpoint_->runtime->per_worker[worker_.index()].active;
    counted_ = false;
  }
  UpstreamConn* upstream = upstream_;
  if (!upstream) return;
  upstream_ = nullptr;
  upstream->owner = nullptr;
  if (upstream->in && upstream->in->size() == 0) {
    worker_.buffers().Release(std::move(upstream->in));
  }
  if (reusable && upstream->connected && !upstream->in) {
    worker_.GiveBack(upstream);
  } else {
    upstream->Close();
  }
}

void Exchange::Cancel() {
  phase_ = Phase::kDone;
  worker_.loop().timers().Cancel(request_timer_);
  worker_.loop().timers().Cancel(connect_timer_);
  ReleaseUpstream(false);
}

void Exchange::OnTimer(net::Timer& timer) {
  if (phase_ == Phase::kDone) return;
  if (&timer == &connect_timer_) {
    return Failed(Failure::kConnect, "connect timed out after 2s");
  }
  Failed(Failure::kTimeout, fmt::format("no complete response within {}s",
                                        UpstreamTimeouts::kRequestMs / 1000));
}

}  // namespace gantry::proxy
