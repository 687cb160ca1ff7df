#include "proxy/h2_call.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

#include "http/grpc_wire.h"
#include "http/message.h"
#include "proxy/access_log.h"
#include "proxy/h1_upstream.h"
#include "proxy/h2_backend.h"
#include "proxy/h2_frontend.h"

namespace gantry::proxy {

using http::h2::Field;
namespace grpc = http::grpc;

namespace {

// The gRPC code for an HTTP status gantry answers with (grpc/doc/http-grpc-status-mapping.md,
// and Envoy's choices for the ones it leaves open).
int GrpcCodeFor(int status) {
  switch (status) {
    case 400:
      return grpc::kInternal;
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
    case 405:
    case 501:
      return grpc::kUnimplemented;
    case 413:
      return grpc::kResourceExhausted;
    case 504:
      return grpc::kDeadlineExceeded;
    case 429:
    case 502:
    case 503:
    default:
      return grpc::kUnavailable;
  }
}

int ParseStatus(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() ? value : -1;
}

}  // namespace

void H2Call::AnswerRefusal(H2Frontend& frontend, int32_t stream, bool grpc, int status,
                           std::string_view code, std::string_view message,
                           std::span<const Field> extra) {
  if (grpc) {  // "trailers only": the status rides on the one header block
    std::string grpc_status = std::to_string(
        status == 503 && code == "overloaded" ? grpc::kResourceExhausted : GrpcCodeFor(status));
    std::string grpc_message = grpc::EncodeMessage(message);
    std::vector<Field> fields = {{":status", "200"},
                                 {"content-type", "application/grpc"},
                                 {"grpc-status", grpc_status},
                                 {"grpc-message", grpc_message}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    frontend.SubmitResponse(stream, fields, true);
    return;
  }
  std::string body = http::JsonError(status, code, message).body;
  std::string status_text = std::to_string(status);
  std::string length = std::to_string(body.size());
  std::vector<Field> fields = {
      {":status", status_text}, {"content-type", "application/json"}, {"content-length", length}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  frontend.SubmitResponse(stream, fields, false);
  frontend.SendData(stream, body);
  frontend.SendEnd(stream);
}

H2Call::H2Call(Worker& worker, H2Frontend& frontend, int32_t stream, WorkerView* view,
               const Cluster& cluster, bool grpc)
    : worker_(worker),
      frontend_(frontend),
      stream_(stream),
      view_(view),
      cluster_(cluster),
      runtime_(*cluster.runtime),
      grpc_(grpc),
      deadline_timer_(this),
      backoff_timer_(this) {}

H2Call::~H2Call() {
  if (phase_ != Phase::kDone) ClientGone();
  worker_.ReleaseView(view_);
}

void H2Call::Start(bool end_stream, int64_t caller_timeout_ms) {
  client_ended_ = end_stream;
  // gRPC calls are POSTs; retries of their failures are an explicit opt-in (AllowsGrpc).
  if (!fields_.empty() && fields_[0].first == ":method") {
    method_ = http::h1::MethodOf(fields_[0].second);
  }
  start_us_ = worker_.loop().now_us();
  if (!runtime_.breaker.TryAcquire(CircuitBreaker::kRequests)) {
    return AnswerError(503, "overloaded",
                       fmt::format("service \"{}\" is at its max_requests", cluster_.service),
                       true);
  }
  started_ = true;
  runtime_.retry_budget.RequestStarted();
  int64_t timeout_ms = RequestTimeoutMs(cluster_.policy, caller_timeout_ms);
  if (timeout_ms <= 0) {
    return AnswerError(504, "deadline_exceeded", "the caller's deadline has already passed");
  }
  timeout_ms_ = timeout_ms;
  deadline_ms_ = worker_.loop().now_ms() + timeout_ms;
  worker_.loop().timers().Arm(deadline_timer_, deadline_ms_);
  Attempt();
}

void H2Call::Attempt() {
  phase_ = Phase::kWaiting;
  if (cluster_.endpoints.empty()) {
    return AnswerError(503, "no_healthy_upstream",
                       fmt::format("no healthy replica of service \"{}\"", cluster_.service));
  }
  endpoint_ = &worker_.PickEndpoint(*view_, cluster_, 0, previous_endpoint_);
  last_endpoint_ = endpoint_;
  endpoint_->runtime->per_worker[worker_.index()].AddActive(1);
  // The replica is told how long it has: in gRPC's own header, or in X-Gantry-Timeout-Ms.
  int64_t remaining_ms = std::max<int64_t>(deadline_ms_ - worker_.loop().now_ms(), 0);
  std::string remaining =
      cluster_.grpc ? grpc::FormatTimeoutMs(remaining_ms) : std::to_string(remaining_ms);
  std::vector<Field> fields;
  fields.reserve(fields_.size() + 1);
  for (const auto& [name, value] : fields_) fields.push_back({name, value});
  if (!cluster_.grpc) {
    fields.push_back({"x-gantry-timeout-ms", remaining});
  } else if (grpc_) {
    fields.push_back({"grpc-timeout", remaining});
  }
  try_sent_ = 0;
  bool end_now = client_ended_ && body_.empty();
  bool overloaded = false;
  if (!(cluster_.grpc ? OpenStream(fields, end_now, overloaded)
                      : OpenHttp1(fields, end_now, overloaded))) {
    if (overloaded) {
      LeaveUpstream();
      return AnswerError(503, "overloaded",
                         fmt::format("service \"{}\" is at its max_connections", cluster_.service),
                         true);
    }
    return TryFailed(TryOutcome::kConnectFailure, "cannot open a connection");
  }
  if (!body_.empty()) {  // a retry sends again what the client sent so far
    SendUpstream(body_);
    if (client_ended_) EndUpstream();
  }
}

// A stream on a multiplexed HTTP/2 connection to the replica (protocol: grpc).
bool H2Call::OpenStream(std::span<const Field> fields, bool end_stream, bool& overloaded) {
  backend_ = worker_.H2BackendFor(*endpoint_, cluster_, overloaded);
  if (!backend_) return false;
  upstream_stream_ = backend_->Open(*this, fields, end_stream);
  if (upstream_stream_ == 0) backend_ = nullptr;
  return upstream_stream_ != 0;
}

// An HTTP/1.1 exchange on a pooled connection to the replica (protocol: http).
bool H2Call::OpenHttp1(std::span<const Field> fields, bool end_stream, bool& overloaded) {
  h1_ = std::make_unique<H1Upstream>(worker_, *this, cluster_, *endpoint_);
  if (h1_->Start(fields, end_stream, overloaded)) return true;
  worker_.loop().DeleteLater(std::move(h1_));
  return false;
}

void H2Call::SendUpstream(std::string_view data) {
  if (backend_ && upstream_stream_) backend_->SendData(upstream_stream_, data);
  if (h1_) h1_->SendData(data);
}

void H2Call::EndUpstream() {
  if (backend_ && upstream_stream_) backend_->SendEnd(upstream_stream_);
  if (h1_) h1_->SendEnd();
}

void H2Call::FromClient(std::string_view data) {
  if (phase_ == Phase::kDone) return frontend_.Consume(stream_, data.size());
  if (replayable_) {
    if (body_.size() + data.size() <= kMaxReplayBody || phase_ == Phase::kBackoff) {
      body_.append(data);  // in backoff, flow control bounds it (nothing is consumed)
    } else {
      replayable_ = false;
      body_.clear();
    }
  }
  SendUpstream(data);
}

void H2Call::ClientEnded() {
  client_ended_ = true;
  if (phase_ != Phase::kDone) EndUpstream();
}

void H2Call::UpstreamTook(size_t bytes) {
  try_sent_ += bytes;
  if (try_sent_ > credited_) {  // bytes a retry sends again were consumed the first time
    frontend_.Consume(stream_, try_sent_ - credited_);
    credited_ = try_sent_;
  }
}

void H2Call::ClientTook(size_t bytes) {
  if (backend_ && upstream_stream_) backend_->Consume(upstream_stream_, bytes);
  if (h1_) h1_->Consume(bytes);
}

void H2Call::OnUpstreamHeaders(std::span<const Field> fields, bool end_stream) {
  if (phase_ == Phase::kDone) return;
  if (phase_ == Phase::kResponding) {  // trailers
    frontend_.SendEnd(stream_, fields);
    return;
  }
  int status = 0;
  int grpc_status = -1;
  for (const Field& f : fields) {
    if (f.name == ":status") status = ParseStatus(f.value);
    if (f.name == "grpc-status") grpc_status = ParseStatus(f.value);
  }
  if (status >= 100 && status < 200) return;  // interim: nothing a gRPC client needs
  // A gRPC call that failed at once ("trailers only") may be tried elsewhere; so may a request
  // answered with a status the policy retries.
  bool retry_grpc =
      end_stream && grpc_status > 0 && runtime_.retry_policy.AllowsGrpc(grpc_status, retries_);
  bool retry_status = runtime_.retry_policy.Allows(TryOutcome::kStatus, status, method_, retries_);
  if ((retry_grpc || retry_status) && replayable_ && TakeRetry(TryOutcome::kStatus)) {
    NoteTryResult(retry_grpc ? grpc_status == grpc::kUnavailable : status >= 500);
    LeaveUpstream();
    return ScheduleRetry();
  }
  NoteTryResult(status >= 500);
  worker_.RecordLatency(cluster_, *endpoint_, worker_.loop().now_us() - start_us_);
  status_ = status;
  phase_ = Phase::kResponding;
  body_.clear();  // no retry after this
  replayable_ = false;
  frontend_.SubmitResponse(stream_, fields, end_stream);
}

void H2Call::OnUpstreamData(std::string_view data) {
  if (phase_ != Phase::kResponding) return;  // consumed by the backend when forgotten
  frontend_.SendData(stream_, data);
}

void H2Call::OnUpstreamEnd() {
  if (phase_ == Phase::kResponding) frontend_.SendEnd(stream_);
}

void H2Call::OnUpstreamClosed(uint32_t error_code, bool unprocessed) {
  backend_ = nullptr;
  upstream_stream_ = 0;
  if (phase_ == Phase::kDone || phase_ == Phase::kBackoff) return;
  if (error_code == http::h2::kNoError && phase_ == Phase::kResponding) {
    LeaveUpstream();
    return End();  // the client's stream ends when its output is sent
  }
  if (phase_ == Phase::kWaiting) {
    return TryFailed(unprocessed ? TryOutcome::kConnectFailure : TryOutcome::kReset,
                     fmt::format("stream closed with HTTP/2 error {}", error_code));
  }
  // The response had begun: a gRPC client is told in trailers, others see a reset.
  NoteTryResult(true);
  LeaveUpstream();
  runtime_.stats.RecordUpstreamFailure(static_cast<size_t>(worker_.index()));
  if (grpc_) {
    std::string message = grpc::EncodeMessage("the replica's stream was reset");
    std::vector<Field> trailers = {{"grpc-status", "14"}, {"grpc-message", message}};
    frontend_.SendEnd(stream_, trailers);
  } else {
    frontend_.Reset(stream_, http::h2::kInternalError);
  }
  End();
}

void H2Call::TryFailed(TryOutcome outcome, std::string_view detail) {
  std::string where =
      endpoint_ ? fmt::format("{} ({}): {}", endpoint_->instance_id, endpoint_->key, detail)
                : std::string(detail);
  NoteTryResult(true);
  LeaveUpstream();
  runtime_.stats.RecordUpstreamFailure(static_cast<size_t>(worker_.index()));
  bool allowed = replayable_ && runtime_.retry_policy.Allows(outcome, 0, method_, retries_);
  if (allowed && TakeRetry(outcome)) return ScheduleRetry();
  if (outcome == TryOutcome::kConnectFailure) {
    return AnswerError(502, "upstream_connect_failed", "cannot connect upstream: " + where);
  }
  AnswerError(502, "upstream_reset", "upstream failed: " + where);
}

bool H2Call::TakeRetry(TryOutcome outcome) {
  if (holding_retry_) {  // the previous retry's try ended
    runtime_.retry_budget.RetryEnded();
    holding_retry_ = false;
  }
  if (!RetryPolicy::CountsInBudget(outcome)) return true;
  if (!runtime_.retry_budget.TryStartRetry()) return false;
  holding_retry_ = true;
  return true;
}

void H2Call::ScheduleRetry() {
  ++retries_;
  runtime_.stats.RecordRetry(static_cast<size_t>(worker_.index()));
  phase_ = Phase::kBackoff;  // LeaveUpstream noted the endpoint to avoid
  Duration wait = runtime_.retry_policy.Backoff(retries_, worker_.NextRandom());
  worker_.loop().timers().Arm(backoff_timer_, worker_.loop().now_ms() + wait.count());
}

void H2Call::LeaveUpstream() {
  if (h1_) {  // it may be on the stack: detached now, deleted after this batch of events
    h1_->Detach();
    worker_.loop().DeleteLater(std::move(h1_));
  }
  if (backend_ && upstream_stream_) {
    H2Backend* backend = backend_;
    backend_ = nullptr;
    int32_t stream = upstream_stream_;
    upstream_stream_ = 0;
    backend->Forget(stream);
  }
  if (endpoint_) {
    endpoint_->runtime->per_worker[worker_.index()].AddActive(-1);
    if (phase_ != Phase::kResponding) previous_endpoint_ = endpoint_;
    endpoint_ = nullptr;
  }
}

void H2Call::NoteTryResult(bool failed) {
  const config::OutlierSpec& outlier = cluster_.policy.outlier;
  if (!outlier.enabled || !endpoint_) return;
  std::atomic<uint32_t>& counter = endpoint_->runtime->consecutive_5xx;
  if (!failed) {
    if (counter.load(std::memory_order_relaxed) != 0) counter.store(0, std::memory_order_relaxed);
    return;
  }
  uint32_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  if (outlier.consecutive_5xx > 0 && n % static_cast<uint32_t>(outlier.consecutive_5xx) == 0) {
    worker_.ReportOutlier(cluster_.service, endpoint_->instance_id);
  }
}

void H2Call::OnTimer(net::Timer& timer) {
  if (phase_ == Phase::kDone) return;
  if (&timer == &backoff_timer_) return Attempt();
  // The call's deadline.
  bool responding = phase_ == Phase::kResponding;
  if (endpoint_) NoteTryResult(true);
  LeaveUpstream();
  runtime_.stats.RecordTimeout(static_cast<size_t>(worker_.index()));
  std::string message = fmt::format("no complete response from service \"{}\" within {}ms",
                                    cluster_.service, timeout_ms_);
  if (!responding) return AnswerError(504, "upstream_timeout", message);
  if (grpc_) {
    std::string encoded = grpc::EncodeMessage(message);
    std::vector<Field> trailers = {{"grpc-status", "4"}, {"grpc-message", encoded}};
    frontend_.SendEnd(stream_, trailers);
  } else {
    frontend_.Reset(stream_, http::h2::kCancel);
  }
  End();
}

void H2Call::AnswerError(int status, std::string_view code, std::string_view message,
                         bool overloaded) {
  LeaveUpstream();
  if (overloaded) runtime_.stats.RecordOverflow(static_cast<size_t>(worker_.index()));
  status_ = status;
  std::vector<Field> extra;
  if (overloaded) extra.push_back({"x-gantry-overloaded", "true"});
  // A request body still coming is consumed and dropped (FromClient after End): gRPC clients
  // take an early RST_STREAM, even NO_ERROR, as a failure of their own.
  AnswerRefusal(frontend_, stream_, grpc_, status, overloaded ? "overloaded" : code, message,
                extra);
  End();
}

void H2Call::ClientGone() {
  if (phase_ == Phase::kDone) return;
  LeaveUpstream();
  End();
}

void H2Call::End() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  // Request bytes still held for the replica (queued upstream, kept for a retry) will not be
  // sent: give the client its window back, or a client still sending would stall forever.
  frontend_.Consume(stream_, SIZE_MAX);
  worker_.loop().timers().Cancel(deadline_timer_);
  worker_.loop().timers().Cancel(backoff_timer_);
  body_.clear();
  body_.shrink_to_fit();
  if (holding_retry_) {
    runtime_.retry_budget.RetryEnded();
    holding_retry_ = false;
  }
  if (started_) {
    runtime_.breaker.Release(CircuitBreaker::kRequests);
    runtime_.retry_budget.RequestEnded();
    started_ = false;
  }
  auto latency = static_cast<uint64_t>(std::max<int64_t>(0, worker_.loop().now_us() - start_us_));
  auto worker = static_cast<size_t>(worker_.index());
  runtime_.stats.RecordRequest(worker, status_, latency);
  if (route_) route_->runtime->stats.RecordRequest(worker, status_, latency);
  if (trace_.on) {
    RecordHop(worker_, trace_,
              {frontend_.kind() == ListenerKind::kMesh, cluster_.runtime->service_id,
               &cluster_.service_text, last_endpoint_ ? &last_endpoint_->instance_text : nullptr,
               status_, start_us_, worker_.loop().now_us(), retries_ + (last_endpoint_ ? 1 : 0)});
  }
  if (AccessLog* log = worker_.access_log()) {
    const Endpoint* last = last_endpoint_;
    AccessLogEntry entry;
    entry.listener = frontend_.kind() == ListenerKind::kGateway ? "gateway" : "mesh";
    entry.client_ip = frontend_.peer_ip();
    entry.method = method_;
    entry.target = log_target_;
    entry.service = cluster_.service;
    entry.instance = last ? std::string_view(last->instance_id) : std::string_view();
    entry.status = status_;
    entry.duration_us = latency;
    entry.attempts = retries_ + (last ? 1 : 0);
    entry.request_id = log_request_id_;
    log->Write(entry);
  }
}

}  // namespace gantry::proxy
