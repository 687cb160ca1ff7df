#include "proxy/h2_backend.h"

#include <unistd.h>

#include <cerrno>
#include <vector>

#include "net/socket.h"
#include "proxy/h2_call.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

namespace gantry::proxy {

namespace {
// Upstream windows are wide: the replica is trusted, and the client side's own windows bound
// what piles up here (bytes are consumed only as the client takes them).
http::h2::Limits BackendLimits() {
  http::h2::Limits limits;
  limits.stream_window = 1024 * 1024;
  limits.connection_window = 16 * 1024 * 1024;
  return limits;
}
}  // namespace

H2Backend* H2Backend::Dial(Worker& worker, const Endpoint& endpoint,
                           std::shared_ptr<ClusterRuntime> cluster) {
  int fd = net::ConnectSocket(endpoint.socket_address);
  if (fd < 0) return nullptr;
  auto* backend = new H2Backend(worker, fd, endpoint.runtime, std::move(cluster));
  if (!worker.loop().Add(fd, backend).ok()) {
    int error = errno;
    ::close(fd);
    backend->fd_ = -1;  // the caller gives the connection slot back
    delete backend;
    errno = error;
    return nullptr;
  }
  return backend;
}

H2Backend::H2Backend(Worker& worker, int fd, std::shared_ptr<EndpointRuntime> runtime,
                     std::shared_ptr<ClusterRuntime> cluster)
    : worker_(worker),
      fd_(fd),
      runtime_(std::move(runtime)),
      cluster_(std::move(cluster)),
      session_(http::h2::Session::Client(*this, BackendLimits())) {
  session_->TakeOutput(out_);  // the preface and SETTINGS go first, once connected
}

H2Backend::~H2Backend() {
  if (fd_ >= 0) {
    ::close(fd_);
    cluster_->breaker.Release(CircuitBreaker::kConnections);
  }
}

bool H2Backend::CanOpen() const { return !closed_ && !draining_ && session_->CanOpenStream(); }

int32_t H2Backend::Open(H2Call& call, std::span<const http::h2::Field> fields, bool end_stream) {
  if (!CanOpen()) return 0;
  int32_t stream = session_->SubmitRequest(fields, end_stream);
  if (stream == 0) return 0;
  calls_[stream] = &call;
  Flush();
  return stream;
}

void H2Backend::SendData(int32_t stream, std::string_view data) {
  session_->SendData(stream, data);
  Flush();
}

void H2Backend::SendEnd(int32_t stream) {
  session_->SendEnd(stream);
  Flush();
}

void H2Backend::Consume(int32_t stream, size_t bytes) {
  session_->Consume(stream, bytes);
  Flush();
}

void H2Backend::Forget(int32_t stream) {
  if (calls_.erase(stream) == 0 || closed_) return;
  session_->Reset(stream, http::h2::kCancel);
  Flush();
  AfterStreamEnded();
}

H2Call* H2Backend::CallOf(int32_t stream) {
  auto it = calls_.find(stream);
  return it == calls_.end() ? nullptr : it->second;
}

void H2Backend::OnHeaders(int32_t stream, std::span<const http::h2::Field> fields,
                          bool end_stream) {
  if (H2Call* call = CallOf(stream)) call->OnUpstreamHeaders(fields, end_stream);
}

void H2Backend::OnData(int32_t stream, std::string_view data) {
  if (H2Call* call = CallOf(stream)) {
    call->OnUpstreamData(data);
  } else {
    session_->Consume(stream, data.size());
  }
}

void H2Backend::OnEndStream(int32_t stream) {
  if (H2Call* call = CallOf(stream)) call->OnUpstreamEnd();
}

void H2Backend::OnStreamClose(int32_t stream, uint32_t error_code) {
  auto it = calls_.find(stream);
  if (it == calls_.end()) return;
  H2Call* call = it->second;
  calls_.erase(it);
  // REFUSED_STREAM (RFC 9113 8.7): the replica did not act on the request.
  call->OnUpstreamClosed(error_code, error_code == http::h2::kRefusedStream);
  AfterStreamEnded();
}

void H2Backend::OnDataSent(int32_t stream, size_t bytes) {
  if (H2Call* call = CallOf(stream)) call->UpstreamTook(bytes);
}

void H2Backend::AfterStreamEnded() {
  if (!calls_.empty()) return;
  idle_since_ms = worker_.loop().now_ms();
  if (draining_ && !closed_) Close();
}

void H2Backend::Drain() {
  draining_ = true;
  if (calls_.empty()) Close();
}

void H2Backend::OnIo(uint32_t events) {
  if (closed_) return;
  if (!connected_) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    if (net::SocketError(fd_) != 0) return Close();
    connected_ = true;
  }
  if (events & (EPOLLRDHUP | EPOLLHUP)) peer_closed_ = true;
  if (events & EPOLLOUT) FlushNow();
  if (!closed_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) ReadSocket();
}

void H2Backend::ReadSocket() {
  char buffer[16 * 1024];
  while (!closed_) {
    ssize_t n = net::Recv(fd_, buffer, sizeof buffer);
    if (n > 0) {
      absl::Status status = session_->Receive(std::string_view(buffer, static_cast<size_t>(n)));
      if (!status.ok()) {
        FlushNow();  // the GOAWAY, if the socket takes it
        return Close();
      }
      Flush();
      // Drained, unless a FIN came too: then read on to see the EOF (no edge will come).
      if (static_cast<size_t>(n) < sizeof buffer && !peer_closed_) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    return Close();  // closed by the replica, or failed
  }
}

void H2Backend::Flush() {
  if (!closed_) worker_.loop().Defer(this);
}

// Never inside nghttp2's callbacks (they only defer): nghttp2 must not be asked for output then.
void H2Backend::FlushNow() {
  if (closed_) return;
  for (;;) {
    if (out_sent_ == out_.size()) {
      out_.clear();
      out_sent_ = 0;
      // May call back (OnDataSent): the calls' clients only defer their flushes.
      if (!session_->TakeOutput(out_)) break;
    }
    if (!connected_) return;  // written once connected
    ssize_t n = net::Send(fd_, out_.data() + out_sent_, out_.size() - out_sent_);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // EPOLLOUT resumes
    return Close();
  }
  if (!session_->Alive()) Close();
}

void H2Backend::Close() {
  if (closed_) return;
  closed_ = true;
  worker_.H2BackendClosed(this);
  worker_.loop().Close(fd_);
  fd_ = -1;
  cluster_->breaker.Release(CircuitBreaker::kConnections);
  std::vector<H2Call*> orphans;
  for (auto& [stream, call] : calls_) orphans.push_back(call);
  calls_.clear();
  for (H2Call* call : orphans) call->OnUpstreamClosed(http::h2::kInternalError, !connected_);
  worker_.loop().DeleteLater(std::unique_ptr<net::LoopOwned>(this));
}

}  // namespace gantry::proxy
