// One client (downstream) connection on a worker: reads and checks requests, hands each to an
// Exchange, writes what the exchange sends back, and enforces the connection's timeouts
// (header 10 s -> 408, idle keep-alive 60 s, stalled writes 30 s). A malformed request gets
// its 4xx and a graceful close; other connections never notice.
// Worker thread only; created by Worker::Accepted, deleted through the loop.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "net/event_loop.h"
#include "net/tls.h"
#include "proxy/buffer_pool.h"
#include "proxy/request_route.h"
#include "proxy/worker.h"

namespace gantry::proxy {

class Exchange;
class H2Frontend;

struct ClientTimeouts {
  static constexpr int64_t kHeaderMs = 10'000;  // from a request's first byte to its last
  static constexpr int64_t kIdleMs = 60'000;    // between requests
  static constexpr int64_t kWriteMs = 30'000;   // without the client taking any bytes
  static constexpr int64_t kLingerMs = 2'000;   // after an error, for the client to read it
};

inline constexpr uint64_t kMaxRequestBody = uint64_t{8} * 1024 * 1024;

class ClientConn final : public net::IoHandler, public net::TimerHandler {
 public:
  // With `tls`, the connection starts with a TLS handshake (the gateway's `tls:`).
  ClientConn(Worker& worker, int fd, ListenerKind kind, std::string peer_ip,
             std::unique_ptr<net::TlsConnection> tls = nullptr);
  ~ClientConn() override;

  void Start();  // registers with the loop
  void OnIo(uint32_t events) override;
  void OnTimer(net::Timer& timer) override;

  // --- for the exchange ---
  // Writes `a` then `b`; what the socket does not take now is queued and written as it drains.
  // False when the client is gone: the exchange must stop (the connection closes).
  bool Send(std::string_view a, std::string_view b = {});
  bool output_pending() const { return out_sent_ < out_.size(); }
  // The response has been handed over (perhaps still queued). The exchange is deleted later.
  void ExchangeDone(bool keep_alive);
  // The exchange failed after its response began: the client cannot be told, only cut off.
  void Abort();
  // The HTTP/2 side is finished (a connection error, or GOAWAY): send what is queued, close.
  void EndH2();
  // The exchange became a tunnel (101): from now on the client's bytes go to it unparsed.
  void StartTunnel();
  void ResumeTunnel();  // the upstream took what was queued: read from the client again
  ListenerKind kind() const { return kind_; }
  bool tls() const { return tls_ != nullptr; }
  const std::string& peer_ip() const { return peer_ip_; }
  int64_t request_start_us() const { return request_start_us_; }

  void Close();  // at once, from anywhere (worker shutdown too)

  ClientConn* list_prev = nullptr;  // the worker's list of clients
  ClientConn* list_next = nullptr;

 private:
  enum class State : uint8_t {
    kHandshake,    // TLS: the handshake is under way
    kReading,      // waiting for (the rest of) a request head
    kReadingBody,  // the head is parsed; its body is coming
    kExchanging,   // the exchange runs
    kDraining,     // the exchange is done; queued output is being written
    kLingering,    // an error answer was sent: reading and dropping until the client closes
    kTunnel,       // after 101 (WebSocket): bytes go to the exchange's upstream as they come
    kH2,           // the client opened with the HTTP/2 preface: h2_ has the connection
  };

  // The socket, through TLS when there is some: like recv/send.
  ssize_t ReadSome(void* buffer, size_t size);
  ssize_t WriteSome(const void* data, size_t size);
  // Whether a read of `got` of `want` bytes emptied the socket, so that the next bytes come
  // with an edge. OpenSSL may hold decrypted bytes back: with TLS, read on until EAGAIN.
  bool Drained(ssize_t got, size_t want) const { return !tls_ && static_cast<size_t>(got) < want; }
  void ContinueHandshake();
  void ReadAndProcess();
  void TunnelRead();
  bool AtH2Preface();  // the first bytes are (the start of) HTTP/2's connection preface
  void StartH2();
  void H2Read();
  bool Receive();  // one recv into in_; false when the connection ended
  void OnPeerClosed();
  void ProcessBuffered();
  void OnHead(const http::h1::RequestHead& head);
  bool Admit(const http::h1::RequestHead& head, RoutedRequest& routed, std::string& extra_fields);
  void TakeBody();
  void BeginExchange();
  void AfterResponse();
  void Reject(int status, std::string_view code, std::string_view message,
              std::string_view extra_fields = {});
  void AnswerAndContinue(int status, std::string_view code, std::string_view message,
                         std::string_view extra_fields = {});
  void Flush();
  void Linger();
  void ReleaseBufferIfEmpty();
  void ArmTimer(int64_t ms);

  Worker& worker_;
  int fd_;
  ListenerKind kind_;
  State state_ = State::kReading;
  bool readable_ = false;     // edge-triggered: bytes may be waiting
  bool peer_closed_ = false;  // the client sent FIN (EPOLLRDHUP or a read of 0)
  bool keep_alive_ = true;    // after the current request
  bool head_request_ = false;
  bool expect_continue_ = false;
  bool body_chunked_ = false;
  bool in_read_loop_ = false;   // ReadAndProcess is on the stack
  bool tunnel_paused_ = false;  // the upstream side of the tunnel is full
  bool first_request_ = true;   // nothing parsed yet: HTTP/2's preface may come
  std::string peer_ip_;
  std::unique_ptr<IoBuffer> in_;
  size_t head_scanned_ = 0;
  uint64_t body_remaining_ = 0;  // Content-Length bytes still to come
  http::h1::ChunkedDecoder chunked_;
  std::string chunked_body_;  // a chunked body, decoded, until it is complete
  std::string out_;
  size_t out_sent_ = 0;
  net::Timer timer_;
  int64_t request_start_us_ = 0;
  std::unique_ptr<Exchange> exchange_;
  std::unique_ptr<H2Frontend> h2_;
  std::unique_ptr<net::TlsConnection> tls_;
};

}  // namespace gantry::proxy
