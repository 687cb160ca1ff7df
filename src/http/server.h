// A small HTTP/1.1 server for the control plane (the agent API). Runs on the io_context it is
// given; the handler is called on that thread, one request at a time per connection, and
// answers through `respond`, at once or later (a blocking query parks until its data changes).
#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "http/message.h"

namespace boost::asio {
class io_context;
}

namespace gantry::http {

using Respond = std::function<void(Response)>;  // call once, on the server's thread
using Handler = std::function<void(Request, Respond)>;

class Server {
 public:
  // Binds now (port 0 picks a free port) so that the caller learns the address at once.
  static absl::StatusOr<std::unique_ptr<Server>> Create(boost::asio::io_context& io,
                                                        const HostPort& listen, Handler handler);
  ~Server();

  const HostPort& address() const { return address_; }
  void Start();
  void Stop();  // stops accepting; open connections end with the io_context

  struct State;  // defined in server.cc

 private:
  Server(std::shared_ptr<State> state, HostPort address);
  std::shared_ptr<State> state_;
  HostPort address_;
};

}  // namespace gantry::http
