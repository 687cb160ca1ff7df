// Where a request goes: the cluster its listener and host or path name, and the target and
// authority to send upstream (absolute-form targets and strip_prefix applied). Pure: reads
// a snapshot and a parsed head. Internal to proxy/.
#pragma once

#include <string>
#include <string_view>

#include "http/h1_head.h"
#include "proxy/snapshot.h"
#include "proxy/worker.h"

namespace gantry::proxy {

struct RoutedRequest {
  const Cluster* cluster = nullptr;
  const Route* route = nullptr;  // the gateway route that matched (null on the mesh)
  std::string_view target;       // to send upstream
  std::string_view host;         // the authority to send as Host
  std::string storage;           // backs `target` when it had to be rebuilt
  // When there is no cluster: the answer to give.
  int status = 0;
  std::string_view code;
  std::string message;
  bool close = false;         // the request cannot be trusted: close after answering
  std::string allow;          // 405: the methods the route takes ("GET, POST")
  int64_t retry_after_s = 0;  // 429: when to come back
};

void RouteRequest(const Snapshot& snapshot, ListenerKind kind, const http::h1::RequestHead& head,
                  RoutedRequest& out);
// The matched route's own limits: its methods (405) and rate limit (429, keyed by `rate_key`:
// the client IP or the header the limit names). False with `out` holding the answer.
bool AdmitByRoute(const Route& route, std::string_view method, std::string_view rate_key,
                  int64_t now_ms, size_t worker, RoutedRequest& out);

// The same for a request known by its target and authority (HTTP/2's :path and :authority).
void RouteTarget(const Snapshot& snapshot, ListenerKind kind, std::string_view target,
                 std::string_view authority, RoutedRequest& out);

}  // namespace gantry::proxy
