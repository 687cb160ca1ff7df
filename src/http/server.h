// A small HTTP/1.1 server for the control plane (the agent API). Runs on the io_context it is
// given; the handler is called on that thread, one request at a time per connection, and
// answers through `respond`, at once or later (a blocking query parks until its data changes),
// with a whole body or a stream (Response::stream, sent chunked). Requests are read with the
// data plane's strict parser (http/h1_head.h): malformed ones get their 4xx and a closed
// connection. Limits: 16 KiB of head, 8 MiB of body, 60 s of silence.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/address.h"
#include "http/message.h"

namespace boost::asio {
class io_context;
}

namespace gantry::http {

using Respond = std::function<void(Response)>;  // call once, on the server's thread
using Handler = std::function<void(Request, Respond)>;

// The response head as sent: status line, the handler's fields (framing fields are the
// server's own), then Content-Length (or chunked when `content_length` is absent).
enum class ConnectionField { kNone, kClose, kKeepAlive };
std::string SerializeHead(const Response& response, std::optional<size_t> content_length,
                          ConnectionField connection);

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
