#include "proxy/request_route.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "proxy/route_match.h"

namespace gantry::proxy {
namespace {

void Refuse(RoutedRequest& out, int status, std::string_view code, std::string message,
            bool close) {
  out.cluster = nullptr;
  out.status = status;
  out.code = code;
  out.message = std::move(message);
  out.close = close;
}

// Splits an absolute-form target ("http://hello/x?q", as HTTP_PROXY clients send) into the
// authority and the origin-form target (RFC 9112 3.2.2). False for any other target.
bool SplitAbsolute(std::string_view target, std::string_view& authority, RoutedRequest& out) {
  constexpr std::string_view kScheme = "http://";
  if (!http::h1::EqualsIgnoreCase(target.substr(0, kScheme.size()), kScheme)) return false;
  std::string_view rest = target.substr(kScheme.size());
  size_t end = rest.find_first_of("/?");
  authority = rest.substr(0, end);
  if (end != std::string_view::npos && rest[end] == '/') {
    out.target = rest.substr(end);
  } else {
    out.storage = "/";
    if (end != std::string_view::npos) out.storage.append(rest.substr(end));
    out.target = out.storage;
  }
  return true;
}

}  // namespace

bool AdmitByRoute(const Route& route, std::string_view method, std::string_view rate_key,
                  int64_t now_ms, size_t worker, RoutedRequest& out) {
  if (!route.methods.empty() &&
      std::find(route.methods.begin(), route.methods.end(), method) == route.methods.end()) {
    out.allow = fmt::format("{}", fmt::join(route.methods, ", "));
    Refuse(out, 405, "method_not_allowed",
           fmt::format("{} is not allowed on {}", method, route.prefix), false);
    return false;
  }
  if (RateLimiter* limiter = route.runtime->rate_limiter.get()) {
    if (int64_t wait_ms = limiter->Take(rate_key, now_ms)) {
      route.runtime->stats.RecordRateLimited(worker);
      out.retry_after_s = (wait_ms + 999) / 1000;
      Refuse(out, 429, "rate_limited", "too many requests: slow down", false);
      return false;
    }
  }
  return true;
}

void RouteRequest(const Snapshot& snapshot, ListenerKind kind, const http::h1::RequestHead& head,
                  RoutedRequest& out) {
  if (head.method == http::h1::Method::kConnect) {
    return Refuse(out, 501, "not_supported", "CONNECT tunnels are not supported yet", true);
  }
  RouteTarget(snapshot, kind, head.target, head.host, out);
}

void RouteTarget(const Snapshot& snapshot, ListenerKind kind, std::string_view target,
                 std::string_view authority, RoutedRequest& out) {
  out.target = target;
  if (!target.starts_with('/') && target != "*" && !SplitAbsolute(target, authority, out)) {
    return Refuse(out, 400, "bad_target", "the request target must be a path or an http:// URI",
                  true);
  }
  out.host = authority;
  std::string host = HostWithoutPort(authority);
  if (kind == ListenerKind::kMesh) {  // the host names the service
    out.cluster = snapshot.FindCluster(host);
    if (!out.cluster) {
      Refuse(out, 404, "unknown_service", fmt::format("no service named \"{}\"", host), false);
    }
    return;
  }
  std::string_view path = out.target.substr(0, out.target.find('?'));
  const Route* route = MatchRoute(snapshot, host, path);
  if (!route) return Refuse(out, 404, "no_route", fmt::format("no route for {}", path), false);
  out.route = route;
  out.cluster = &snapshot.clusters[route->cluster];
  if (route->strip_prefix) {
    std::string stripped = StripPrefix(route->prefix, out.target);
    out.storage = std::move(stripped);
    out.target = out.storage;
  }
}

}  // namespace gantry::proxy
