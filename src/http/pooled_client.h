// Requests to one server over kept-alive connections, for control-plane calls that repeat at a
// high rate (push delivery through the mesh): no connect and close per request. One request per
// connection at a time; a connection goes back to the idle list after a complete response that
// allows it. A request that fails on a reused connection before any answer came (the server
// closed it while idle) is sent once more on a new one. Control-plane thread only.
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "core/duration.h"
#include "http/message.h"

namespace boost::asio {
class io_context;
}

namespace gantry::http {

class PooledClient {
 public:
  PooledClient(boost::asio::io_context& io, HostPort server, size_t max_idle = 64);
  ~PooledClient();

  // `done` is called on the loop exactly once (not after the client is destroyed). A "Host"
  // in `request.headers` replaces the server's address (to reach a service through the mesh).
  void Fetch(Request request, Duration timeout, std::function<void(absl::StatusOr<Response>)> done);

  struct State;  // defined in pooled_client.cc

 private:
  std::shared_ptr<State> state_;
};

}  // namespace gantry::http
