// One HTTP/2 request (a gRPC call, unary or streaming) from a client stream to a stream on a
// replica's multiplexed connection (protocol: grpc), or to an HTTP/1.1 exchange on a pooled
// connection (protocol: http: h1_upstream.h), under its service's policy: circuit breaker, a
// deadline (policy.timeout, shortened by the caller's grpc-timeout or X-Gantry-Timeout-Ms, passed
// on as grpc-timeout with what is left), retries of connect failures, refused streams and listed
// gRPC codes with jittered backoff inside the retry budget (while the request body so far is small
// enough to send again), and each call balanced on its own.
// Bodies stream both ways under HTTP/2 flow control: bytes are consumed on one side only once
// the other side's peer took them, so a slow reader holds its sender back.
// gantry's own failures are answered in the caller's terms: gRPC statuses (UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED...) for gRPC calls, HTTP statuses with a JSON body
// otherwise.
// Worker thread only. Owned by its H2Frontend, deleted through the loop.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "http/h2_session.h"
#include "net/event_loop.h"
#include "net/timer_wheel.h"
#include "proxy/hop_trace.h"
#include "proxy/resilience/retry_policy.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

namespace gantry::proxy {

class H1Upstream;
class H2Backend;
class H2Frontend;

// A request body up to this size is kept so that the call can be tried again.
inline constexpr size_t kMaxReplayBody = 64 * 1024;

class H2Call final : public net::LoopOwned, public net::TimerHandler {
 public:
  H2Call(Worker& worker, H2Frontend& frontend, int32_t stream, WorkerView* view,
         const Cluster& cluster, bool grpc);
  ~H2Call() override;

  // Filled before Start: the request head to send upstream, and the caller's own deadline.
  std::vector<std::pair<std::string, std::string>>& fields() { return fields_; }
  // For the route's stats and the access log.
  HopTrace& trace() { return trace_; }
  void SetLogInfo(const Route* route, std::string target, std::string request_id) {
    route_ = route;
    log_target_ = std::move(target);
    log_request_id_ = std::move(request_id);
  }
  void Start(bool end_stream, int64_t caller_timeout_ms);

  // --- the client's stream (H2Frontend) ---
  void FromClient(std::string_view data);
  void ClientEnded();
  void ClientGone();  // the client's stream closed, normally or not: nothing more is sent
  void ClientTook(size_t bytes);  // response bytes went out to the client

  // --- the replica's stream (H2Backend) ---
  void OnUpstreamHeaders(std::span<const http::h2::Field> fields, bool end_stream);
  void OnUpstreamData(std::string_view data);
  void OnUpstreamEnd();
  // The replica's stream is gone: ended (kNoError) or reset; `unprocessed` when the replica
  // cannot have acted on the request (no connection, REFUSED_STREAM).
  void OnUpstreamClosed(uint32_t error_code, bool unprocessed);
  void UpstreamTook(size_t bytes);  // request bytes went out to the replica

  void OnTimer(net::Timer& timer) override;

  // Failures answered before a call exists (routing) use the same shapes.
  static void AnswerRefusal(H2Frontend& frontend, int32_t stream, bool grpc, int status,
                            std::string_view code, std::string_view message,
                            std::span<const http::h2::Field> extra = {});

 private:
  enum class Phase : uint8_t { kWaiting, kBackoff, kResponding, kDone };

  void Attempt();
  bool OpenStream(std::span<const http::h2::Field> fields, bool end_stream, bool& overloaded);
  bool OpenHttp1(std::span<const http::h2::Field> fields, bool end_stream, bool& overloaded);
  void SendUpstream(std::string_view data);
  void EndUpstream();
  void TryFailed(TryOutcome outcome, std::string_view detail);
  bool TakeRetry(TryOutcome outcome);
  void ScheduleRetry();
  void LeaveUpstream();  // forgets the replica's stream (reset if open) and the endpoint
  void NoteTryResult(bool failed);
  void AnswerError(int status, std::string_view code, std::string_view message,
                   bool overloaded = false);
  void End();  // once: breaker slot, budget, stats

  Worker& worker_;
  H2Frontend& frontend_;
  int32_t stream_;
  WorkerView* view_;
  const Cluster& cluster_;
  ClusterRuntime& runtime_;
  bool grpc_;
  http::h1::Method method_ = http::h1::Method::kPost;
  std::vector<std::pair<std::string, std::string>> fields_;
  Phase phase_ = Phase::kWaiting;
  // The request body: kept whole while it is small enough to replay (replayable_).
  std::string body_;
  bool replayable_ = true;
  bool client_ended_ = false;
  size_t credited_ = 0;  // request bytes the client was let send again (consumed)
  size_t try_sent_ = 0;  // request bytes the replica's stream took in this try
  const Endpoint* endpoint_ = nullptr;
  const Endpoint* previous_endpoint_ = nullptr;  // a retry avoids it
  const Endpoint* last_endpoint_ = nullptr;      // the last one tried, for the log
  const Route* route_ = nullptr;                 // the gateway route (null on the mesh)
  std::string log_target_;                       // when access logging is on
  std::string log_request_id_;
  HopTrace trace_;
  // The try under way: a stream on a multiplexed HTTP/2 connection (protocol: grpc), or an
  // HTTP/1.1 exchange on a pooled connection (protocol: http).
  H2Backend* backend_ = nullptr;
  int32_t upstream_stream_ = 0;
  std::unique_ptr<H1Upstream> h1_;
  bool started_ = false;  // holds the breaker's request slot and counts in the budget
  bool holding_retry_ = false;
  int retries_ = 0;
  int status_ = 0;  // the HTTP status the client got (0: none)
  int64_t timeout_ms_ = 0;
  int64_t deadline_ms_ = 0;
  int64_t start_us_ = 0;
  net::Timer deadline_timer_;
  net::Timer backoff_timer_;
};

}  // namespace gantry::proxy
