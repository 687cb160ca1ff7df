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
  bool close = false;  // the request cannot be trusted: close after answering
};

void RouteRequest(const Snapshot& snapshot, ListenerKind kind, const http::h1::RequestHead& head,
                  RoutedRequest& out);

}  // namespace gantry::proxy
