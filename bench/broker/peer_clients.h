// Just enough of the peers' wire protocols for bench/broker, spoken on Asio coroutines so that
// every system is driven by the same one-threaded client: NATS (text protocol, JetStream through
// its $JS.API subjects and publish acknowledgements) and Redis (RESP2 commands and replies).
#pragma once

#include <string>
#include <vector>

#include "core/address.h"
#include "net/asio.h"

namespace gantry::bench {

// One NATS connection. Reads are not shared: one coroutine reads a connection at a time.
class NatsConn {
 public:
  static net::asio::awaitable<NatsConn> Open(const HostPort& addr);

  struct Msg {
    std::string subject;
    std::string reply;
    std::string payload;
  };
  net::asio::awaitable<void> Pub(const std::string& subject, const std::string& reply,
                                 const std::string& payload);
  net::asio::awaitable<void> Sub(const std::string& subject, int sid);
  // The next MSG (PINGs are answered on the way; -ERR throws).
  net::asio::awaitable<Msg> Next();
  // Publishes to `subject` and waits for the reply on this connection's inbox.
  net::asio::awaitable<std::string> Request(const std::string& subject, const std::string& payload);

 private:
  explicit NatsConn(net::tcp::socket socket) : socket_(std::move(socket)) {}
  net::tcp::socket socket_;
  std::string buffer_;
  std::string inbox_;
};

// A RESP2 reply: kind '+', '-', ':', '$' (bulk; nil when `nil`), '*' (array in `items`).
struct RespValue {
  char kind = '+';
  bool nil = false;
  std::string text;  // simple string, error, integer digits or bulk string
  std::vector<RespValue> items;
};

std::string RespCommand(const std::vector<std::string>& args);
net::asio::awaitable<RespValue> ReadResp(net::tcp::socket& socket, std::string& buffer);

}  // namespace gantry::bench
