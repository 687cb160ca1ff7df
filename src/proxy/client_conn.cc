#include "proxy/client_conn.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "net/socket.h"
#include "proxy/exchange.h"
#include "proxy/h2_frontend.h"
#include "proxy/lb/request_key.h"
#include "proxy/request_route.h"
#include "proxy/rewrite.h"

namespace gantry::proxy {

using http::h1::Framing;
using http::h1::ParseStatus;

ClientConn::ClientConn(Worker& worker, int fd, ListenerKind kind, std::string peer_ip,
                       std::unique_ptr<net::TlsConnection> tls)
    : worker_(worker),
      fd_(fd),
      kind_(kind),
      peer_ip_(std::move(peer_ip)),
      timer_(this),
      tls_(std::move(tls)) {
  if (tls_) state_ = State::kHandshake;
}

ClientConn::~ClientConn() {
  if (fd_ >= 0) ::close(fd_);
}

void ClientConn::Start() {
  if (!worker_.loop().Add(fd_, this).ok()) return Close();
  ArmTimer(tls_ ? ClientTimeouts::kHeaderMs : ClientTimeouts::kIdleMs);
}

ssize_t ClientConn::ReadSome(void* buffer, size_t size) {
  return tls_ ? tls_->Read(buffer, size) : net::Recv(fd_, buffer, size);
}

ssize_t ClientConn::WriteSome(const void* data, size_t size) {
  return tls_ ? tls_->Write(data, size) : net::Send(fd_, data, size);
}

void ClientConn::ArmTimer(int64_t ms) {
  worker_.loop().timers().Arm(timer_, worker_.loop().now_ms() + ms);
}

void ClientConn::OnIo(uint32_t events) {
  if (fd_ < 0) return;
  if (events & (EPOLLERR | EPOLLHUP)) return Close();  // reset, or both directions shut
  if (events & EPOLLRDHUP) peer_closed_ = true;
  if (state_ == State::kHandshake) return ContinueHandshake();
  if (state_ == State::kH2) {
    if ((events & EPOLLOUT) && output_pending()) Flush();
    if (fd_ >= 0 && (events & (EPOLLIN | EPOLLRDHUP))) {
      readable_ = true;
      H2Read();
    }
    return;
  }
  if (state_ == State::kTunnel) {
    if ((events & EPOLLOUT) && output_pending()) Flush();
    if (fd_ >= 0 && (events & (EPOLLIN | EPOLLRDHUP))) {
      readable_ = true;
      TunnelRead();
    }
    return;
  }
  if ((events & EPOLLOUT) && output_pending()) {
    Flush();
    if (fd_ < 0) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) {
    readable_ = true;
    if (state_ == State::kReading || state_ == State::kReadingBody || state_ == State::kLingering) {
      ReadAndProcess();
    }
  }
}

// Reads and handles requests until the socket has nothing more or an exchange is running.
// Re-entrant calls (an exchange that finishes at once, then the next pipelined request) are
// folded into the loop already running, so the stack never grows with the pipeline.
void ClientConn::ReadAndProcess() {
  if (in_read_loop_) return;
  in_read_loop_ = true;
  while (fd_ >= 0) {
    if (state_ == State::kReading || state_ == State::kReadingBody) {
      if (in_ && in_->size() > 0) {
        State before = state_;
        size_t unread = in_->size();
        ProcessBuffered();
        if (fd_ < 0) break;
        if (state_ != before || in_->size() != unread) continue;  // progress: look again
      }
    } else if (state_ == State::kLingering) {
      if (in_) in_->Consume(in_->size());  // what the client still sends is dropped
    } else {
      break;  // an exchange runs: its end resumes reading
    }
    if (!readable_) {
      if (peer_closed_) OnPeerClosed();
      break;
    }
    if (!Receive()) break;
  }
  in_read_loop_ = false;
  if (fd_ >= 0) ReleaseBufferIfEmpty();
}

bool ClientConn::Receive() {
  if (!in_) in_ = worker_.buffers().Acquire();
  if (in_->space() == 0) in_->Compact();
  size_t want = in_->space();
  ssize_t n = ReadSome(in_->write_ptr(), want);
  if (n > 0) {
    in_->end += static_cast<size_t>(n);
    if (Drained(n, want)) readable_ = false;  // wait for the next edge
    return true;
  }
  if (n == 0) {
    readable_ = false;
    peer_closed_ = true;
    OnPeerClosed();
    return false;
  }
  if (errno == EAGAIN || errno == EINTR) {
    readable_ = false;
    return true;  // the loop sees !readable_ and stops
  }
  Close();
  return false;
}

void ClientConn::OnPeerClosed() {
  // Mid-request or idle, a client that stopped sending gets nothing more. During an exchange
  // it may only have shut its sending side: the response still goes out, then we close.
  if (state_ == State::kReading || state_ == State::kReadingBody || state_ == State::kLingering) {
    Close();
  }
}

void ClientConn::ProcessBuffered() {
  if (state_ == State::kReadingBody) return TakeBody();
  if (first_request_ && AtH2Preface()) {
    if (in_->size() >= kH2Preface.size()) return StartH2();
    if (head_scanned_ == 0) ArmTimer(ClientTimeouts::kHeaderMs);
    head_scanned_ = 1;  // started: the clock runs
    return;
  }
  http::h1::RequestHead& head = worker_.request_head();
  std::string_view data(in_->read_ptr(), in_->size());
  bool was_started = head_scanned_ > 0;
  http::h1::ParseResult result = http::h1::ParseRequestHead(data, {}, head, head_scanned_);
  switch (result.status) {
    case ParseStatus::kIncomplete:
      if (!was_started) ArmTimer(ClientTimeouts::kHeaderMs);  // the clock runs from byte one
      return;
    case ParseStatus::kError:
      head_request_ = false;
      return Reject(result.error_status, "bad_request", result.error);
    case ParseStatus::kComplete:
      head_scanned_ = 0;
      return OnHead(head);
  }
}

namespace {
// A WebSocket handshake (RFC 6455 4.1): GET, no body, Upgrade: websocket, Connection: upgrade.
// The parser has found both fields; only a request that asks to upgrade pays for the tokens.
bool IsWebSocket(const http::h1::RequestHead& head) {
  if (head.upgrade.empty() || !head.connection_upgrade) return false;
  if (head.method != http::h1::Method::kGet || head.framing != Framing::kNone) return false;
  bool websocket = false;
  http::h1::ForEachToken(head.upgrade, [&](std::string_view token) {
    if (http::h1::EqualsIgnoreCase(token, "websocket")) websocket = true;
  });
  return websocket;
}

}  // namespace

// Why a routed request is answered by gantry itself rather than sent on, if it is.
bool ClientConn::Admit(const http::h1::RequestHead& head, RoutedRequest& routed,
                       std::string& extra_fields) {
  const Cluster* cluster = routed.cluster;
  auto refuse = [&](int status, std::string_view code, std::string message, bool close) {
    routed.status = status;
    routed.code = code;
    routed.message = std::move(message);
    routed.close = close;
    routed.cluster = nullptr;
    return false;
  };
  if (const Route* route = routed.route) {
    const RateLimiter* limiter = route->runtime->rate_limiter.get();
    std::string_view rate_key = limiter && limiter->spec().by == config::RateLimitSpec::By::kHeader
                                    ? head.Find(limiter->spec().header)
                                    : std::string_view(peer_ip_);
    if (!AdmitByRoute(*route, head.method_text, rate_key, worker_.loop().now_ms(),
                      static_cast<size_t>(worker_.index()), routed)) {
      if (!routed.allow.empty()) extra_fields = fmt::format("Allow: {}\r\n", routed.allow);
      if (routed.retry_after_s > 0) {
        extra_fields = fmt::format("Retry-After: {}\r\n", routed.retry_after_s);
      }
      return false;
    }
  }
  if (!head.upgrade.empty() && !IsWebSocket(head)) {
    // h2c (and anything else) would be silently downgraded: refused instead.
    return refuse(
        501, "not_supported",
        fmt::format("upgrades to \"{}\" are not supported yet (websocket is)", head.upgrade),
        false);
  }
  if (cluster->grpc) {
    return refuse(501, "not_supported",
                  fmt::format("service \"{}\" speaks gRPC: call it over HTTP/2 (h2c or TLS)",
                              cluster->service),
                  false);
  }
  if (cluster->endpoints.empty()) {
    return refuse(503, "no_healthy_upstream",
                  fmt::format("no healthy replica of service \"{}\"", cluster->service), false);
  }
  if (head.framing == Framing::kLength && head.content_length > kMaxRequestBody) {
    return refuse(413, "body_too_large", "request body too large", true);
  }
  return true;
}

void ClientConn::OnHead(const http::h1::RequestHead& head) {
  first_request_ = false;
  request_start_us_ = worker_.loop().now_us();
  keep_alive_ = head.KeepAlive();
  head_request_ = head.method == http::h1::Method::kHead;
  WorkerView* view = worker_.AcquireView();
  RoutedRequest routed;
  RouteRequest(*view->snapshot, kind_, head, routed);
  std::string extra_fields;
  if (!routed.cluster || !Admit(head, routed, extra_fields)) {
    worker_.ReleaseView(view);
    in_->Consume(head.head_size);
    // With a body still unread, the connection's framing is lost: answer, then close.
    if (routed.close || head.framing != Framing::kNone) {
      return Reject(routed.status, routed.code, routed.message, extra_fields);
    }
    return AnswerAndContinue(routed.status, routed.code, routed.message, extra_fields);
  }
  const Cluster* cluster = routed.cluster;
  exchange_ = std::make_unique<Exchange>(worker_, *this, view, *cluster);
  ExchangeRequest& info = exchange_->info();
  info.method = head.method;
  info.client_keep_alive = keep_alive_;
  info.client_minor = head.minor_version;
  info.caller_timeout_ms = ParseCallerTimeoutMs(head.Find("x-gantry-timeout-ms"));
  info.route = routed.route;
  if (cluster->ring || cluster->maglev)
    info.key_hash = RequestKeyHash(cluster->policy.lb, head, peer_ip_);
  std::string& request = exchange_->request();
  request.reserve(
      head.head_size + 160 +
      static_cast<size_t>(std::min<uint64_t>(head.content_length, IoBuffer::kCapacity)));
  UpstreamHeadInput input;
  input.head = &head;
  input.target = routed.target;
  input.host = routed.host.empty() ? std::string_view(cluster->service) : routed.host;
  input.client_ip = peer_ip_;
  input.edge = kind_ == ListenerKind::kGateway;
  input.tls = tls_ != nullptr;
  char request_id[36];
  std::string_view inbound_id = head.request_id;
  if (inbound_id.empty()) {
    worker_.NewRequestId(request_id);
    input.request_id = std::string_view(request_id, sizeof request_id);
  }
  char traceparent[kTraceParentLineSize];
  if (worker_.spans()) {
    StartHop(worker_, head.traceparent, head.method_text, head.target, info.trace);
    input.traceparent_line = FormatTraceParentLine(info.trace, traceparent);
  }
  AppendUpstreamHead(input, request);
  if (IsWebSocket(head)) {  // the hop-by-hop fields a handshake needs on this hop too
    info.upgrade = std::string(head.upgrade);
    request.append("Connection: Upgrade\r\nUpgrade: ");
    request.append(info.upgrade);
    request.append("\r\n");
  }
  request.append(kDeadlineHeader);
  request.append(": ");
  info.deadline_offset = request.size();
  request.append(kDeadlineDigits, '0');
  request.append("\r\n");
  if (worker_.access_log()) {
    info.log_target = std::string(head.target);
    info.log_request_id = std::string(inbound_id.empty() ? input.request_id : inbound_id);
  }
  expect_continue_ = head.expect_continue;
  body_chunked_ = head.framing == Framing::kChunked;
  body_remaining_ = head.framing == Framing::kLength ? head.content_length : 0;
  in_->Consume(head.head_size);
  if (head.framing == Framing::kNone) {
    bool has_body_method = head.method == http::h1::Method::kPost ||
                           head.method == http::h1::Method::kPut ||
                           head.method == http::h1::Method::kPatch;
    request.append(has_body_method ? "Content-Length: 0\r\n\r\n" : "\r\n");
    return BeginExchange();
  }
  if (body_remaining_ > 0)
    fmt::format_to(std::back_inserter(request), "Content-Length: {}\r\n\r\n", body_remaining_);
  if (body_chunked_) {
    chunked_.Reset();
    chunked_body_.clear();
  }
  state_ = State::kReadingBody;
  ArmTimer(ClientTimeouts::kHeaderMs);
  TakeBody();
}

void ClientConn::TakeBody() {
  std::string& request = exchange_->request();
  bool complete = false;
  size_t before = in_->size();
  if (!body_chunked_) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(in_->size(), body_remaining_));
    request.append(in_->read_ptr(), take);
    in_->Consume(take);
    body_remaining_ -= take;
    complete = body_remaining_ == 0;
  } else {
    std::string_view data(in_->read_ptr(), in_->size());
    size_t consumed = 0;
    for (;;) {
      std::string_view piece;
      auto status = chunked_.Decode(data, consumed, piece);
      if (status == http::h1::ChunkedDecoder::Status::kData) {
        chunked_body_.append(piece);
        if (chunked_body_.size() > kMaxRequestBody) {
          return Reject(413, "body_too_large", "request body too large");
        }
        continue;
      }
      if (status == http::h1::ChunkedDecoder::Status::kError) {
        return Reject(400, "bad_request", chunked_.error());
      }
      complete = status == http::h1::ChunkedDecoder::Status::kDone;
      break;
    }
    in_->Consume(consumed);
    if (complete) {
      fmt::format_to(std::back_inserter(request), "Content-Length: {}\r\n\r\n",
                     chunked_body_.size());
      request.append(chunked_body_);
      chunked_body_.clear();
    }
  }
  if (complete) return BeginExchange();
  if (in_->size() != before) ArmTimer(ClientTimeouts::kHeaderMs);  // progress restarts the clock
  if (expect_continue_) {  // the client waits for this before it sends the body
    expect_continue_ = false;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    Send(kContinue);
  }
}

void ClientConn::BeginExchange() {
  state_ = State::kExchanging;
  worker_.loop().timers().Cancel(timer_);
  exchange_->Start();
}

bool ClientConn::Send(std::string_view a, std::string_view b) {
  if (fd_ < 0) return false;
  size_t total = a.size() + b.size();
  if (total == 0) return true;
  if (output_pending()) {
    out_.append(a);
    out_.append(b);
    return true;
  }
  ssize_t n;
  if (tls_) {
    // OpenSSL writes a record at a time: a short write is not a full socket (no EPOLLOUT edge
    // would follow), so write on until everything went or the socket is full.
    n = 0;
    for (std::string_view part : {a, b}) {
      size_t done = 0;
      while (done < part.size()) {
        ssize_t wrote = WriteSome(part.data() + done, part.size() - done);
        if (wrote <= 0) break;
        done += static_cast<size_t>(wrote);
      }
      n += static_cast<ssize_t>(done);
      if (done < part.size()) {
        if (n == 0) n = -1;  // errno from the failed write: EAGAIN or a real error
        break;
      }
    }
  } else {
    iovec iov[2] = {{const_cast<char*>(a.data()), a.size()},
                    {const_cast<char*>(b.data()), b.size()}};
    msghdr message{};
    message.msg_iov = a.empty() ? iov + 1 : iov;
    message.msg_iovlen = a.empty() || b.empty() ? 1 : 2;
    n = net::SendMsg(fd_, &message);
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      Close();
      return false;
    }
    n = 0;
  }
  size_t sent = static_cast<size_t>(n);
  if (sent == total) return true;
  // Queue the rest; EPOLLOUT (edge) resumes.
  out_.clear();
  out_sent_ = 0;
  if (sent < a.size()) {
    out_.append(a.substr(sent));
    out_.append(b);
  } else {
    out_.append(b.substr(sent - a.size()));
  }
  ArmTimer(ClientTimeouts::kWriteMs);
  return true;
}

void ClientConn::Flush() {
  while (output_pending()) {
    ssize_t n = WriteSome(out_.data() + out_sent_, out_.size() - out_sent_);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      ArmTimer(ClientTimeouts::kWriteMs);  // progress
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    return Close();
  }
  out_.clear();
  out_sent_ = 0;
  if (out_.capacity() > size_t{64} * 1024) out_.shrink_to_fit();
  if (state_ == State::kDraining) return AfterResponse();
  if (state_ == State::kH2) {
    ArmTimer(ClientTimeouts::kIdleMs);
    if (h2_) h2_->FlushNow();  // it waited for the queue to drain
    return;
  }
  if (state_ == State::kExchanging || state_ == State::kTunnel) {
    worker_.loop().timers().Cancel(timer_);
    if (exchange_) exchange_->OnClientDrained();
  }
}

void ClientConn::ExchangeDone(bool keep_alive) {
  if (exchange_) worker_.loop().DeleteLater(std::move(exchange_));
  keep_alive_ = keep_alive_ && keep_alive;
  if (output_pending()) {
    state_ = State::kDraining;
    return;  // Flush() continues once the client has taken everything
  }
  AfterResponse();
}

void ClientConn::AfterResponse() {
  if (!keep_alive_) return Linger();
  state_ = State::kReading;
  ArmTimer(ClientTimeouts::kIdleMs);
  if ((in_ && in_->size() > 0) || readable_ || peer_closed_) ReadAndProcess();
}

void ClientConn::AnswerAndContinue(int status, std::string_view code, std::string_view message,
                                   std::string_view extra_fields) {
  std::string answer;
  AppendErrorResponse(status, code, message, !keep_alive_, head_request_, answer, extra_fields);
  if (!Send(answer)) return;
  state_ = State::kExchanging;  // as if an exchange had run: ExchangeDone's path
  ExchangeDone(true);
}

void ClientConn::Reject(int status, std::string_view code, std::string_view message,
                        std::string_view extra_fields) {
  std::string answer;
  AppendErrorResponse(status, code, message, true, head_request_, answer, extra_fields);
  if (exchange_) {
    exchange_->Cancel();
    worker_.loop().DeleteLater(std::move(exchange_));
  }
  keep_alive_ = false;
  if (!Send(answer)) return;
  if (output_pending()) {
    state_ = State::kDraining;
    return;
  }
  Linger();
}

// Closes our side for writing and drops what the client still sends until it closes too (or
// two seconds pass), so that an answer sent before unread bytes is not destroyed by a reset.
void ClientConn::Linger() {
  state_ = State::kLingering;
  if (tls_) tls_->Shutdown();
  ::shutdown(fd_, SHUT_WR);
  ArmTimer(ClientTimeouts::kLingerMs);
  if (in_) in_->Consume(in_->size());
  if (readable_ || peer_closed_) ReadAndProcess();
}

void ClientConn::Abort() { Close(); }

void ClientConn::OnTimer(net::Timer&) {
  if (fd_ < 0) return;
  switch (state_) {
    case State::kHandshake:
      return Close();  // no TLS handshake in time
    case State::kReading:
      if (in_ && in_->size() > 0) {  // a head that did not finish in time
        head_request_ = false;
        return Reject(408, "request_timeout", "request head not received in time");
      }
      return Close();  // idle keep-alive connection
    case State::kReadingBody:
      return Reject(408, "request_timeout", "request body not received in time");
    case State::kH2:
      if (output_pending()) return Close();  // the client stopped taking bytes
      if (h2_ && !h2_->idle()) return ArmTimer(ClientTimeouts::kIdleMs);  // calls bound themselves
      if (h2_) h2_->Shutdown();  // idle: GOAWAY, then close
      return EndH2();
    case State::kTunnel:      // a tunnel's writes stalled
    case State::kExchanging:  // a stalled client stalls its exchange: both go
    case State::kDraining:
    case State::kLingering:
      return Close();
  }
}

void ClientConn::ReleaseBufferIfEmpty() {
  if (in_ && in_->size() == 0 && state_ != State::kReadingBody) {
    worker_.buffers().Release(std::move(in_));
  }
}

void ClientConn::Close() {
  if (fd_ < 0) return;
  if (exchange_) {
    exchange_->Cancel();
    worker_.loop().DeleteLater(std::move(exchange_));
  }
  if (h2_) {
    h2_->Detach();
    worker_.loop().DeleteLater(std::move(h2_));
  }
  worker_.loop().timers().Cancel(timer_);
  worker_.loop().Close(fd_);
  fd_ = -1;
  if (in_) worker_.buffers().Release(std::move(in_));
  worker_.ClientClosed(this);
}

}  // namespace gantry::proxy
