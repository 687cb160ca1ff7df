#include "proxy/h2_frontend.h"

#include <vector>

#include <fmt/format.h>

#include "http/grpc_wire.h"
#include "proxy/client_conn.h"
#include "proxy/h2_call.h"
#include "proxy/request_route.h"
#include "proxy/rewrite.h"

namespace gantry::proxy {

using http::h2::Field;

H2Frontend::H2Frontend(Worker& worker, ClientConn& connection)
    : worker_(worker),
      connection_(connection),
      session_(http::h2::Session::Server(*this, http::h2::Limits{})) {}

H2Frontend::~H2Frontend() { calls_.clear(); }

bool H2Frontend::Receive(std::string_view bytes) {
  absl::Status status = session_->Receive(bytes);
  Flush();
  return status.ok() && alive();
}

// Never inside nghttp2's callbacks (they only defer): nghttp2 must not be asked for output then.
void H2Frontend::FlushNow() {
  if (detached_ || connection_.output_pending()) return;  // the connection resumes us once drained
  scratch_.clear();
  session_->TakeOutput(scratch_);  // calls OnDataSent: the calls' backends defer their flushes
  if (!scratch_.empty()) connection_.Send(scratch_);
}

void H2Frontend::RunDeferred() {
  FlushNow();
  // A GOAWAY went out (a connection error, or the peer's GOAWAY and no stream left): the end.
  if (!detached_ && !session_->Alive()) connection_.EndH2();
}

void H2Frontend::Detach() {
  detached_ = true;
  for (auto& [stream, call] : calls_) call->ClientGone();
}

void H2Frontend::Shutdown() {
  session_->Shutdown(http::h2::kNoError);
  Flush();
}

void H2Frontend::SubmitResponse(int32_t stream, std::span<const Field> fields, bool end_stream) {
  session_->SubmitResponse(stream, fields, end_stream);
  Flush();
}

void H2Frontend::SendData(int32_t stream, std::string_view data) {
  session_->SendData(stream, data);
  Flush();
}

void H2Frontend::SendEnd(int32_t stream, std::span<const Field> trailers) {
  session_->SendEnd(stream, trailers);
  Flush();
}

void H2Frontend::Reset(int32_t stream, uint32_t error_code) {
  session_->Reset(stream, error_code);
  Flush();
}

void H2Frontend::Consume(int32_t stream, size_t bytes) {
  session_->Consume(stream, bytes);
  Flush();
}

ListenerKind H2Frontend::kind() const { return connection_.kind(); }
const std::string& H2Frontend::peer_ip() const { return connection_.peer_ip(); }

H2Call* H2Frontend::CallOf(int32_t stream) {
  auto it = calls_.find(stream);
  return it == calls_.end() ? nullptr : it->second.get();
}

void H2Frontend::OnHeaders(int32_t stream, std::span<const Field> fields, bool end_stream) {
  if (H2Call* call = CallOf(stream)) {
    // Trailers from the client (gRPC clients send none; HTTP/2 allows them): the end.
    if (end_stream) call->ClientEnded();
    return;
  }
  StartCall(stream, fields, end_stream);
}

void H2Frontend::OnData(int32_t stream, std::string_view data) {
  if (H2Call* call = CallOf(stream)) return call->FromClient(data);
  session_->Consume(stream, data.size());  // a refused request's body
}

void H2Frontend::OnEndStream(int32_t stream) {
  if (H2Call* call = CallOf(stream)) call->ClientEnded();
}

void H2Frontend::OnStreamClose(int32_t stream, uint32_t) {
  auto it = calls_.find(stream);
  if (it == calls_.end()) return;
  it->second->ClientGone();
  worker_.loop().DeleteLater(std::move(it->second));
  calls_.erase(it);
}

void H2Frontend::OnDataSent(int32_t stream, size_t bytes) {
  if (H2Call* call = CallOf(stream)) call->ClientTook(bytes);
}

namespace {

// The request's facts the proxy acts on, from its header block.
struct RequestFields {
  std::string_view method, scheme, authority, path, content_type, request_id, forwarded_for;
  int64_t caller_timeout_ms = -1;  // the tighter of grpc-timeout and X-Gantry-Timeout-Ms

  explicit RequestFields(std::span<const Field> fields) {
    for (const Field& f : fields) {
      if (f.name == ":method")
        method = f.value;
      else if (f.name == ":scheme")
        scheme = f.value;
      else if (f.name == ":authority" || (f.name == "host" && authority.empty()))
        authority = f.value;
      else if (f.name == ":path")
        path = f.value;
      else if (f.name == "content-type")
        content_type = f.value;
      else if (f.name == "x-request-id")
        request_id = f.value;
      else if (f.name == "x-forwarded-for")
        forwarded_for = f.value;
      else if (f.name == "grpc-timeout")
        Tighten(http::grpc::ParseTimeoutMs(f.value));
      else if (f.name == "x-gantry-timeout-ms")
        Tighten(ParseCallerTimeoutMs(f.value));
    }
  }
  void Tighten(int64_t ms) {
    if (ms >= 0 && (caller_timeout_ms < 0 || ms < caller_timeout_ms)) caller_timeout_ms = ms;
  }
};

std::string_view FindField(std::span<const Field> fields, std::string_view name) {
  for (const Field& f : fields)
    if (f.name == name) return f.value;
  return {};
}

}  // namespace

void H2Frontend::StartCall(int32_t stream, std::span<const Field> fields, bool end_stream) {
  RequestFields request(fields);
  bool grpc = http::grpc::IsGrpcContentType(request.content_type);
  auto refuse = [&](const RoutedRequest& routed) {
    std::vector<Field> extra;
    std::string retry_after = std::to_string(routed.retry_after_s);
    if (!routed.allow.empty()) extra.push_back({"allow", routed.allow});
    if (routed.retry_after_s > 0) extra.push_back({"retry-after", retry_after});
    // Its body, if one comes, is consumed and dropped (OnData without a call).
    H2Call::AnswerRefusal(*this, stream, grpc, routed.status, routed.code, routed.message, extra);
  };
  RoutedRequest routed;
  if (request.method == "CONNECT") {
    routed.status = 501;
    routed.code = "not_supported";
    routed.message = "CONNECT tunnels are not supported yet";
    return refuse(routed);
  }
  WorkerView* view = worker_.AcquireView();
  RouteTarget(*view->snapshot, connection_.kind(), request.path, request.authority, routed);
  const Cluster* cluster = routed.cluster;
  if (cluster && routed.route) {
    const RateLimiter* limiter = routed.route->runtime->rate_limiter.get();
    std::string_view rate_key = limiter && limiter->spec().by == config::RateLimitSpec::By::kHeader
                                    ? FindField(fields, limiter->spec().header)
                                    : std::string_view(connection_.peer_ip());
    if (!AdmitByRoute(*routed.route, request.method, rate_key, worker_.loop().now_ms(),
                      static_cast<size_t>(worker_.index()), routed)) {
      cluster = nullptr;
    }
  }
  if (cluster && cluster->endpoints.empty()) {
    routed.status = 503;
    routed.code = "no_healthy_upstream";
    routed.message = fmt::format("no healthy replica of service \"{}\"", cluster->service);
    cluster = nullptr;
  }
  if (!cluster) {
    worker_.ReleaseView(view);
    return refuse(routed);
  }

  auto call = std::make_unique<H2Call>(worker_, *this, stream, view, *cluster, grpc);
  auto& out = call->fields();
  out.reserve(fields.size() + 4);
  out.emplace_back(":method", request.method);
  out.emplace_back(":scheme", "http");
  out.emplace_back(":authority",
                   routed.host.empty() ? std::string_view(cluster->service) : routed.host);
  out.emplace_back(":path", routed.target);
  for (const Field& f : fields) {
    if (f.name.starts_with(':') || f.name == "host" || f.name == "grpc-timeout" ||
        f.name == "x-gantry-timeout-ms" || f.name == "x-forwarded-for" ||
        (f.name == "traceparent" && worker_.spans())) {
      continue;  // gantry sets these itself
    }
    if (connection_.kind() == ListenerKind::kGateway && f.name == "x-forwarded-proto") continue;
    out.emplace_back(f.name, f.value);
  }
  out.emplace_back("x-forwarded-for",
                   request.forwarded_for.empty()
                       ? connection_.peer_ip()
                       : fmt::format("{}, {}", request.forwarded_for, connection_.peer_ip()));
  if (connection_.kind() == ListenerKind::kGateway) {
    out.emplace_back("x-forwarded-proto", connection_.tls() ? "https" : "http");
  }
  std::string request_id(request.request_id);
  if (request_id.empty()) {
    char id[36];
    worker_.NewRequestId(id);
    request_id.assign(id, sizeof id);
    out.emplace_back("x-request-id", request_id);
  }
  if (worker_.spans()) {  // this hop's span: the upstream's parent
    HopTrace& trace = call->trace();
    StartHop(worker_, FindField(fields, "traceparent"), request.method, request.path, trace);
    char traceparent[telemetry::kTraceParentSize];
    telemetry::FormatTraceParent(trace.context, traceparent);
    out.emplace_back("traceparent", std::string_view(traceparent, sizeof traceparent));
  }
  if (worker_.access_log()) {
    call->SetLogInfo(routed.route, std::string(request.path), std::move(request_id));
  } else {
    call->SetLogInfo(routed.route, {}, {});
  }
  H2Call& started = *call;
  calls_[stream] = std::move(call);
  started.Start(end_stream, request.caller_timeout_ms);
}

}  // namespace gantry::proxy
