#include "http/server.h"

#include <chrono>

#include "http/beast.h"
#include "net/listen.h"

namespace gantry::http {

struct Server::State {
  std::unique_ptr<net::tcp::acceptor> acceptor;
  Handler handler;
};

namespace {

// Suspends the connection until the handler responds. If it never does (the agent is shutting
// down), the connection's coroutine is destroyed with the loop.
net::Awaitable<Response> AskHandler(Server::State& state, Request request) {
  // A coroutine, so that `request` lives until the initiation below runs (at the co_await).
  co_return co_await net::asio::async_initiate<decltype(net::asio::use_awaitable), void(Response)>(
      [&state, &request](auto completion) {
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        state.handler(std::move(request), [shared](Response response) {
          auto executor = net::asio::get_associated_executor(*shared);
          net::asio::post(executor, [shared, response = std::move(response)]() mutable {
            (*shared)(std::move(response));
          });
        });
      },
      net::asio::use_awaitable);
}

net::Awaitable<void> ServeConnection(net::tcp::socket socket,
                                     std::shared_ptr<Server::State> state) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    stream.expires_after(std::chrono::seconds(60));
    BeastRequest request;
    beast::error_code ec = co_await ReadRequest(stream, buffer, request);
    if (ec) {
      if (auto status = StatusForReadError(ec)) co_await WriteErrorAndClose(stream, *status);
      co_return;
    }
    bool keep_alive = request.keep_alive();
    Response answer = co_await AskHandler(*state, ToPlain(request));
    BeastResponse response = ToBeast(answer, request.version(), keep_alive);
    if (request.method() == bhttp::verb::head) response.body().clear();
    stream.expires_after(std::chrono::seconds(30));
    auto [write_ec, bytes] = co_await bhttp::async_write(stream, response, net::kUseTuple);
    if (write_ec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Create(net::asio::io_context& io,
                                                       const HostPort& listen, Handler handler) {
  auto acceptor = net::Listen(io, listen, {});
  if (!acceptor.ok()) return acceptor.status();
  auto state = std::make_shared<State>();
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
    net::asio::co_spawn(state->acceptor->get_executor(), ServeConnection(std::move(socket), state),
                        net::asio::detached);
  };
  net::asio::co_spawn(state_->acceptor->get_executor(), net::AcceptLoop(*state_->acceptor, serve),
                      net::asio::detached);
}

void Server::Stop() {
  boost::system::error_code ignored;
  if (state_ && state_->acceptor->is_open()) state_->acceptor->close(ignored);
}

}  // namespace gantry::http
