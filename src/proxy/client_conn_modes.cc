// What a client connection becomes besides a stream of HTTP/1.1 requests: a TLS session's
// handshake first (the gateway's `tls:`), HTTP/2 when it opens with the preface (h2c with prior
// knowledge, or h2 by ALPN: H2Frontend takes the bytes), and a WebSocket tunnel after a 101.

#include <algorithm>
#include <cerrno>

#include "proxy/client_conn.h"
#include "proxy/exchange.h"
#include "proxy/h2_frontend.h"

namespace gantry::proxy {

void ClientConn::ContinueHandshake() {
  switch (tls_->Handshake()) {
    case net::TlsConnection::Step::kWantIo:
      return;
    case net::TlsConnection::Step::kFailed:
      return Close();  // not TLS, no common version or cipher...: nothing to answer
    case net::TlsConnection::Step::kDone:
      break;
  }
  // ALPN h2 or not, the client's first bytes say which protocol it speaks (the h2 preface).
  state_ = State::kReading;
  ArmTimer(ClientTimeouts::kIdleMs);
  readable_ = true;  // application data may have come with the handshake's last flight
  ReadAndProcess();
}

void ClientConn::StartTunnel() {
  state_ = State::kTunnel;
  if (in_ && in_->size() > 0) {  // frames the client sent right after its request
    std::string_view early(in_->read_ptr(), in_->size());
    in_->Consume(early.size());
    if (!exchange_->TunnelToUpstream(early)) tunnel_paused_ = true;
  }
  if (fd_ >= 0 && (readable_ || peer_closed_)) TunnelRead();
}

void ClientConn::ResumeTunnel() {
  tunnel_paused_ = false;
  if (readable_ || peer_closed_) TunnelRead();
}

void ClientConn::TunnelRead() {
  while (fd_ >= 0 && state_ == State::kTunnel && !tunnel_paused_ && exchange_) {
    if (!in_) in_ = worker_.buffers().Acquire();
    size_t want = in_->space();
    ssize_t n = ReadSome(in_->write_ptr(), want);
    if (n > 0) {
      std::string_view data(in_->write_ptr(), static_cast<size_t>(n));
      if (Drained(n, want) && !peer_closed_) readable_ = false;
      if (!exchange_->TunnelToUpstream(data)) tunnel_paused_ = true;
      if (!readable_) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      readable_ = false;
      if (!peer_closed_) break;
      n = 0;  // a FIN came with the last bytes
    }
    return exchange_->TunnelClosedByClient();  // closed or failed: the tunnel ends
  }
  ReleaseBufferIfEmpty();
}

// h2c with prior knowledge (RFC 9113 3.3): the preface instead of a request line.
bool ClientConn::AtH2Preface() {
  size_t n = std::min(in_->size(), kH2Preface.size());
  return std::string_view(in_->read_ptr(), n) == kH2Preface.substr(0, n);
}

void ClientConn::StartH2() {
  first_request_ = false;
  head_scanned_ = 0;
  state_ = State::kH2;
  h2_ = std::make_unique<H2Frontend>(worker_, *this);
  ArmTimer(ClientTimeouts::kIdleMs);
  std::string_view data(in_->read_ptr(), in_->size());
  bool ok = h2_->Receive(data);
  if (in_) in_->Consume(data.size());
  if (!ok) return EndH2();
  H2Read();
}

void ClientConn::H2Read() {
  char buffer[16 * 1024];
  while (fd_ >= 0 && state_ == State::kH2 && readable_) {
    ssize_t n = ReadSome(buffer, sizeof buffer);
    if (n > 0) {
      if (Drained(n, sizeof buffer) && !peer_closed_) readable_ = false;
      if (!output_pending()) ArmTimer(ClientTimeouts::kIdleMs);
      if (!h2_->Receive(std::string_view(buffer, static_cast<size_t>(n)))) return EndH2();
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      readable_ = false;
      if (!peer_closed_) break;
    }
    return Close();  // the client closed (a FIN may come with its last bytes) or failed
  }
  if (fd_ >= 0) ReleaseBufferIfEmpty();
}

void ClientConn::EndH2() {
  keep_alive_ = false;
  if (h2_) {
    h2_->FlushNow();  // the GOAWAY; a failed write closes the connection (and takes h2_)
    if (!h2_) return;
    h2_->Detach();
    worker_.loop().DeleteLater(std::move(h2_));
  }
  if (fd_ < 0) return;
  if (output_pending()) {
    state_ = State::kDraining;  // Flush() lingers once the client has taken it
    return;
  }
  Linger();
}

}  // namespace gantry::proxy
