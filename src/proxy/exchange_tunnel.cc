// The tunnel an Exchange becomes after 101 Switching Protocols (WebSocket): bytes both ways,
// unchanged, with backpressure on each side and an idle timeout; either side closing closes
// both. Part of Exchange.
#include <cerrno>

#include "net/socket.h"
#include "proxy/client_conn.h"
#include "proxy/exchange.h"
#include "proxy/rewrite.h"
#include "proxy/upstream_conn.h"

namespace gantry::proxy {

namespace {
constexpr int64_t kTunnelIdleMs = 60'000;  // as nginx's proxy_read_timeout
}  // namespace

bool Exchange::CommitTunnel(const http::h1::ResponseHead& head) {
  EndTry();
  worker_.loop().timers().Cancel(request_timer_);  // a tunnel lives as long as it is used
  status_ = head.status;
  DownstreamHeadInput out;
  out.head = &head;
  out.keep_upgrade = true;
  head_out_.clear();
  AppendDownstreamHead(out, head_out_);
  IoBuffer& in = *upstream_->in;
  in.Consume(head.head_size);
  std::string_view early(in.read_ptr(), in.size());  // frames the upstream sent at once
  in.Consume(early.size());
  phase_ = Phase::kTunnel;
  worker_.loop().timers().Arm(tunnel_timer_, worker_.loop().now_ms() + kTunnelIdleMs);
  if (!client_.Send(head_out_, early)) return false;  // the client is gone
  head_out_.clear();
  if (client_.output_pending()) paused_ = true;
  client_.StartTunnel();  // and whatever the client sent after its request goes up now
  if (phase_ == Phase::kTunnel && upstream_ && upstream_->readable && !paused_) {
    TunnelFromUpstream();
  }
  return false;
}

void Exchange::TunnelFromUpstream() {
  for (;;) {
    UpstreamConn& upstream = *upstream_;
    if (!upstream.in) upstream.in = worker_.buffers().Acquire();
    IoBuffer& in = *upstream.in;
    size_t want = in.space();
    ssize_t n = net::Recv(upstream.fd(), in.write_ptr(), want);
    if (n > 0) {
      worker_.loop().timers().Arm(tunnel_timer_, worker_.loop().now_ms() + kTunnelIdleMs);
      std::string_view data(in.write_ptr(), static_cast<size_t>(n));
      if (static_cast<size_t>(n) < want && !upstream.peer_closed) upstream.readable = false;
      if (!client_.Send(data)) return;  // the client is gone: it cancelled this exchange
      if (client_.output_pending()) {
        paused_ = true;  // OnClientDrained resumes
        return;
      }
      if (!upstream.readable) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      upstream.readable = false;
      return;
    }
    return EndTunnel();  // closed (or failed): the tunnel ends
  }
}

bool Exchange::TunnelToUpstream(std::string_view data) {
  if (phase_ != Phase::kTunnel || !upstream_) return false;
  worker_.loop().timers().Arm(tunnel_timer_, worker_.loop().now_ms() + kTunnelIdleMs);
  if (to_upstream_sent_ < to_upstream_.size()) {
    to_upstream_.append(data);
    return false;
  }
  ssize_t n = net::Send(upstream_->fd(), data.data(), data.size());
  if (n == static_cast<ssize_t>(data.size())) return true;
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    EndTunnel();
    return false;
  }
  to_upstream_.assign(data.substr(n < 0 ? 0 : static_cast<size_t>(n)));
  to_upstream_sent_ = 0;
  return false;  // EPOLLOUT flushes, then the client reads again
}

void Exchange::FlushToUpstream() {
  while (to_upstream_sent_ < to_upstream_.size()) {
    ssize_t n = net::Send(upstream_->fd(), to_upstream_.data() + to_upstream_sent_,
                          to_upstream_.size() - to_upstream_sent_);
    if (n > 0) {
      to_upstream_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    return EndTunnel();
  }
  to_upstream_.clear();
  to_upstream_sent_ = 0;
  client_.ResumeTunnel();
}

void Exchange::TunnelClosedByClient() { EndTunnel(); }

void Exchange::EndTunnel() {
  if (phase_ != Phase::kTunnel) return;
  ReleaseUpstream(false);  // a tunnel's connection is never pooled
  End();
  client_.Abort();
}

}  // namespace gantry::proxy
