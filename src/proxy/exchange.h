// One request's way upstream and its response's way back: pick an endpoint, take a pooled
// connection or dial one, send the request, read the response head, then relay the body to the
// client as it comes (backpressure: reading upstream waits while the client's output is
// queued). Failures before the response begins are answered (502/504) or replayed; after it
// began, the client connection is cut.
// Worker thread only. Owned by its ClientConn, deleted through the loop.
#pragma once

#include <cstdint>
#include <string>

#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

namespace gantry::proxy {

class ClientConn;
class UpstreamConn;

// What the client side learned from the request head.
struct ExchangeRequest {
  http::h1::Method method = http::h1::Method::kGet;
  bool client_keep_alive = true;
  int client_minor = 1;       // HTTP/1.x of the client
  uint64_t key_hash = 0;      // for the hashing balancers
};

struct UpstreamTimeouts {
  static constexpr int64_t kConnectMs = 2'000;
  static constexpr int64_t kRequestMs = 15'000;  // from start to the end of the response
};

class Exchange final : public net::LoopOwned, public net::TimerHandler {
 public:
  Exchange(Worker& worker, ClientConn& client, WorkerView* view, const Cluster& cluster,
           ExchangeRequest request);
  ~Exchange() override;

  // The bytes to send upstream: head then body, filled by the client side before Start().
  std::string& request() { return request_; }
  void Start();

  void OnUpstreamIo(uint32_t events);
  void OnClientDrained();  // the client's queued output was written: relaying may go on
  void Cancel();           // the client went away
  void OnTimer(net::Timer& timer) override;

 private:
  enum class Phase : uint8_t { kConnecting, kWriting, kReadingHead, kRelaying, kDone };
  enum class Failure : uint8_t { kConnect, kReset, kTimeout, kBadResponse };

  void Attempt(bool allow_pooled);
  void OnConnected();
  void WriteRequest();
  void ReadResponse();
  bool ProcessResponse();  // false: stop reading (done, failed or paused)
  bool Commit(const http::h1::ResponseHead& head);
  bool Relay();
  void OnUpstreamEof();
  void Failed(Failure failure, std::string_view detail);
  void AnswerError(int status, std::string_view code, std::string_view message);
  void Finish(bool upstream_reusable);
  void ReleaseUpstream(bool reusable);

  Worker& worker_;
  ClientConn& client_;
  WorkerView* view_;
  const Cluster& cluster_;
  ExchangeRequest request_info_;
  std::string request_;
  size_t request_sent_ = 0;
  const Endpoint* endpoint_ = nullptr;
  UpstreamConn* upstream_ = nullptr;
  bool reused_ = false;        // the connection came from the pool
  bool replayed_ = false;      // a stale pooled connection was already replaced once
  bool counted_ = false;       // counted in the endpoint's in-flight requests
  bool got_response_bytes_ = false;
  bool paused_ = false;        // waiting for the client's output to drain
  Phase phase_ = Phase::kConnecting;
  net::Timer request_timer_;
  net::Timer connect_timer_;
  size_t head_scanned_ = 0;
  std::string head_out_;       // the client's response head, until sent with the first body bytes
  http::h1::Framing framing_ = http::h1::Framing::kNone;
  uint64_t body_remaining_ = 0;
  http::h1::ChunkedDecoder chunked_;
  bool dechunk_ = false;        // chunked upstream, HTTP/1.0 client: send the data only
  bool upstream_keep_alive_ = true;
  bool client_keep_alive_ = true;
  int status_ = 0;
};

}  // namespace gantry::proxy
