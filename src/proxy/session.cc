#include "proxy/session.h"

#include <fmt/format.h>

#include "http/beast.h"
#include "proxy/route_match.h"

namespace gantry::proxy {
namespace {

namespace bhttp = http::bhttp;
using http::BeastRequest;
using http::BeastResponse;

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(30);

BeastResponse Error(int status, std::string_view code, std::string_view message) {
  return http::ToBeast(http::JsonError(status, code, message), 11, true);
}

// Connection-level headers belong to one hop; they are not forwarded.
template <typename Message>
void RemoveHopByHop(Message& message) {
  for (auto field :
       {bhttp::field::connection, bhttp::field::keep_alive, bhttp::field::proxy_connection,
        bhttp::field::proxy_authorization, bhttp::field::te, bhttp::field::trailer,
        bhttp::field::transfer_encoding, bhttp::field::upgrade}) {
    message.erase(field);
  }
}

// The request's authority: the host of an absolute-form target ("GET http://hello/x", as
// HTTP_PROXY clients send; the target becomes "/x"), else the Host header.
std::string TakeAuthority(BeastRequest& request) {
  std::string_view target = request.target();
  if (!target.starts_with("http://")) return std::string(request[bhttp::field::host]);
  std::string_view rest = target.substr(7);
  size_t end = rest.find_first_of("/?");
  std::string authority(rest.substr(0, end));
  std::string path;
  if (end == std::string_view::npos || rest[end] == '?') path.push_back('/');
  if (end != std::string_view::npos) path.append(rest.substr(end));
  request.target(path);
  return authority;
}

// Chooses the cluster and rewrites the target. Returns an error response when there is none.
std::optional<BeastResponse> Route(const Snapshot& snapshot, ListenerKind kind,
                                   BeastRequest& request, const Cluster*& cluster) {
  std::string host = HostWithoutPort(TakeAuthority(request));
  if (kind == ListenerKind::kMesh) {  // the host names the service
    cluster = snapshot.FindCluster(host);
    if (!cluster) {
      return Error(404, "unknown_service", fmt::format("no service named \"{}\"", host));
    }
    return std::nullopt;
  }
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const proxy::Route* route = MatchRoute(snapshot, host, path);
  if (!route) return Error(404, "no_route", fmt::format("no route for {}", path));
  cluster = &snapshot.clusters[route->cluster];
  if (route->strip_prefix) request.target(StripPrefix(route->prefix, target));
  return std::nullopt;
}

net::Awaitable<BeastResponse> Forward(Worker* worker, ListenerKind kind, BeastRequest& request) {
  std::shared_ptr<const Snapshot> snapshot = worker->CurrentSnapshot();
  const Cluster* cluster = nullptr;
  if (auto error = Route(*snapshot, kind, request, cluster)) co_return std::move(*error);
  if (cluster->endpoints.empty()) {
    co_return Error(503, "no_healthy_upstream",
                    fmt::format("no healthy replica of service \"{}\"", cluster->service));
  }
  const Endpoint& endpoint = worker->PickEndpoint(*snapshot, *cluster);
  RemoveHopByHop(request);
  request.keep_alive(true);
  request.prepare_payload();
  UpstreamResult result = co_await Exchange(worker->pool(), endpoint, request, {});
  switch (result.failure) {
    case UpstreamFailure::kNone:
      co_return std::move(result.response);
    case UpstreamFailure::kTimeout:
      co_return Error(504, "upstream_timeout", "upstream timed out: " + result.detail);
    case UpstreamFailure::kConnect:
      co_return Error(502, "upstream_connect_failed", "cannot connect upstream: " + result.detail);
    case UpstreamFailure::kReset:
    case UpstreamFailure::kBadResponse:
      co_return Error(502, "upstream_reset", "upstream failed: " + result.detail);
  }
  co_return Error(502, "upstream_reset", "upstream failed");
}

}  // namespace

net::Awaitable<void> ServeClient(net::tcp::socket socket, Worker* worker, ListenerKind kind) {
  http::beast::tcp_stream client(std::move(socket));
  boost::system::error_code ignored;
  client.socket().set_option(net::tcp::no_delay(true), ignored);
  http::beast::flat_buffer buffer;
  for (;;) {
    client.expires_after(kIdleTimeout);
    BeastRequest request;
    http::beast::error_code ec = co_await http::ReadRequest(client, buffer, request);
    if (ec) {
      if (auto status = http::StatusForReadError(ec))
        co_await http::WriteErrorAndClose(client, *status);
      co_return;
    }
    bool keep_alive = request.keep_alive();
    unsigned version = request.version();
    bool head = request.method() == bhttp::verb::head;
    BeastResponse response = co_await Forward(worker, kind, request);
    RemoveHopByHop(response);
    response.version(version);
    response.keep_alive(keep_alive);
    if (!head) response.prepare_payload();
    client.expires_after(kWriteTimeout);
    auto [write_ec, written] = co_await bhttp::async_write(client, response, net::kUseTuple);
    if (write_ec || !keep_alive) break;
  }
  client.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}

}  // namespace gantry::proxy
