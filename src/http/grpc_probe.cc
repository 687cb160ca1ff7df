#include "http/grpc_probe.h"

#include "http/grpc_wire.h"

#include <nghttp2/nghttp2.h>

#include <memory>

#include <fmt/format.h>

#include "core/status.h"
#include "http/beast.h"
#include "net/listen.h"

namespace gantry::http {
namespace {

constexpr const char* kStatusNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};

// What the callbacks collect about our one stream.
struct Call {
  int32_t stream_id = -1;
  std::string request;  // the framed message to send
  size_t sent = 0;
  std::string data;  // the response's DATA
  std::string grpc_status;
  std::string grpc_message;
  std::string http_status;
  bool closed = false;
};

int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  auto* call = static_cast<Call*>(user);
  if (frame->hd.stream_id != call->stream_id) return 0;
  std::string_view n(reinterpret_cast<const char*>(name), namelen);
  std::string v(reinterpret_cast<const char*>(value), valuelen);
  if (n == ":status") call->http_status = v;
  if (n == "grpc-status") call->grpc_status = v;
  if (n == "grpc-message") call->grpc_message = v;
  return 0;
}

int OnData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
           void* user) {
  auto* call = static_cast<Call*>(user);
  if (stream_id == call->stream_id && call->data.size() < 4096)
    call->data.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int OnClose(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
  auto* call = static_cast<Call*>(user);
  if (stream_id == call->stream_id) call->closed = true;
  return 0;
}

ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                 nghttp2_data_source*, void* user) {
  auto* call = static_cast<Call*>(user);
  size_t n = std::min(length, call->request.size() - call->sent);
  std::copy_n(call->request.data() + call->sent, n, buf);
  call->sent += n;
  if (call->sent == call->request.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

nghttp2_nv Header(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

using SessionPtr = std::unique_ptr<nghttp2_session, decltype(&nghttp2_session_del)>;

ProbeResult Verdict(const Call& call) {
  if (call.http_status != "200") return {false, fmt::format("HTTP {}", call.http_status)};
  if (call.grpc_status != "0") {
    return {false, fmt::format("grpc-status {}: {}",
                               call.grpc_status.empty() ? "missing" : call.grpc_status,
                               call.grpc_message)};
  }
  int status = grpc::HealthStatus(call.data);
  if (status < 0) return {false, "malformed HealthCheckResponse"};
  const char* name = status < 4 ? kStatusNames[status] : "UNKNOWN";
  return {status == 1, name};
}

net::Awaitable<void> RunGrpcProbe(HostPort target, std::string service, Duration timeout,
                                  ProbeCallback done) {
  beast::tcp_stream stream(co_await net::asio::this_coro::executor);
  // One deadline for the whole call, connecting included.
  if (auto status = co_await ConnectWithin(stream, target, timeout); !status.ok()) {
    done({false, "connect: " + std::string(StatusMessage(status))});
    co_return;
  }

  Call call;
  call.request = grpc::HealthRequest(service);
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, OnHeader);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, OnData);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, OnClose);
  nghttp2_session* raw = nullptr;
  nghttp2_session_client_new(&raw, callbacks, &call);
  nghttp2_session_callbacks_del(callbacks);
  SessionPtr session(raw, &nghttp2_session_del);

  std::string authority = target.ToString();
  nghttp2_nv headers[] = {Header(":method", "POST"),
                          Header(":scheme", "http"),
                          Header(":path", "/grpc.health.v1.Health/Check"),
                          Header(":authority", authority),
                          Header("content-type", "application/grpc"),
                          Header("te", "trailers"),
                          Header("user-agent", "gantry-health")};
  nghttp2_data_provider body{};
  body.read_callback = ReadBody;
  nghttp2_submit_settings(session.get(), NGHTTP2_FLAG_NONE, nullptr, 0);
  call.stream_id =
      nghttp2_submit_request(session.get(), nullptr, headers, std::size(headers), &body, nullptr);
  std::string out;
  char in[8192];
  for (;;) {
    out.clear();
    for (;;) {
      const uint8_t* chunk = nullptr;
      ssize_t n = nghttp2_session_mem_send(session.get(), &chunk);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(chunk), static_cast<size_t>(n));
    }
    if (!out.empty()) {
      auto [ec, written] =
          co_await net::asio::async_write(stream, net::asio::buffer(out), net::kUseTuple);
      if (ec) {
        done({false, "send: " + DescribeNetError(ec, timeout)});
        co_return;
      }
    }
    if (call.closed) break;
    if (!nghttp2_session_want_read(session.get()) && !nghttp2_session_want_write(session.get())) {
      done({false, "the server ended the connection before answering"});
      co_return;
    }
    auto [ec, n] = co_await stream.async_read_some(net::asio::buffer(in), net::kUseTuple);
    if (ec) {
      done({false, "receive: " + DescribeNetError(ec, timeout)});
      co_return;
    }
    if (nghttp2_session_mem_recv(session.get(), reinterpret_cast<const uint8_t*>(in), n) < 0) {
      done({false, "malformed HTTP/2 from the server"});
      co_return;
    }
  }
  done(Verdict(call));
}

}  // namespace

void ProbeGrpc(net::asio::io_context& io, HostPort target, std::string service, Duration timeout,
               ProbeCallback done) {
  net::asio::co_spawn(io,
                      RunGrpcProbe(std::move(target), std::move(service), timeout, std::move(done)),
                      net::asio::detached);
}

}  // namespace gantry::http
