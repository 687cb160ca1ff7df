#include "http/server.h"

#include "core/strings.h"
#include "http/server_connection.h"
#include "net/listen.h"

namespace gantry::http {

using server_internal::Connection;
using server_internal::Sweep;

std::string SerializeHead(const Response& response, std::optional<size_t> content_length,
                          ConnectionField connection) {
  // Plain appends (no format strings): this runs for every answer, the hot publish path's too.
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  AppendNumber(out, static_cast<uint64_t>(response.status));
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (h1::EqualsIgnoreCase(name, "content-length") ||
        h1::EqualsIgnoreCase(name, "transfer-encoding") ||
        h1::EqualsIgnoreCase(name, "connection")) {
      continue;  // framing is the server's business
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  if (!bodiless) {
    if (content_length) {
      out += "Content-Length: ";
      AppendNumber(out, *content_length);
      out += "\r\n";
    } else {
      out += "Transfer-Encoding: chunked\r\n";
    }
  }
  if (connection == ConnectionField::kClose) out += "Connection: close\r\n";
  if (connection == ConnectionField::kKeepAlive) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  return out;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(net::asio::io_context& io,
                                                       const HostPort& listen, Handler handler) {
  auto acceptor = net::Listen(io, listen, {});
  if (!acceptor.ok()) return acceptor.status();
  auto state = std::make_shared<State>(io.get_executor());
  HostPort bound = listen;
  bound.port = (*acceptor)->local_endpoint().port();
  state->acceptor = std::move(*acceptor);
  state->handler = std::move(handler);
  return std::unique_ptr<Server>(new Server(std::move(state), bound));
}

Server::Server(std::shared_ptr<State> state, HostPort address)
    : state_(std::move(state)), address_(std::move(address)) {}

Server::~Server() { Stop(); }

void Server::Start() {
  // The callback owns the state, and so the acceptor, for as long as the loop runs.
  auto serve = [state = state_](net::tcp::socket socket) {
    boost::system::error_code ignored;
    socket.set_option(net::tcp::no_delay(true), ignored);
    auto connection = std::make_shared<Connection>(std::move(socket), state);
    net::asio::co_spawn(state->acceptor->get_executor(), connection->Serve(), net::asio::detached);
  };
  net::asio::co_spawn(state_->acceptor->get_executor(), net::AcceptLoop(*state_->acceptor, serve),
                      net::asio::detached);
  net::asio::co_spawn(state_->acceptor->get_executor(), Sweep(state_), net::asio::detached);
}

void Server::Stop() {
  boost::system::error_code ignored;
  if (state_ && state_->acceptor->is_open()) state_->acceptor->close(ignored);
  if (state_) state_->sweep.cancel();
}

}  // namespace gantry::http
