#include "proxy/session.h"

#include "proxy/lb/hash.h"

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

// What goes back to the client, and whether its connection ends after it.
struct Answer {
  BeastResponse response;
  bool close_client = false;  // gantry's refusals after which the connection is not trusted
};

Answer Reply(BeastResponse response) { return {std::move(response), false}; }

// A refusal after which the client's bytes cannot be trusted any more (a tunnel was asked for,
// or the target is unusable): answered, then the connection is closed.
Answer RefuseAndClose(int status, std::string_view code, std::string_view message) {
  return {Error(status, code, message), true};
}

// Connection-level headers belong to one hop; they are not forwarded. Neither are the headers
// a Connection header names (except Host, which routing needs).
template <typename Message>
void RemoveHopByHop(Message& message) {
  std::vector<std::string> named;
  for (auto token : bhttp::token_list(message[bhttp::field::connection])) {
    if (!http::beast::iequals(token, "host")) named.emplace_back(token);
  }
  for (const auto& name : named) message.erase(name);
  for (auto field :
       {bhttp::field::connection, bhttp::field::keep_alive, bhttp::field::proxy_connection,
        bhttp::field::proxy_authorization, bhttp::field::te, bhttp::field::trailer,
        bhttp::field::transfer_encoding, bhttp::field::upgrade}) {
    message.erase(field);
  }
}

// The request's authority: the host of an absolute-form target ("GET http://hello/x", as
// HTTP_PROXY clients send; the target becomes "/x" and Host is set to match, RFC 9112 3.2.2),
// else the Host header.
std::string TakeAuthority(BeastRequest& request) {
  std::string_view target = request.target();
  constexpr std::string_view kScheme = "http://";
  if (target.size() < kScheme.size() ||
      !http::beast::iequals(target.substr(0, kScheme.size()), kScheme)) {
    return std::string(request[bhttp::field::host]);
  }
  std::string_view rest = target.substr(kScheme.size());
  size_t end = rest.find_first_of("/?");
  std::string authority(rest.substr(0, end));
  std::string path;
  if (end == std::string_view::npos || rest[end] == '?') path.push_back('/');
  if (end != std::string_view::npos) path.append(rest.substr(end));
  request.target(path);
  request.set(bhttp::field::host, authority);
  return authority;
}

// Chooses the cluster and rewrites the target. Returns an error response when there is none.
std::optional<Answer> Route(const Snapshot& snapshot, ListenerKind kind, BeastRequest& request,
                            const Cluster*& cluster) {
  if (request.method() == bhttp::verb::connect) {
    return RefuseAndClose(501, "not_supported", "CONNECT tunnels are not supported yet");
  }
  std::string host = HostWithoutPort(TakeAuthority(request));
  if (!request.target().starts_with("/") && request.target() != "*") {
    return RefuseAndClose(400, "bad_target", "the request target must be a path or an http:// URI");
  }
  if (kind == ListenerKind::kMesh) {  // the host names the service
    cluster = snapshot.FindCluster(host);
    if (!cluster) {
      return Reply(Error(404, "unknown_service", fmt::format("no service named \"{}\"", host)));
    }
    return std::nullopt;
  }
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const proxy::Route* route = MatchRoute(snapshot, host, path);
  if (!route) return Reply(Error(404, "no_route", fmt::format("no route for {}", path)));
  cluster = &snapshot.clusters[route->cluster];
  if (route->strip_prefix) request.target(StripPrefix(route->prefix, target));
  return std::nullopt;
}

// The key a hashing policy places a request by (hash_on); the client's IP when it is missing.
uint64_t RequestKey(const config::LbSpec& lb, const BeastRequest& request,
                    std::string_view client_ip) {
  using HashOn = config::LbSpec::HashOn;
  std::string_view key;
  switch (lb.hash_on) {
    case HashOn::kHeader:
      key = request[lb.hash_name];
      break;
    case HashOn::kCookie:
      for (std::string_view cookies = request[bhttp::field::cookie]; !cookies.empty();) {
        size_t end = cookies.find(';');
        std::string_view pair = cookies.substr(0, end);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        if (pair.starts_with(lb.hash_name) && pair.size() > lb.hash_name.size() &&
            pair[lb.hash_name.size()] == '=') {
          key = pair.substr(lb.hash_name.size() + 1);
          break;
        }
        cookies = end == std::string_view::npos ? std::string_view() : cookies.substr(end + 1);
      }
      break;
    case HashOn::kPath: {
      std::string_view target = request.target();
      key = target.substr(0, target.find('?'));
      break;
    }
    case HashOn::kClientIp:
      break;
  }
  return StableHash(key.empty() ? client_ip : key);
}

// Counts a request in flight to an endpoint for least_request, for as long as it lives. The
// endpoint belongs to the snapshot the request holds, so it outlives this.
class InFlight {
 public:
  InFlight(Worker* worker, const Cluster& cluster, const Endpoint& endpoint)
      : worker_(cluster.lb.policy == config::LbSpec::Policy::kLeastRequest ? worker : nullptr),
        endpoint_(endpoint) {
    if (worker_) worker_->RequestStarted(endpoint_.key);
  }
  ~InFlight() {
    if (worker_) worker_->RequestEnded(endpoint_.key);
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  Worker* worker_;
  const Endpoint& endpoint_;
};

net::Awaitable<Answer> Forward(Worker* worker, ListenerKind kind, BeastRequest& request,
                               std::string_view client_ip) {
  std::shared_ptr<const Snapshot> snapshot = worker->CurrentSnapshot();
  const Cluster* cluster = nullptr;
  if (auto error = Route(*snapshot, kind, request, cluster)) co_return std::move(*error);
  if (cluster->endpoints.empty()) {
    co_return Reply(Error(503, "no_healthy_upstream",
                          fmt::format("no healthy replica of service \"{}\"", cluster->service)));
  }
  uint64_t key = cluster->ring || cluster->maglev ? RequestKey(cluster->lb, request, client_ip) : 0;
  const Endpoint& endpoint = worker->PickEndpoint(*snapshot, *cluster, key);
  InFlight in_flight(worker, *cluster, endpoint);
  RemoveHopByHop(request);
  request.erase(bhttp::field::expect);  // the body is already here: gantry answered 100 itself
  request.keep_alive(true);
  request.prepare_payload();
  UpstreamResult result = co_await Exchange(worker->pool(), endpoint, request, {});
  switch (result.failure) {
    case UpstreamFailure::kNone:
      co_return Reply(std::move(result.response));
    case UpstreamFailure::kTimeout:
      co_return Reply(Error(504, "upstream_timeout", "upstream timed out: " + result.detail));
    case UpstreamFailure::kConnect:
      co_return Reply(
          Error(502, "upstream_connect_failed", "cannot connect upstream: " + result.detail));
    case UpstreamFailure::kReset:
    case UpstreamFailure::kBadResponse:
      co_return Reply(Error(502, "upstream_reset", "upstream failed: " + result.detail));
  }
  co_return Reply(Error(502, "upstream_reset", "upstream failed"));
}

}  // namespace

net::Awaitable<void> ServeClient(net::tcp::socket socket, Worker* worker, ListenerKind kind) {
  http::beast::tcp_stream client(std::move(socket));
  boost::system::error_code ignored;
  client.socket().set_option(net::tcp::no_delay(true), ignored);
  http::beast::flat_buffer buffer;
  std::string client_ip = client.socket().remote_endpoint(ignored).address().to_string();
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
    Answer answer = co_await Forward(worker, kind, request, client_ip);
    BeastResponse& response = answer.response;
    if (answer.close_client) keep_alive = false;
    RemoveHopByHop(response);
    response.version(version);
    response.keep_alive(keep_alive);
    if (head) {
      response.body().clear();  // errors built here carry a body; a HEAD answer never does
    } else {
      response.prepare_payload();
    }
    client.expires_after(kWriteTimeout);
    auto [write_ec, written] = co_await bhttp::async_write(client, response, net::kUseTuple);
    if (write_ec || !keep_alive) break;
  }
  client.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}

}  // namespace gantry::proxy
