// One request's way upstream and its response's way back, under its service's policy: the
// circuit breaker's thresholds, a deadline (policy.timeout, shortened by the caller's
// X-Gantry-Timeout-Ms, passed on to the replica as what is left), tries with their own timeout,
// retries with jittered exponential backoff inside the retry budget, and outlier counting.
// A try: pick an endpoint, take a pooled connection or dial one, send, read the response head;
// then the body is relayed to the client as it comes (reading upstream waits while the
// client's output is queued). Failures before the response begins are retried or answered
// (502/503/504); after it began, the client connection is cut.
// Worker thread only. Owned by its ClientConn, deleted through the loop.
#pragma once

#include <cstdint>
#include <string>

#include "http/h1_chunked.h"
#include "http/h1_head.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"
#include "proxy/hop_trace.h"
#include "proxy/resilience/retry_policy.h"
#include "proxy/snapshot.h"
#include "proxy/upstream_conn.h"
#include "proxy/worker.h"

namespace gantry::proxy {

class ClientConn;
class UpstreamConn;

// What the client side learned from the request head.
struct ExchangeRequest {
  http::h1::Method method = http::h1::Method::kGet;
  bool client_keep_alive = true;
  int client_minor = 1;                        // HTTP/1.x of the client
  uint64_t key_hash = 0;                       // for the hashing balancers
  int64_t caller_timeout_ms = -1;              // X-Gantry-Timeout-Ms from the caller; -1: none
  size_t deadline_offset = std::string::npos;  // where the 8 digits of our own header are
  const Route* route = nullptr;                // the gateway route (null on the mesh)
  std::string upgrade;     // the Upgrade a WebSocket request asks for; "" for none
  std::string log_target;  // the target as received, when access logging is on
  std::string log_request_id;
  HopTrace trace;  // when the worker records spans
};

inline constexpr int64_t kConnectTimeoutMs = 2'000;
inline constexpr size_t kDeadlineDigits = 8;
inline constexpr std::string_view kDeadlineHeader = "X-Gantry-Timeout-Ms";

class Exchange final : public net::LoopOwned, public net::TimerHandler, public UpstreamUser {
 public:
  Exchange(Worker& worker, ClientConn& client, WorkerView* view, const Cluster& cluster);
  ~Exchange() override;
  // Exchanges come and go with every request: their memory is recycled per thread.
  static void* operator new(size_t size);
  static void operator delete(void* memory);

  // Filled by the client side before Start(): the bytes to send (head then body) and the facts.
  std::string& request() { return request_; }
  ExchangeRequest& info() { return info_; }
  void Start();

  void OnUpstreamIo(uint32_t events) override;
  void OnClientDrained();  // the client's queued output was written: relaying may go on
  // --- the tunnel after 101 (WebSocket) ---
  // Bytes from the client for the upstream; false when they had to be queued (the client then
  // stops reading until ResumeTunnel).
  bool TunnelToUpstream(std::string_view data);
  void TunnelClosedByClient();
  void Cancel();  // the client went away
  void OnTimer(net::Timer& timer) override;

 private:
  enum class Phase : uint8_t {
    kConnecting,
    kWriting,
    kReadingHead,
    kBackoff,
    kRelaying,
    kTunnel,  // after 101 Switching Protocols: bytes both ways (exchange_tunnel.cc)
    kDone
  };

  // exchange.cc: tries, retries and the end
  void Attempt(bool allow_pooled);
  void OnConnected();
  void WriteRequest();
  void PatchDeadline(int64_t remaining_ms);
  void TryFailed(TryOutcome outcome, std::string_view detail);
  bool TakeRetry(TryOutcome outcome, int status);
  void ScheduleRetry();
  void NoteTryResult(int status, bool local_failure);
  void EndTry();
  void AnswerError(int status, std::string_view code, std::string_view message,
                   bool overloaded = false);
  void Finish(bool upstream_reusable);
  void End();
  void ReleaseUpstream(bool reusable);
  void CancelTimers();

  // exchange_tunnel.cc: WebSocket
  bool CommitTunnel(const http::h1::ResponseHead& head);
  void TunnelFromUpstream();
  void FlushToUpstream();
  void EndTunnel();

  // exchange_relay.cc: the response
  void ReadResponse();
  bool ProcessResponse();  // false: stop reading (done, failed, retrying or paused)
  bool Commit(const http::h1::ResponseHead& head);
  bool Relay();
  void OnUpstreamEof();

  Worker& worker_;
  ClientConn& client_;
  WorkerView* view_;
  const Cluster& cluster_;
  ClusterRuntime& runtime_;
  ExchangeRequest info_;
  std::string request_;
  size_t request_sent_ = 0;
  const Endpoint* endpoint_ = nullptr;
  const Endpoint* previous_endpoint_ = nullptr;
  UpstreamConn* upstream_ = nullptr;
  Phase phase_ = Phase::kConnecting;
  bool started_ = false;        // holds the breaker's request slot and counts in the budget
  bool reused_ = false;         // the connection came from the pool
  bool replayed_ = false;       // a stale pooled connection was already replaced once
  bool counted_ = false;        // counted in the endpoint's in-flight requests
  bool pending_ = false;        // holds the breaker's pending slot (connecting)
  bool holding_retry_ = false;  // holds a retry from the budget
  bool got_response_bytes_ = false;
  // Some of the response went to the client: a failure now can only cut the connection. Until
  // then (a bad chunk in the first bytes of the body too) it is retried or answered 502.
  bool responded_ = false;
  bool paused_ = false;  // waiting for the client's output to drain
  int retries_ = 0;
  int64_t timeout_ms_ = 0;   // the whole request's ...
  int64_t deadline_ms_ = 0;  // ... and when it runs out
  int64_t try_start_us_ = 0;
  net::Timer request_timer_;
  net::Timer try_timer_;
  net::Timer connect_timer_;
  net::Timer backoff_timer_;
  net::Timer tunnel_timer_;  // idle tunnels close
  std::string to_upstream_;  // tunnel bytes the upstream socket has not taken yet
  size_t to_upstream_sent_ = 0;
  size_t head_scanned_ = 0;
  std::string head_out_;  // the client's response head, until sent with the first body bytes
  http::h1::Framing framing_ = http::h1::Framing::kNone;
  uint64_t body_remaining_ = 0;
  http::h1::ChunkedDecoder chunked_;
  bool dechunk_ = false;  // chunked upstream, HTTP/1.0 client: send the data only
  bool upstream_keep_alive_ = true;
  bool client_keep_alive_ = true;
  int status_ = 0;  // what the client got (0: cut off)
};

}  // namespace gantry::proxy
