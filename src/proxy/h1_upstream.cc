#include "proxy/h1_upstream.h"

#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "net/socket.h"
#include "proxy/h2_call.h"
#include "proxy/rewrite.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

namespace gantry::proxy {

using http::h1::Framing;
using http::h1::ParseStatus;
using http::h2::Field;

namespace {
// Response bytes the client may have queued before reading from the replica pauses.
constexpr size_t kMaxQueuedForClient = 256 * 1024;
}  // namespace

H1Upstream::H1Upstream(Worker& worker, H2Call& call, const Cluster& cluster,
                       const Endpoint& endpoint)
    : worker_(worker), call_(call), cluster_(cluster), endpoint_(endpoint) {}

H1Upstream::~H1Upstream() { ReleaseConnection(); }

// Back to the pool only after a clean, complete exchange (at once: the next request of this
// batch of events may take it); anything else may have bytes of this one left on the wire.
void H1Upstream::ReleaseConnection() {
  if (!connection_) return;
  connection_->owner = nullptr;
  if (request_done_ && response_done_ && upstream_keep_alive_ && out_sent_ == out_.size() &&
      (!connection_->in || connection_->in->size() == 0)) {
    if (connection_->in) worker_.buffers().Release(std::move(connection_->in));
    worker_.GiveBack(connection_);
  } else {
    connection_->Close();
  }
  connection_ = nullptr;
}

bool H1Upstream::Start(std::span<const Field> fields, bool end_stream, bool& overloaded) {
  std::string_view method = "GET", path = "/", authority, content_length;
  std::string cookies;  // HTTP/2 may split Cookie into several fields (RFC 9113 8.2.3)
  for (const Field& f : fields) {
    if (f.name == ":method")
      method = f.value;
    else if (f.name == ":path")
      path = f.value;
    else if (f.name == ":authority")
      authority = f.value;
    else if (f.name == "content-length")
      content_length = f.value;
  }
  method_ = http::h1::MethodOf(method);
  fmt::format_to(std::back_inserter(out_), "{} {} HTTP/1.1\r\nHost: {}\r\n", method, path,
                 authority);
  for (const Field& f : fields) {
    if (f.name.starts_with(':') || f.name == "content-length" || IsHopByHop(f.name)) continue;
    if (f.name == "cookie") {
      if (!cookies.empty()) cookies.append("; ");
      cookies.append(f.value);
      continue;
    }
    fmt::format_to(std::back_inserter(out_), "{}: {}\r\n", f.name, f.value);
  }
  if (!cookies.empty()) fmt::format_to(std::back_inserter(out_), "cookie: {}\r\n", cookies);
  bool has_body_method = method_ == http::h1::Method::kPost || method_ == http::h1::Method::kPut ||
                         method_ == http::h1::Method::kPatch;
  if (end_stream) {
    out_.append(has_body_method ? "Content-Length: 0\r\n\r\n" : "\r\n");
    request_done_ = true;
  } else if (!content_length.empty()) {
    fmt::format_to(std::back_inserter(out_), "Content-Length: {}\r\n\r\n", content_length);
  } else {
    out_.append("Transfer-Encoding: chunked\r\n\r\n");
    chunked_request_ = true;
  }

  connection_ = worker_.TakeIdle(endpoint_);
  reused_ = connection_ != nullptr;
  if (!connection_) {
    overloaded = !cluster_.runtime->breaker.TryAcquire(CircuitBreaker::kConnections);
    if (overloaded) return false;
    int fd = net::ConnectSocket(endpoint_.socket_address);
    if (fd < 0) {
      cluster_.runtime->breaker.Release(CircuitBreaker::kConnections);
      return false;
    }
    connection_ = new UpstreamConn(worker_, fd, endpoint_.runtime.get(), cluster_.runtime);
    if (!worker_.loop().Add(fd, connection_).ok()) {
      connection_->Close();
      connection_ = nullptr;
      return false;
    }
  }
  connection_->owner = this;
  connected_ = connection_->connected;
  if (connected_) Write();
  return true;
}

void H1Upstream::SendData(std::string_view data) {
  if (request_done_ || data.empty()) return;
  if (chunked_request_) fmt::format_to(std::back_inserter(out_), "{:x}\r\n", data.size());
  out_.append(data);
  if (chunked_request_) out_.append("\r\n");
  body_in_out_ += data.size();
  if (connected_) Write();
}

void H1Upstream::SendEnd() {
  if (request_done_) return;
  request_done_ = true;
  if (chunked_request_) out_.append("0\r\n\r\n");
  if (connected_) Write();
}

void H1Upstream::OnUpstreamIo(uint32_t events) {
  if (detached_ || !connection_) return;
  UpstreamConn& connection = *connection_;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) connection.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP)) connection.peer_closed = true;
  if (!connected_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (net::SocketError(connection.fd()) != 0) return Fail(true);
    connected_ = connection.connected = true;
  }
  if (events & EPOLLOUT) Write();
  if (!detached_ && connection_ && connection_->readable && !paused_) Read();
}

void H1Upstream::Write() {
  while (out_sent_ < out_.size()) {
    ssize_t n = net::Send(connection_->fd(), out_.data() + out_sent_, out_.size() - out_sent_);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // EPOLLOUT resumes
    return Fail(reused_ && !head_done_ && http::h1::IsIdempotent(method_));
  }
  out_.clear();
  out_sent_ = 0;
  if (body_in_out_ > 0 && !detached_) {  // the replica took these: the client may send more
    size_t credited = body_in_out_;
    body_in_out_ = 0;
    call_.UpstreamTook(credited);
  }
}

void H1Upstream::Read() {
  while (!detached_ && connection_ && !paused_ && !response_done_) {
    if (!connection_->in) connection_->in = worker_.buffers().Acquire();
    IoBuffer& in = *connection_->in;
    if (in.space() == 0) in.Compact();
    if (in.space() == 0) return Fail(false);  // a response head past the buffer
    size_t want = in.space();
    ssize_t n = net::Recv(connection_->fd(), in.write_ptr(), want);
    if (n > 0) {
      in.end += static_cast<size_t>(n);
      if (static_cast<size_t>(n) < want && !connection_->peer_closed) {
        connection_->readable = false;
      }
      if (!head_done_ && !ProcessHead()) return;
      if (head_done_ && !detached_) ProcessBody();
      if (detached_ || !connection_ || !connection_->readable) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      connection_->readable = false;
      return;
    }
    // The replica closed (or failed): the end of a close-delimited body, or a failure.
    upstream_keep_alive_ = false;
    if (head_done_ && framing_ == Framing::kUntilClose) return Finish();
    return Fail(!head_done_ && reused_ && in.size() == 0 && http::h1::IsIdempotent(method_));
  }
}

bool H1Upstream::ProcessHead() {
  IoBuffer& in = *connection_->in;
  for (;;) {
    http::h1::ResponseHead& head = worker_.response_head();
    std::string_view data(in.read_ptr(), in.size());
    http::h1::ParseResult result =
        http::h1::ParseResponseHead(data, {}, method_, head, head_scanned_);
    if (result.status == ParseStatus::kIncomplete) return true;
    if (result.status == ParseStatus::kError || head.status == 101) {
      Fail(false);
      return false;
    }
    head_scanned_ = 0;
    if (head.status < 200) {  // interim (100 Continue): HTTP/2 clients need none
      in.Consume(head.head_size);
      continue;
    }
    framing_ = head.framing;
    body_remaining_ = head.content_length;
    upstream_keep_alive_ = head.KeepAlive();
    if (framing_ == Framing::kChunked) chunked_.Reset();
    // HTTP/2 fields are lowercase, and carry nothing about this hop.
    std::vector<std::pair<std::string, std::string>> owned;
    owned.reserve(head.header_count + 1);
    owned.emplace_back(":status", std::to_string(head.status));
    for (size_t i = 0; i < head.header_count; ++i) {
      const http::h1::Header& field = head.headers[i];
      if (IsHopByHop(field.name) || NamedByConnection(head, field.name)) continue;
      std::string name(field.name);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      owned.emplace_back(std::move(name), std::string(field.value));
    }
    in.Consume(head.head_size);
    head_done_ = true;
    bool no_body = framing_ == Framing::kNone;
    std::vector<Field> fields;
    fields.reserve(owned.size());
    for (const auto& [name, value] : owned) fields.push_back({name, value});
    if (no_body) {
      response_done_ = true;
      ReleaseConnection();
    }
    call_.OnUpstreamHeaders(fields, no_body);  // may detach this
    if (no_body && !detached_) call_.OnUpstreamClosed(http::h2::kNoError, false);
    return !no_body && !detached_;
  }
}

void H1Upstream::ProcessBody() {
  IoBuffer& in = *connection_->in;
  switch (framing_) {
    case Framing::kNone:
      return;
    case Framing::kLength: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(in.size(), body_remaining_));
      std::string_view piece(in.read_ptr(), take);
      body_remaining_ -= take;
      bool done = body_remaining_ == 0;
      if (done && in.size() != take) upstream_keep_alive_ = false;  // bytes past the response
      DeliverData(piece);
      in.Consume(take);
      if (done && !detached_) Finish();
      return;
    }
    case Framing::kUntilClose: {
      std::string_view piece(in.read_ptr(), in.size());
      DeliverData(piece);
      in.Consume(piece.size());
      return;
    }
    case Framing::kChunked: {
      std::string_view data(in.read_ptr(), in.size());
      size_t consumed = 0;
      for (;;) {
        std::string_view chunk;
        auto status = chunked_.Decode(data, consumed, chunk);
        if (status == http::h1::ChunkedDecoder::Status::kData) {
          DeliverData(chunk);
          if (detached_) return;
          continue;
        }
        if (status == http::h1::ChunkedDecoder::Status::kError) return Fail(false);
        in.Consume(consumed);
        if (status == http::h1::ChunkedDecoder::Status::kDone && !detached_) {
          if (in.size() != 0) upstream_keep_alive_ = false;
          Finish();
        }
        return;
      }
    }
  }
}

void H1Upstream::DeliverData(std::string_view data) {
  if (data.empty() || detached_) return;
  delivered_ += data.size();
  call_.OnUpstreamData(data);
  if (delivered_ > kMaxQueuedForClient) paused_ = true;  // Consume resumes
}

void H1Upstream::Consume(size_t bytes) {
  if (detached_) return;
  delivered_ -= std::min(delivered_, bytes);
  if (paused_ && delivered_ <= kMaxQueuedForClient / 2) {
    paused_ = false;
    if (connection_ && (connection_->readable || (connection_->in && connection_->in->size()))) {
      if (connection_->in && connection_->in->size() > 0) ProcessBody();
      if (!detached_ && connection_ && !paused_ && !response_done_) Read();
    }
  }
}

void H1Upstream::Finish() {
  response_done_ = true;
  ReleaseConnection();
  call_.OnUpstreamEnd();
  call_.OnUpstreamClosed(http::h2::kNoError, false);  // the call lets go of this
}

void H1Upstream::Fail(bool unprocessed) {
  if (detached_) return;
  upstream_keep_alive_ = false;
  if (connection_) {
    connection_->owner = nullptr;
    connection_->Close();
    connection_ = nullptr;
  }
  call_.OnUpstreamClosed(http::h2::kInternalError, unprocessed || !connected_);
}

}  // namespace gantry::proxy
