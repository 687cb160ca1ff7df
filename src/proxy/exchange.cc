#include "proxy/exchange.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/status.h"
#include "net/socket.h"
#include "proxy/access_log.h"
#include "proxy/client_conn.h"
#include "proxy/rewrite.h"
#include "proxy/upstream_conn.h"

namespace gantry::proxy {

namespace {
// Freed Exchanges of this thread, reused before asking malloc.
struct ExchangeMemory {
  std::vector<void*> free;
  ~ExchangeMemory() {
    for (void* memory : free) ::operator delete(memory);
  }
};
thread_local ExchangeMemory exchange_memory;
}  // namespace

void* Exchange::operator new(size_t size) {
  GANTRY_DCHECK(size == sizeof(Exchange));
  if (exchange_memory.free.empty()) return ::operator new(size);
  void* memory = exchange_memory.free.back();
  exchange_memory.free.pop_back();
  return memory;
}

void Exchange::operator delete(void* memory) {
  constexpr size_t kMaxFree = 1024;
  if (exchange_memory.free.size() >= kMaxFree) return ::operator delete(memory);
  exchange_memory.free.push_back(memory);
}

Exchange::Exchange(Worker& worker, ClientConn& client, WorkerView* view, const Cluster& cluster)
    : worker_(worker),
      client_(client),
      view_(view),
      cluster_(cluster),
      runtime_(*cluster.runtime),
      request_(worker.TakeString()),
      request_timer_(this),
      try_timer_(this),
      connect_timer_(this),
      backoff_timer_(this),
      tunnel_timer_(this),
      head_out_(worker.TakeString()) {}

Exchange::~Exchange() {
  if (phase_ != Phase::kDone) Cancel();
  worker_.ReleaseView(view_);
  worker_.GiveString(std::move(request_));
  worker_.GiveString(std::move(head_out_));
}

void Exchange::Start() {
  client_keep_alive_ = info_.client_keep_alive;
  if (!runtime_.breaker.TryAcquire(CircuitBreaker::kRequests)) {
    return AnswerError(503, "overloaded",
                       fmt::format("service \"{}\" is at its max_requests", cluster_.service),
                       true);
  }
  started_ = true;
  runtime_.retry_budget.RequestStarted();
  int64_t timeout_ms = RequestTimeoutMs(cluster_.policy, info_.caller_timeout_ms);
  if (timeout_ms <= 0) {
    return AnswerError(504, "deadline_exceeded", "the caller's deadline has already passed");
  }
  timeout_ms_ = timeout_ms;
  deadline_ms_ = worker_.loop().now_ms() + timeout_ms;
  worker_.loop().timers().Arm(request_timer_, deadline_ms_);
  Attempt(true);
}

void Exchange::Attempt(bool allow_pooled) {
  endpoint_ = &worker_.PickEndpoint(*view_, cluster_, info_.key_hash, previous_endpoint_);
  endpoint_->runtime->per_worker[worker_.index()].AddActive(1);
  counted_ = true;
  got_response_bytes_ = false;
  head_scanned_ = 0;
  request_sent_ = 0;
  int64_t now_ms = worker_.loop().now_ms();
  try_start_us_ = worker_.loop().now_us();
  int64_t try_deadline = deadline_ms_;
  if (cluster_.policy.retries.per_try_timeout.count() > 0) {
    try_deadline = std::min(try_deadline, now_ms + cluster_.policy.retries.per_try_timeout.count());
    worker_.loop().timers().Arm(try_timer_, try_deadline);
  }
  PatchDeadline(try_deadline - now_ms);
  upstream_ = allow_pooled ? worker_.TakeIdle(*endpoint_) : nullptr;
  reused_ = upstream_ != nullptr;
  if (upstream_) {
    upstream_->owner = this;
    phase_ = Phase::kWriting;
    return WriteRequest();
  }
  if (!runtime_.breaker.TryAcquire(CircuitBreaker::kConnections)) {
    return AnswerError(503, "overloaded",
                       fmt::format("service \"{}\" is at its max_connections", cluster_.service),
                       true);
  }
  if (!runtime_.breaker.TryAcquire(CircuitBreaker::kPending)) {
    runtime_.breaker.Release(CircuitBreaker::kConnections);
    return AnswerError(503, "overloaded",
                       fmt::format("service \"{}\" is at its max_pending", cluster_.service), true);
  }
  pending_ = true;
  int fd = net::ConnectSocket(endpoint_->socket_address);
  if (fd < 0) {
    runtime_.breaker.Release(CircuitBreaker::kConnections);
    return TryFailed(TryOutcome::kConnectFailure, strerror(errno));
  }
  upstream_ = new UpstreamConn(worker_, fd, endpoint_->runtime.get(), cluster_.runtime);
  upstream_->owner = this;
  phase_ = Phase::kConnecting;
  if (!worker_.loop().Add(fd, upstream_).ok()) {
    return TryFailed(TryOutcome::kConnectFailure, "cannot register the socket");
  }
  worker_.loop().timers().Arm(connect_timer_, now_ms + kConnectTimeoutMs);
}

// The replica is told how long it has (X-Gantry-Timeout-Ms), so that it neither works past
// the caller's deadline nor retries past it.
void Exchange::PatchDeadline(int64_t remaining_ms) {
  if (info_.deadline_offset == std::string::npos) return;
  int64_t value = std::clamp<int64_t>(remaining_ms, 0, 99'999'999);
  for (size_t i = kDeadlineDigits; i-- > 0;) {
    request_[info_.deadline_offset + i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

void Exchange::OnUpstreamIo(uint32_t events) {
  UpstreamConn& upstream = *upstream_;
  if (events & EPOLLOUT) upstream.writable = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) upstream.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP)) upstream.peer_closed = true;
  switch (phase_) {
    case Phase::kConnecting:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) OnConnected();
      return;
    case Phase::kWriting:
      if (upstream.writable || (events & (EPOLLERR | EPOLLHUP))) WriteRequest();
      return;
    case Phase::kReadingHead:
    case Phase::kRelaying:
      if (upstream.readable && !paused_) ReadResponse();
      return;
    case Phase::kTunnel:
      if ((events & EPOLLOUT) && to_upstream_sent_ < to_upstream_.size()) FlushToUpstream();
      if (phase_ == Phase::kTunnel && upstream_ && upstream.readable && !paused_) {
        TunnelFromUpstream();
      }
      return;
    case Phase::kBackoff:
    case Phase::kDone:
      return;
  }
}

void Exchange::OnConnected() {
  int error = net::SocketError(upstream_->fd());
  if (error != 0) return TryFailed(TryOutcome::kConnectFailure, strerror(error));
  worker_.loop().timers().Cancel(connect_timer_);
  if (pending_) {
    runtime_.breaker.Release(CircuitBreaker::kPending);
    pending_ = false;
  }
  upstream_->connected = true;
  phase_ = Phase::kWriting;
  WriteRequest();
}

void Exchange::WriteRequest() {
  while (request_sent_ < request_.size()) {
    ssize_t n = net::Send(upstream_->fd(), request_.data() + request_sent_,
                          request_.size() - request_sent_);
    if (n > 0) {
      request_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      upstream_->writable = false;
      return;  // EPOLLOUT resumes
    }
    return TryFailed(TryOutcome::kReset, n < 0 ? strerror(errno) : "connection closed");
  }
  phase_ = Phase::kReadingHead;
  // The answer cannot be there yet unless the connection already said something: wait for
  // the edge instead of a read that would find nothing.
  if (upstream_->readable) ReadResponse();
}

// Counts the try's result against the endpoint for outlier detection: consecutive 5xx
// (gantry's own failures included) and consecutive gateway errors (connect failures, resets,
// timeouts, 502-504). The worker that reaches a threshold reports it to the control plane.
void Exchange::NoteTryResult(int status, bool local_failure) {
  const config::OutlierSpec& outlier = cluster_.policy.outlier;
  if (!outlier.enabled) return;
  EndpointRuntime& endpoint = *endpoint_->runtime;
  bool server_error = local_failure || status >= 500;
  bool gateway_error = local_failure || status == 502 || status == 503 || status == 504;
  auto count = [&](std::atomic<uint32_t>& counter, bool failed, int threshold) {
    if (!failed) {
      if (counter.load(std::memory_order_relaxed) != 0) counter.store(0, std::memory_order_relaxed);
      return;
    }
    uint32_t n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    if (threshold > 0 && n % static_cast<uint32_t>(threshold) == 0) {
      worker_.ReportOutlier(cluster_.service, endpoint_->instance_id);
    }
  };
  count(endpoint.consecutive_5xx, server_error, outlier.consecutive_5xx);
  count(endpoint.consecutive_gateway_errors, gateway_error, outlier.consecutive_gateway_errors);
}

void Exchange::EndTry() {
  worker_.loop().timers().Cancel(try_timer_);
  worker_.loop().timers().Cancel(connect_timer_);
  if (holding_retry_) {
    runtime_.retry_budget.RetryEnded();
    holding_retry_ = false;
  }
}

void Exchange::TryFailed(TryOutcome outcome, std::string_view detail) {
  bool committed = responded_;
  bool nothing_seen = !got_response_bytes_;
  ReleaseUpstream(false);
  runtime_.stats.RecordUpstreamFailure(static_cast<size_t>(worker_.index()));
  if (committed) {  // the client has part of a response: it can only be cut off
    NoteTryResult(0, true);
    status_ = 0;
    End();
    client_.Abort();
    return;
  }
  // A pooled connection the replica had closed: the request cannot have been acted on, so an
  // idempotent one is sent again, once, on a fresh connection (not a retry: nothing failed).
  if (outcome == TryOutcome::kReset && reused_ && nothing_seen && !replayed_ &&
      http::h1::IsIdempotent(info_.method)) {
    replayed_ = true;
    return Attempt(false);
  }
  NoteTryResult(0, true);
  EndTry();
  if (TakeRetry(outcome, 0)) return ScheduleRetry();
  std::string where = fmt::format("{} ({}): {}", endpoint_->instance_id, endpoint_->key, detail);
  switch (outcome) {
    case TryOutcome::kTimeout:
      runtime_.stats.RecordTimeout(static_cast<size_t>(worker_.index()));
      return AnswerError(504, "upstream_timeout", "upstream timed out: " + where);
    case TryOutcome::kConnectFailure:
      return AnswerError(502, "upstream_connect_failed", "cannot connect upstream: " + where);
    case TryOutcome::kReset:
    case TryOutcome::kStatus:
      return AnswerError(502, "upstream_reset", "upstream failed: " + where);
  }
}

// Whether another try may follow one that ended so: the policy allows it and the budget has
// room (the retry is then held from the budget until the retried try ends), where it counts.
bool Exchange::TakeRetry(TryOutcome outcome, int status) {
  if (!runtime_.retry_policy.Allows(outcome, status, info_.method, retries_)) return false;
  if (!RetryPolicy::CountsInBudget(outcome)) return true;
  if (!runtime_.retry_budget.TryStartRetry()) return false;
  holding_retry_ = true;
  return true;
}

void Exchange::ScheduleRetry() {
  ++retries_;
  runtime_.stats.RecordRetry(static_cast<size_t>(worker_.index()));
  previous_endpoint_ = endpoint_;
  Duration wait = runtime_.retry_policy.Backoff(retries_, worker_.NextRandom());
  phase_ = Phase::kBackoff;
  worker_.loop().timers().Arm(backoff_timer_, worker_.loop().now_ms() + wait.count());
}

void Exchange::OnTimer(net::Timer& timer) {
  if (phase_ == Phase::kDone) return;
  if (&timer == &backoff_timer_) return Attempt(true);
  if (&timer == &tunnel_timer_) return EndTunnel();  // idle
  if (&timer == &connect_timer_) {
    return TryFailed(TryOutcome::kConnectFailure,
                     fmt::format("connect timed out after {}ms", kConnectTimeoutMs));
  }
  if (&timer == &try_timer_) {
    return TryFailed(TryOutcome::kTimeout,
                     fmt::format("no response within the per-try timeout ({})",
                                 FormatDuration(cluster_.policy.retries.per_try_timeout)));
  }
  // The whole request's deadline: no more tries.
  bool committed = responded_;
  if (upstream_) NoteTryResult(0, true);
  ReleaseUpstream(false);
  runtime_.stats.RecordTimeout(static_cast<size_t>(worker_.index()));
  if (committed) {
    status_ = 0;
    End();
    return client_.Abort();
  }
  AnswerError(504, "upstream_timeout",
              fmt::format("no complete response from service \"{}\" within {}ms", cluster_.service,
                          timeout_ms_));
}

void Exchange::AnswerError(int status, std::string_view code, std::string_view message,
                           bool overloaded) {
  ReleaseUpstream(false);
  if (overloaded) runtime_.stats.RecordOverflow(static_cast<size_t>(worker_.index()));
  status_ = status;
  std::string answer;
  AppendErrorResponse(status, code, message, !client_keep_alive_,
                      info_.method == http::h1::Method::kHead, answer,
                      overloaded ? "x-gantry-overloaded: true\r\n" : "");
  End();
  if (!client_.Send(answer)) return;
  client_.ExchangeDone(client_keep_alive_);
}

void Exchange::Finish(bool upstream_reusable) {
  ReleaseUpstream(upstream_reusable);
  End();
  client_.ExchangeDone(client_keep_alive_);
}

// Gives back everything the request held and records it. Idempotent.
void Exchange::End() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  CancelTimers();
  EndTry();
  if (started_) {
    runtime_.breaker.Release(CircuitBreaker::kRequests);
    runtime_.retry_budget.RequestEnded();
    started_ = false;
  }
  int64_t now_us = worker_.loop().now_us();
  auto latency = static_cast<uint64_t>(std::max<int64_t>(0, now_us - client_.request_start_us()));
  auto worker = static_cast<size_t>(worker_.index());
  runtime_.stats.RecordRequest(worker, status_, latency);
  if (info_.route) info_.route->runtime->stats.RecordRequest(worker, status_, latency);
  if (info_.trace.on) {
    RecordHop(worker_, info_.trace,
              {client_.kind() == ListenerKind::kMesh, cluster_.runtime->service_id,
               &cluster_.service_text, endpoint_ ? &endpoint_->instance_text : nullptr, status_,
               client_.request_start_us(), now_us, retries_ + (endpoint_ ? 1 : 0)});
  }
  if (AccessLog* log = worker_.access_log()) {
    AccessLogEntry entry;
    entry.listener = client_.kind() == ListenerKind::kGateway ? "gateway" : "mesh";
    entry.client_ip = client_.peer_ip();
    entry.method = info_.method;
    entry.target = info_.log_target;
    entry.service = cluster_.service;
    entry.instance = endpoint_ ? std::string_view(endpoint_->instance_id) : std::string_view();
    entry.status = status_;
    entry.duration_us = latency;
    entry.attempts = retries_ + (endpoint_ ? 1 : 0);
    entry.request_id = info_.log_request_id;
    log->Write(entry);
  }
}

void Exchange::CancelTimers() {
  auto& timers = worker_.loop().timers();
  timers.Cancel(request_timer_);
  timers.Cancel(try_timer_);
  timers.Cancel(connect_timer_);
  timers.Cancel(backoff_timer_);
  timers.Cancel(tunnel_timer_);
}

void Exchange::ReleaseUpstream(bool reusable) {
  if (counted_) {
    endpoint_->runtime->per_worker[worker_.index()].AddActive(-1);
    counted_ = false;
  }
  if (pending_) {
    runtime_.breaker.Release(CircuitBreaker::kPending);
    pending_ = false;
  }
  UpstreamConn* upstream = upstream_;
  if (!upstream) return;
  upstream_ = nullptr;
  upstream->owner = nullptr;
  if (upstream->in && upstream->in->size() == 0) {
    worker_.buffers().Release(std::move(upstream->in));
  }
  if (reusable && upstream->connected && !upstream->in) {
    worker_.GiveBack(upstream);
  } else {
    upstream->Close();
  }
}

void Exchange::Cancel() {
  if (phase_ == Phase::kDone) return;
  ReleaseUpstream(false);
  status_ = 0;
  End();
}

}  // namespace gantry::proxy
